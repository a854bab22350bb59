package proxy

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/proxyspec/proxyspec/proxy/h1"
	"github.com/proxyspec/proxyspec/proxy/internal/fault"
)

// switchProtocols handles a 101 from the origin. The tunnel opens only if
// the client asked to upgrade and the 101 names protocols it offered
// (RFC 9110 §7.8: a server MUST NOT switch to a protocol the client did not
// offer; §15.2.2: a 101 MUST carry Upgrade). Otherwise: 502, and the
// upstream connection, now in an unknown state, is dropped.
func (c *clientConn) switchProtocols(ex *exchange) bool {
	switch faults := c.p.faults; {
	case !ex.upgrade && !faults.Has(fault.UpgradeUnsolicited101),
		ex.upgrade && !upgradeOffered(c.resp.Fields, c.req.Fields) && !faults.Has(fault.UpgradeProtocolUnchecked):
		return c.badGateway(ex, "unexpected 101 from upstream")
	}
	// The request (and its body) must be complete before the connection
	// changes protocol.
	if res := c.waitBody(ex); res.readErr != nil || res.writeErr != nil {
		return c.abandon(ex)
	}
	h := respHead{status: 101, reason: c.resp.Reason, out: outTunnel, length: -1}
	if c.p.faults.Has(fault.Upgrade101StaysHTTP) {
		// Relay the 101 as an ordinary response without content and carry on.
		h.out = outNone
		b := appendResponseHead(c.scratch[:0], &c.resp, &h, c.p.faults)
		c.scratch = b[:0]
		ex.status = 101
		if _, err := c.bw.Write(b); err != nil || c.bw.Flush() != nil {
			return c.abandon(ex)
		}
		return c.finish(ex, h1.Framing{Kind: h1.BodyNone})
	}
	return c.openTunnel(ex, &h)
}

// connectTunnel handles a 2xx to CONNECT: the connection becomes a tunnel
// (RFC 9112 §6.3 step 2). Content-Length and Transfer-Encoding are not
// forwarded (RFC 9110 §9.3.6: a 2xx to CONNECT MUST NOT carry them).
func (c *clientConn) connectTunnel(ex *exchange) bool {
	h := respHead{status: c.resp.Status, reason: c.resp.Reason, out: outTunnel, length: -1}
	return c.openTunnel(ex, &h)
}

func (c *clientConn) openTunnel(ex *exchange, h *respHead) bool {
	ex.status = h.status
	b := appendResponseHead(c.scratch[:0], &c.resp, h, c.p.faults)
	c.scratch = b[:0]
	if _, err := c.bw.Write(b); err != nil {
		return c.abandon(ex)
	}
	if err := c.bw.Flush(); err != nil {
		return c.abandon(ex)
	}
	return c.runTunnel(ex)
}

// runTunnel turns both connections into a tunnel once the answer that
// opens it was sent, and closes both when it ends.
func (c *clientConn) runTunnel(ex *exchange) bool {
	up := ex.up
	// Bytes already buffered on either side belong to the tunnel: what the
	// client sent after the request, what the origin sent after the 101.
	tunnel(c.nc, up.tc.Conn, c.rd.Buffered(), up.rd.Buffered(), c.l.opts.IdleTimeout)
	c.setUpstream(nil)
	up.close() // never reused after a tunnel
	c.nc.Close()
	return false
}

// upgradeOffered reports whether the 101's Upgrade field is present and
// lists only protocols the request offered (compared case-insensitively).
func upgradeOffered(resp, req []h1.Field) bool {
	n := 0
	ok := true
	for i := range resp {
		if resp[i].Key != h1.KeyUpgrade {
			continue
		}
		for _, p := range splitList(resp[i].Value) {
			n++
			if !listHas(req, h1.KeyUpgrade, p) {
				ok = false
			}
		}
	}
	return n > 0 && ok
}

// splitList splits a list value into trimmed non-empty elements.
func splitList(v []byte) [][]byte {
	var out [][]byte
	for len(v) > 0 {
		end := 0
		for end < len(v) && v[end] != ',' {
			end++
		}
		if e := trimOWS(v[:end]); len(e) > 0 {
			out = append(out, e)
		}
		if end == len(v) {
			break
		}
		v = v[end+1:]
	}
	return out
}

func listHas(fields []h1.Field, key h1.Key, elem []byte) bool {
	for i := range fields {
		if fields[i].Key != key {
			continue
		}
		for _, e := range splitList(fields[i].Value) {
			if h1.EqualFold(e, string(elem)) {
				return true
			}
		}
	}
	return false
}

// tunnel relays bytes both ways until both directions ended. A clean EOF on
// one side is propagated as a half-close (CloseWrite) to the other; an
// error closes both. The tunnel ends after idle without traffic in either
// direction.
func tunnel(client, upstream net.Conn, toUpstream, toClient []byte, idle time.Duration) {
	var last atomic.Int64
	last.Store(time.Now().UnixNano())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		pipe(upstream, client, toUpstream, idle, &last)
	}()
	pipe(client, upstream, toClient, idle, &last)
	wg.Wait()
}

// pipe copies src to dst, first writing pending.
func pipe(dst, src net.Conn, pending []byte, idle time.Duration, last *atomic.Int64) {
	fail := func() {
		dst.Close()
		src.Close()
	}
	if len(pending) > 0 {
		dst.SetWriteDeadline(time.Now().Add(idle))
		if _, err := dst.Write(pending); err != nil {
			fail()
			return
		}
	}
	bp := h1.GetBuffer(0)
	defer h1.PutBuffer(bp)
	buf := *bp
	for {
		src.SetReadDeadline(time.Now().Add(idle))
		n, err := src.Read(buf)
		if n > 0 {
			last.Store(time.Now().UnixNano())
			dst.SetWriteDeadline(time.Now().Add(idle))
			if _, werr := dst.Write(buf[:n]); werr != nil {
				fail()
				return
			}
		}
		if err == nil {
			continue
		}
		if isTimeout(err) && time.Since(time.Unix(0, last.Load())) < idle {
			continue // the other direction is active
		}
		if err == io.EOF {
			if cw, ok := dst.(interface{ CloseWrite() error }); ok {
				cw.CloseWrite()
				return
			}
		}
		fail()
		return
	}
}
