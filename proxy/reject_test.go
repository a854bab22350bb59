package proxy

import (
	"strings"
	"testing"
	"time"
)

// TestRejects: each malformed request gets a complete error response with
// Connection: close, the connection is closed, and the origin sees nothing.
func TestRejects(t *testing.T) {
	o := echoOrigin(t)
	p := startProxy(t, o.addr(), func(o *Options) {
		o.Listeners[0].MaxFields = 10
		o.Listeners[0].MaxHeadBytes = 4096
		o.Listeners[0].MaxTargetBytes = 100
		o.Listeners[0].MaxBodyBytes = 10
	})
	tests := []struct {
		name, req string
		status    int
	}{
		{"bare LF", "GET / HTTP/1.1\nHost: a\n\n", 400},
		{"bare CR", "GET / HTTP/1.1\rHost: a\r\n\r\n", 400},
		{"obs-fold", "GET / HTTP/1.1|Host: a|X: a| b||", 400},
		{"space after start line", "GET / HTTP/1.1| Host: a||", 400},
		{"space before colon", "GET / HTTP/1.1|Host : a||", 400},
		{"NUL", "GET / HTTP/1.1|Host: a|X: \x00||", 400},
		{"CTL", "GET / HTTP/1.1|Host: a|X: \x1b||", 400},
		{"no host", "GET / HTTP/1.1|X: a||", 400},
		{"two hosts", "GET / HTTP/1.1|Host: a|Host: b||", 400},
		{"bad host", "GET / HTTP/1.1|Host: a b||", 400},
		{"http/2.0", "GET / HTTP/2.0|Host: a||", 505},
		{"lowercase version", "GET / http/1.1|Host: a||", 400},
		{"HTTP/0.9", "GET /\r\n", 400},
		{"cl and te", "POST / HTTP/1.1|Host: a|Content-Length: 5|Transfer-Encoding: chunked||0||", 400},
		{"cl list", "POST / HTTP/1.1|Host: a|Content-Length: 5, 5||hello", 400},
		{"cl twice", "POST / HTTP/1.1|Host: a|Content-Length: 5|Content-Length: 5||hello", 400},
		{"cl sign", "POST / HTTP/1.1|Host: a|Content-Length: +5||hello", 400},
		{"te gzip", "POST / HTTP/1.1|Host: a|Transfer-Encoding: gzip, chunked||0||", 501},
		{"te not final", "POST / HTTP/1.1|Host: a|Transfer-Encoding: chunked, gzip||0||", 400},
		{"te twice", "POST / HTTP/1.1|Host: a|Transfer-Encoding: chunked|Transfer-Encoding: chunked||0||", 400},
		{"te http10", "POST / HTTP/1.0|Transfer-Encoding: chunked||0||", 400},
		{"te only empty elements", "POST / HTTP/1.1|Host: a|Transfer-Encoding: ,,||0||", 400},
		{"bad chunk size", "POST / HTTP/1.1|Host: a|Transfer-Encoding: chunked||zz|", 400},
		{"chunk bare LF", "POST / HTTP/1.1|Host: a|Transfer-Encoding: chunked||1\nx|0||", 400},
		{"chunk data not CRLF", "POST / HTTP/1.1|Host: a|Transfer-Encoding: chunked||1|xx|0||", 400},
		{"too many fields", "GET / HTTP/1.1|Host: a|" + strings.Repeat("X: y|", 10) + "|", 431},
		{"head too large", "GET / HTTP/1.1|Host: a|X: " + strings.Repeat("y", 5000) + "||", 431},
		{"target too long", "GET /" + strings.Repeat("a", 101) + " HTTP/1.1|Host: a||", 414},
		{"body too large cl", "POST / HTTP/1.1|Host: a|Content-Length: 11||hello world", 413},
		{"body too large chunked", "POST / HTTP/1.1|Host: a|Transfer-Encoding: chunked||b|hello world|0||", 413},
		{"connect bad port", "CONNECT a:x HTTP/1.1|Host: a:x||", 400},
		{"connect no port", "CONNECT a HTTP/1.1|Host: a||", 400},
		{"asterisk GET", "GET * HTTP/1.1|Host: a||", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(o.requests())
			c := dial(t, p.Addr(0))
			req := tt.req
			if !strings.Contains(req, "\n") {
				req = crlf(req)
			}
			c.send(req)
			r := c.response("GET")
			if r.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", r.StatusCode, tt.status)
			}
			if !r.Close || r.ContentLength != int64(len(body(t, r))) {
				t.Errorf("close=%v content-length=%d", r.Close, r.ContentLength)
			}
			c.expectClosed()
			// A chunked body over the limit is streamed until the limit
			// is hit, so its start may reach the origin; nothing else may.
			if tt.name != "body too large chunked" && len(o.requests()) != before {
				t.Errorf("origin saw the request")
			}
		})
	}
}

func TestConnectDisabled(t *testing.T) {
	o := echoOrigin(t)
	p := startProxy(t, o.addr(), nil)
	c := dial(t, p.Addr(0))
	c.send(crlf("CONNECT example.com:443 HTTP/1.1|Host: example.com:443||GET / HTTP/1.1|Host: a||"))
	r := c.response("CONNECT")
	if r.StatusCode != 405 || r.Header.Get("Allow") == "" || r.Header.Get("Content-Length") != "0" || !r.Close {
		t.Fatalf("got %d Allow=%q CL=%q close=%v", r.StatusCode, r.Header.Get("Allow"), r.Header.Get("Content-Length"), r.Close)
	}
	c.expectClosed()
	if o.connCount() != 0 {
		t.Error("CONNECT reached the upstream")
	}
}

func TestConnectAllowed(t *testing.T) {
	o := newOrigin(t, func(c *originConn) {
		r, err := c.read()
		if err != nil || r.req.Method != "CONNECT" {
			return
		}
		c.send("HTTP/1.1 200 Connection Established\r\nContent-Length: 10\r\n\r\nfrom-origin")
		buf := make([]byte, 5)
		if _, err := c.br.Read(buf); err == nil {
			c.send("echo:" + string(buf))
		}
	})
	p := startProxy(t, o.addr(), func(o *Options) { o.Listeners[0].AllowConnect = true })
	c := dial(t, p.Addr(0))
	c.send(crlf("CONNECT example.com:443 HTTP/1.1|Host: example.com:443||"))
	head := c.rawHead()
	if !strings.HasPrefix(head, "HTTP/1.1 200 Connection Established\r\n") || strings.Contains(head, "Content-Length") {
		t.Fatalf("head %q", head)
	}
	if got := c.readN(11); got != "from-origin" {
		t.Errorf("tunnel bytes %q", got)
	}
	c.send("ping!")
	if got := c.readN(10); got != "echo:ping!" {
		t.Errorf("tunnel echo %q", got)
	}
	if h := o.requests()[0].head; !strings.HasPrefix(h, crlf("CONNECT example.com:443 HTTP/1.1|Host: example.com:443|")) {
		t.Errorf("forwarded %q", h)
	}
	c.c.Close()
}

func TestConnectWithContentRejected(t *testing.T) {
	o := echoOrigin(t)
	p := startProxy(t, o.addr(), func(o *Options) { o.Listeners[0].AllowConnect = true })
	c := dial(t, p.Addr(0))
	c.send(crlf("CONNECT a:443 HTTP/1.1|Host: a:443|Content-Length: 2||hi"))
	if r := c.response("CONNECT"); r.StatusCode != 400 {
		t.Errorf("status %d", r.StatusCode)
	}
}

func TestLingeringCloseDeliversAnswer(t *testing.T) {
	// The client keeps sending after a rejected head; it must still read
	// the 400 rather than a reset.
	o := echoOrigin(t)
	p := startProxy(t, o.addr(), nil)
	c := dial(t, p.Addr(0))
	c.send("GET / HTTP/1.1\nHost: a\n\n" + strings.Repeat("x", 64<<10))
	r := c.response("GET")
	if r.StatusCode != 400 {
		t.Fatal(r.Status)
	}
}

func TestHeaderReadTimeout(t *testing.T) {
	o := echoOrigin(t)
	p := startProxy(t, o.addr(), func(o *Options) { o.Listeners[0].HeaderReadTimeout = 200 * time.Millisecond })
	// Slowloris: part of a head, then nothing.
	c := dial(t, p.Addr(0))
	c.send("GET / HTTP/1.1\r\nHost: a\r\n")
	if r := c.response("GET"); r.StatusCode != 408 {
		t.Errorf("status %d", r.StatusCode)
	}
	c.expectClosed()
	// Nothing at all: closed without a response.
	c2 := dial(t, p.Addr(0))
	c2.expectClosed()
}

func TestIdleTimeout(t *testing.T) {
	o := echoOrigin(t)
	p := startProxy(t, o.addr(), func(o *Options) { o.Listeners[0].IdleTimeout = 200 * time.Millisecond })
	c := dial(t, p.Addr(0))
	c.send(crlf("GET / HTTP/1.1|Host: a||"))
	c.response("GET")
	start := time.Now()
	c.expectClosed()
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("closed after %v", d)
	}
}
