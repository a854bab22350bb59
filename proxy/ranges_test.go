package proxy

import (
	"io"
	"mime"
	"mime/multipart"
	"strings"
	"testing"
)

func rangeOrigin(t *testing.T, extra string) *origin {
	const rep = "0123456789"
	return newOrigin(t, func(c *originConn) {
		for {
			r, err := c.read()
			if err != nil {
				return
			}
			if strings.HasPrefix(r.req.URL.Path, "/chunked") {
				c.send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\n" + rep + "\r\n0\r\n\r\n")
				continue
			}
			c.send("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: identity\r\nETag: \"v1\"\r\n" + extra +
				"Content-Length: 10\r\n\r\n" + rep)
		}
	})
}

func TestRangeFilter(t *testing.T) {
	o := rangeOrigin(t, "")
	p := startProxy(t, o.addr(), func(o *Options) { o.RangeFilter = true })
	c := dial(t, p.Addr(0))
	get := func(rangeLine string) string {
		c.send("GET / HTTP/1.1\r\nHost: a\r\n" + rangeLine + "\r\n")
		return c.rawHead()
	}

	h := get("Range: bytes=2-4\r\n")
	if !strings.HasPrefix(h, "HTTP/1.1 206 ") || !strings.Contains(h, "Content-Range: bytes 2-4/10\r\n") ||
		!strings.Contains(h, "Content-Length: 3\r\n") {
		t.Fatalf("single head %q", h)
	}
	if b := c.readN(3); b != "234" {
		t.Errorf("single body %q", b)
	}

	h = get("Range: bytes=20-\r\n")
	if !strings.HasPrefix(h, "HTTP/1.1 416 ") || !strings.Contains(h, "Content-Range: bytes */10\r\n") ||
		!strings.Contains(h, "Content-Length: 0\r\n") || strings.Contains(h, "Content-Type") ||
		strings.Contains(h, "Content-Encoding") || strings.Contains(h, "Transfer-Encoding") {
		t.Fatalf("416 head %q", h)
	}

	h = get("Range: bytes=0-1,5-6\r\n")
	if !strings.HasPrefix(h, "HTTP/1.1 206 ") {
		t.Fatalf("multi head %q", h)
	}
	ct, params, _ := mime.ParseMediaType(headerValue(h, "Content-Type"))
	if ct != "multipart/byteranges" {
		t.Fatalf("multi content-type %q", ct)
	}
	n := atoi(headerValue(h, "Content-Length"))
	mr := multipart.NewReader(strings.NewReader(c.readN(n)), params["boundary"])
	var parts []string
	for {
		part, err := mr.NextPart()
		if err != nil {
			break
		}
		b, _ := io.ReadAll(part)
		parts = append(parts, part.Header.Get("Content-Range")+"="+string(b))
	}
	if strings.Join(parts, ";") != "bytes 0-1/10=01;bytes 5-6/10=56" {
		t.Errorf("parts %q", parts)
	}

	for _, ignored := range []string{"Range: bits=1-2\r\n", "Range: bytes=x\r\n", "Range: bytes=1-2\r\nIf-Range: \"old\"\r\n",
		"Range: bytes=1-2\r\nRange: bytes=3-4\r\n", ""} {
		h = get(ignored)
		if !strings.HasPrefix(h, "HTTP/1.1 200 ") || !strings.Contains(h, "Content-Length: 10\r\n") {
			t.Fatalf("%q: head %q", ignored, h)
		}
		if b := c.readN(10); b != "0123456789" {
			t.Errorf("%q: body %q", ignored, b)
		}
	}
	h = get("Range: bytes=1-2\r\nIf-Range: \"v1\"\r\n")
	if !strings.HasPrefix(h, "HTTP/1.1 206 ") {
		t.Errorf("If-Range match: %q", h)
	}
	c.readN(2)
	// Unknown length: not filtered.
	c.send("GET /chunked HTTP/1.1\r\nHost: a\r\nRange: bytes=1-2\r\n\r\n")
	if r := c.response("GET"); r.StatusCode != 200 || body(t, r) != "0123456789" {
		t.Errorf("chunked: %d", r.StatusCode)
	}
	if n := o.connCount(); n != 1 {
		t.Errorf("%d upstream connections; small representations are drained for reuse", n)
	}
}

func TestRangeFilterDisabled(t *testing.T) {
	o := rangeOrigin(t, "")
	p := startProxy(t, o.addr(), nil)
	c := dial(t, p.Addr(0))
	c.send("GET / HTTP/1.1\r\nHost: a\r\nRange: bytes=2-4\r\n\r\n")
	if r := c.response("GET"); r.StatusCode != 200 {
		t.Errorf("status %d", r.StatusCode)
	}
}

func TestRangeFilterObsTextContentType(t *testing.T) {
	// obs-text in Content-Type is copied into every part.
	o := newOrigin(t, func(c *originConn) {
		if _, err := c.read(); err == nil {
			c.send("HTTP/1.1 200 OK\r\nContent-Type: a\xffb\r\nContent-Length: 10\r\n\r\n0123456789")
		}
	})
	p := startProxy(t, o.addr(), func(o *Options) { o.RangeFilter = true })
	c := dial(t, p.Addr(0))
	c.send("GET / HTTP/1.1\r\nHost: a\r\nRange: bytes=0-1,4-5\r\n\r\n")
	r := c.response("GET")
	if r.StatusCode != 206 || !strings.Contains(body(t, r), "Content-Type: a\xffb\r\n") {
		t.Errorf("status %d", r.StatusCode)
	}
}

func headerValue(head, name string) string {
	for _, line := range strings.Split(head, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func TestRangeFilterPerRoute(t *testing.T) {
	o := rangeOrigin(t, "")
	p := startProxy(t, o.addr(), func(opt *Options) {
		opt.Routes = []Route{{PathPrefix: "/r", RangeFilter: true, Upstream: UpstreamOptions{Addr: o.addr()}}}
	})
	c := dial(t, p.Addr(0))
	for path, want := range map[string]int{"/r": 206, "/other": 200} {
		c.send("GET " + path + " HTTP/1.1\r\nHost: a\r\nRange: bytes=0-0\r\n\r\n")
		if r := c.response("GET"); r.StatusCode != want {
			t.Errorf("%s: status %d, want %d", path, r.StatusCode, want)
		}
	}
}
