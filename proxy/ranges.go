package proxy

import (
	"bytes"
	"io"

	"github.com/proxyspec/proxyspec/proxy/h1"
	"github.com/proxyspec/proxyspec/proxy/internal/fault"
	"github.com/proxyspec/proxyspec/proxy/rangefilter"
)

const (
	// maxMultipartBuffer bounds the representation buffered to build a
	// multipart/byteranges response; larger ones are sent whole (200).
	maxMultipartBuffer = 8 << 20
	// maxDrain bounds the upstream bytes read and discarded after a range
	// was served, to keep the connection reusable.
	maxDrain = 64 << 10
)

// serveRange applies the range filter (RFC 9110 §14) to a 200 response of
// known length to a GET with one Range field. It reports whether it handled
// the response and, if so, whether the client connection stays open.
func (c *clientConn) serveRange(ex *exchange, h *respHead, rf h1.Framing) (handled, keep bool) {
	req, resp := &c.req, &c.resp
	faults := c.p.faults
	size := rf.Length
	// RFC 9110 §14.2: only GET has range semantics.
	method := string(req.Method)
	if faults.Has(fault.RangeOnPost) {
		method = "GET"
	}
	// Only a full representation (a 200 without Content-Range) is sliced.
	if method != "GET" || h1.Count(req.Fields, h1.KeyRange) != 1 ||
		!faults.Has(fault.RangeOnPartial) && (resp.Status != 200 || h1.Count(resp.Fields, h1.KeyContentRange) > 0) {
		return false, false
	}
	rv, _ := h1.Get(req.Fields, h1.KeyRange)
	ifRange, _ := h1.Get(req.Fields, h1.KeyIfRange)
	if faults.Has(fault.IfRangeIgnored) {
		ifRange = nil
	}
	etag, _ := h1.Get(resp.Fields, h1.KeyETag)
	lm, _ := h1.Get(resp.Fields, h1.KeyLastModified)
	d := rangefilter.Decide(method, string(rv), true, string(ifRange), string(etag), string(lm), size)
	if d.Kind == rangefilter.Multi && faults.Has(fault.RangeMultiFirstOnly) {
		d = rangefilter.Decision{Kind: rangefilter.Single, Ranges: d.Ranges[:1]}
	}

	var body []byte // Multi: the whole representation
	switch d.Kind {
	case rangefilter.Ignore:
		return false, false
	case rangefilter.Unsatisfiable:
		// RFC 9110 §15.5.17: 416 with Content-Range: bytes */size. The
		// representation's encoding and type do not describe an empty body.
		h.status, h.reason = 416, nil
		if faults.Has(fault.RangeUnsatisfiable206) {
			h.status = 206
		}
		h.drop = 1<<h1.KeyContentEncoding | 1<<h1.KeyContentType | 1<<h1.KeyAcceptRanges
		if !faults.Has(fault.Range416WithoutContentRange) {
			h.extra = []byte("Content-Range: " + rangefilter.UnsatisfiedRange(size) + "\r\n")
		}
		h.out, h.length = outLength, 0
	case rangefilter.Single:
		if faults.Has(fault.RangeEndExclusive) {
			d.Ranges[0].End-- // last-pos read as exclusive (bytes=10-10 selects nothing)
		}
		r := d.Ranges[0]
		h.status, h.reason = 206, nil
		h.extra = []byte("Content-Range: " + rangefilter.ContentRange(r, size) + "\r\n")
		h.out, h.length = outLength, r.End-r.Start+1
	case rangefilter.Multi:
		if size > maxMultipartBuffer {
			return false, false
		}
		body = make([]byte, size)
		if _, err := io.ReadFull(&c.rbody, body); err != nil {
			return true, c.abandon(ex)
		}
		ct, _ := h1.Get(resp.Fields, h1.KeyContentType)
		boundary := rangefilter.NewBoundary()
		n := rangefilter.MultipartLength(d.Ranges, string(ct), size, boundary)
		if n < 0 {
			// Cannot build the multipart body (e.g. an odd Content-Type):
			// send the representation whole.
			h.close = ex.closeClient
			return true, c.sendBuffered(ex, h, rf, body)
		}
		h.status, h.reason = 206, nil
		h.drop = 1 << h1.KeyContentType
		h.extra = []byte("Content-Type: " + rangefilter.MultipartContentType(boundary) + "\r\n")
		h.out, h.length = outLength, n
		h.close = ex.closeClient
		ex.status = h.status
		b := appendResponseHead(c.scratch[:0], resp, h, faults)
		c.scratch = b[:0]
		if _, err := c.bw.Write(b); err != nil {
			return true, c.abandon(ex)
		}
		if err := rangefilter.WriteMultipart(c.bw, bytes.NewReader(body), d.Ranges, string(ct), size, boundary); err != nil {
			return true, c.abandon(ex)
		}
		if err := c.bw.Flush(); err != nil {
			return true, c.abandon(ex)
		}
		return true, c.finish(ex, rf)
	}

	h.close = ex.closeClient
	ex.status = h.status
	b := appendResponseHead(c.scratch[:0], resp, h, faults)
	c.scratch = b[:0]
	if _, err := c.bw.Write(b); err != nil {
		return true, c.abandon(ex)
	}
	if d.Kind == rangefilter.Single {
		r := d.Ranges[0]
		if err := c.skipBody(r.Start); err != nil {
			return true, c.abandon(ex)
		}
		if err := c.copyBodyN(r.End - r.Start + 1); err != nil {
			return true, c.abandon(ex)
		}
	}
	if err := c.bw.Flush(); err != nil {
		return true, c.abandon(ex)
	}
	// Read the rest of a small representation so the upstream connection
	// stays reusable; a large one costs a new connection instead.
	if size <= maxDrain {
		c.skipBody(size)
	}
	return true, c.finish(ex, rf)
}

// sendBuffered sends the 200 response with a body already read.
func (c *clientConn) sendBuffered(ex *exchange, h *respHead, rf h1.Framing, body []byte) bool {
	ex.status = h.status
	b := appendResponseHead(c.scratch[:0], &c.resp, h, c.p.faults)
	c.scratch = b[:0]
	c.bw.Write(b)
	c.bw.Write(body)
	if err := c.bw.Flush(); err != nil {
		return c.abandon(ex)
	}
	return c.finish(ex, rf)
}

// skipBody discards up to n bytes of the response body.
func (c *clientConn) skipBody(n int64) error {
	for n > 0 {
		p, err := c.rbody.NextN(int(min(n, 1<<30)))
		n -= int64(len(p))
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// copyBodyN relays exactly n bytes of the response body.
func (c *clientConn) copyBodyN(n int64) error {
	for n > 0 {
		if !c.rbody.Ready() {
			if err := c.bw.Flush(); err != nil {
				return err
			}
		}
		p, err := c.rbody.NextN(int(min(n, 1<<30)))
		if len(p) > 0 {
			if _, werr := c.bw.Write(p); werr != nil {
				return werr
			}
			n -= int64(len(p))
		}
		if err == io.EOF && n == 0 {
			return nil
		}
		if err != nil {
			if err == io.EOF {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}
