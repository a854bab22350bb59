package wire

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// respParser parses a client connection's received bytes into responses, incrementally: each call
// to parse consumes every response that is complete so far.
//
// Framing (lenient, in this order): no body for a response to HEAD, 1xx, 204 and 304; chunked if
// the last Transfer-Encoding coding is chunked; Content-Length if the first one is all digits;
// otherwise the body runs until the connection closes. 1xx other than 101 are kept and attached to
// the next final response as Interim. After a 101, or a 2xx to CONNECT, everything else is tunnel bytes.
type respParser struct {
	pos      int // offset in Received of the first unparsed byte
	scan     int // where to resume looking for the end of the head at pos
	interim  []*Response
	tunnel   bool
	tunnelAt int
	failed   bool
}

// parse consumes complete responses from cc.Received. method(k) is the method of the request the
// k-th final response answers ("" if unknown). eof means no more bytes will arrive; final means the
// harness stopped reading: a response cut short is then recorded with Complete false, and an
// incomplete head becomes a ParseError.
func (p *respParser) parse(cc *ClientConn, method func(k int) string, eof, final bool) {
	for !p.failed && !p.tunnel && p.pos < len(cc.Received) {
		if !p.one(cc, method, eof, final) {
			break
		}
	}
	if p.tunnel && p.tunnelAt+len(cc.Tunnel) < len(cc.Received) {
		cc.Tunnel = append(cc.Tunnel, cc.Received[p.tunnelAt+len(cc.Tunnel):]...)
	}
	if p.failed {
		cc.Trailing = cc.Received[p.pos:len(cc.Received):len(cc.Received)]
	}
}

func (p *respParser) fail(cc *ClientConn, format string, args ...any) {
	p.failed = true
	cc.ParseError = fmt.Sprintf(format, args...)
}

// one parses one response at p.pos and reports whether it did.
func (p *respParser) one(cc *ClientConn, method func(k int) string, eof, final bool) bool {
	b := cc.Received[p.pos:]
	const proto = "HTTP/"
	if k := min(len(b), len(proto)); !bytes.Equal(b[:k], []byte(proto[:k])) {
		p.fail(cc, "not an HTTP response: starts with %q", clip(b, 32))
		return false
	}
	he := headEnd(b, p.scan)
	if he < 0 {
		p.scan = resumeFrom(b)
		switch {
		case len(b) > MaxHead:
			p.fail(cc, "response head larger than %d bytes", MaxHead)
		case eof || final:
			p.fail(cc, "incomplete response head")
		}
		return false
	}
	lines := splitLines(b[:he])
	r := &Response{}
	if !parseStatusLine(lines[0], r) {
		p.fail(cc, "malformed status line %q", clip([]byte(lines[0]), 64))
		return false
	}
	r.Fields = parseFields(lines[1:])
	r.Label, _ = firstField(r.Fields, "X-Proxyspec-Label")
	body := b[he:]
	used := 0
	partial := func() bool { // the body is cut short
		if !eof && !final {
			return false
		}
		used = len(body)
		return true
	}
	m := method(len(cc.Final))
	// RFC 9112 6.3 rule 2: a 2xx to CONNECT has no body; the connection becomes a tunnel.
	connected := m == "CONNECT" && r.Status >= 200 && r.Status < 300
	switch {
	case r.Status >= 100 && r.Status < 200, r.Status == 204, r.Status == 304, m == "HEAD", connected:
		r.Framing, r.Complete = "none", true
	case chunkedLast(r.Fields):
		r.Framing = "chunked"
		c := dechunk(body)
		switch {
		case c.Err != "":
			p.fail(cc, "malformed chunked body: %s", c.Err)
			return false
		case c.Done:
			used, r.Body, r.Complete = c.N, c.Body, true
		case partial():
			r.Body = c.Body
		default:
			return false
		}
	default:
		if n, ok := contentLength(r.Fields); ok {
			r.Framing = "length"
			switch {
			case int64(len(body)) >= n:
				used, r.Complete = int(n), true
			case partial():
			default:
				return false
			}
			r.Body = bytes.Clone(body[:used])
			break
		}
		r.Framing = "close"
		switch {
		case eof:
			r.Complete = true
			used = len(body)
		case final:
			used = len(body)
		default:
			return false
		}
		r.Body = bytes.Clone(body[:used])
	}
	r.Raw = bytes.Clone(b[:he+used])
	p.pos += he + used
	p.scan = 0
	if r.Status >= 100 && r.Status < 200 && r.Status != 101 {
		p.interim = append(p.interim, r)
		return true
	}
	r.Interim, p.interim = p.interim, nil
	cc.Final = append(cc.Final, r)
	if r.Status == 101 || connected {
		p.tunnel, p.tunnelAt = true, p.pos
	}
	return true
}

// parseStatusLine parses "HTTP/x.y SP 3DIGIT [SP reason]" leniently (any run of spaces or tabs
// separates the parts).
func parseStatusLine(line string, r *Response) bool {
	i := strings.IndexAny(line, ows)
	if i < 0 {
		return false
	}
	r.Version = line[:i]
	rest := strings.TrimLeft(line[i:], ows)
	code := rest
	if j := strings.IndexAny(rest, ows); j >= 0 {
		code, r.Reason = rest[:j], strings.TrimLeft(rest[j:], ows)
	}
	if len(code) != 3 {
		return false
	}
	n, err := strconv.Atoi(code)
	if err != nil || n < 100 || code[0] == '+' {
		return false
	}
	r.Status = n
	return true
}

func clip(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
