package proxy

import (
	"io"
	"strings"
	"testing"
)

// upgradeOrigin answers the first request with answer; after a 101 it
// echoes tunnel bytes prefixed with "echo:" until EOF, then half-closes.
func upgradeOrigin(t *testing.T, answer string) *origin {
	return newOrigin(t, func(c *originConn) {
		for {
			r, err := c.read()
			if err != nil {
				return
			}
			if strings.HasPrefix(r.req.URL.Path, "/plain") {
				c.send("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nplain")
				continue
			}
			c.send(crlf(answer))
			if !strings.HasPrefix(answer, "HTTP/1.1 101") {
				continue
			}
			buf := make([]byte, 64)
			for {
				n, err := c.br.Read(buf)
				if n > 0 {
					c.send("echo:" + string(buf[:n]))
				}
				if err != nil {
					c.Conn.(interface{ CloseWrite() error }).CloseWrite()
					return
				}
			}
		}
	})
}

func TestUpgradeTunnel(t *testing.T) {
	o := upgradeOrigin(t, "HTTP/1.1 101 Switching Protocols|Upgrade: WebSocket|Connection: Upgrade|X-A: 1||")
	p := startProxy(t, o.addr(), nil)
	c := dial(t, p.Addr(0))
	// The upgrade request has a body; the bytes after it are tunnel bytes.
	c.send(crlf("POST /ws HTTP/1.1|Host: a|Upgrade: websocket, foo/2|Connection: keep-alive, Upgrade|Content-Length: 3||abcHELLO"))
	head := c.rawHead()
	if !strings.HasPrefix(head, "HTTP/1.1 101 Switching Protocols\r\n") || !strings.Contains(head, "Upgrade: WebSocket\r\n") ||
		!strings.Contains(head, "Connection: upgrade\r\n") || !strings.Contains(head, "X-A: 1\r\n") {
		t.Fatalf("head %q", head)
	}
	if got := c.readN(10); got != "echo:HELLO" {
		t.Errorf("tunnel %q", got)
	}
	c.send("more")
	if got := c.readN(9); got != "echo:more" {
		t.Errorf("tunnel %q", got)
	}
	// Half-close propagates: client EOF -> origin EOF -> origin closes.
	c.c.(interface{ CloseWrite() error }).CloseWrite()
	if rest, _ := io.ReadAll(c.br); len(rest) != 0 {
		t.Errorf("after half-close: %q", rest)
	}
	r := o.requests()[0]
	if string(r.body) != "abc" || !strings.Contains(r.head, "Upgrade: websocket, foo/2\r\n") ||
		!strings.Contains(r.head, "Connection: upgrade\r\n") || !strings.Contains(r.head, "Content-Length: 3\r\n") {
		t.Errorf("forwarded %q body %q", r.head, r.body)
	}
}

func TestUpgradeRefusedKeepsHTTP(t *testing.T) {
	for answer, upgrade := range map[string]string{
		// RFC 9110 §7.8: a 426 names the acceptable protocols; the proxy regenerates them.
		"HTTP/1.1 426 Upgrade Required|Upgrade: websocket|Connection: Upgrade|Content-Length: 2||no": "websocket",
		"HTTP/1.1 200 OK|Content-Length: 2||no":                                                      "",
	} {
		o := upgradeOrigin(t, answer)
		p := startProxy(t, o.addr(), nil)
		c := dial(t, p.Addr(0))
		// The pipelined request after the upgrade request stays HTTP.
		c.send(crlf("GET /ws HTTP/1.1|Host: a|Upgrade: websocket|Connection: upgrade||GET /plain HTTP/1.1|Host: a||"))
		r := c.response("GET")
		if body(t, r) != "no" || r.Header.Get("Upgrade") != upgrade {
			t.Errorf("%q: first response %d %v", answer, r.StatusCode, r.Header)
		}
		if b := body(t, c.response("GET")); b != "plain" {
			t.Errorf("%q: second response %q", answer, b)
		}
		if n := o.connCount(); n != 1 {
			t.Errorf("%d upstream connections", n)
		}
	}
}

func TestUpgradeBad101(t *testing.T) {
	tests := []struct{ name, req, answer string }{
		{"not requested", "GET / HTTP/1.1|Host: a||", "HTTP/1.1 101 Switching Protocols|Upgrade: websocket|Connection: upgrade||"},
		{"other protocol", "GET / HTTP/1.1|Host: a|Upgrade: websocket|Connection: upgrade||", "HTTP/1.1 101 Switching Protocols|Upgrade: h2c|Connection: upgrade||"},
		{"no upgrade field", "GET / HTTP/1.1|Host: a|Upgrade: websocket|Connection: upgrade||", "HTTP/1.1 101 Switching Protocols|Connection: upgrade||"},
		{"upgrade without connection token", "GET / HTTP/1.1|Host: a|Upgrade: websocket||", "HTTP/1.1 101 Switching Protocols|Upgrade: websocket||"},
		{"http/1.0 upgrade ignored", "GET / HTTP/1.0|Upgrade: websocket|Connection: upgrade||", "HTTP/1.1 101 Switching Protocols|Upgrade: websocket||"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := upgradeOrigin(t, tt.answer)
			p := startProxy(t, o.addr(), nil)
			c := dial(t, p.Addr(0))
			c.send(crlf(tt.req) + "TUNNEL?")
			if r := c.response("GET"); r.StatusCode != 502 {
				t.Errorf("status %d", r.StatusCode)
			}
			c.expectClosed()
			if h := o.requests()[0].head; (strings.Contains(tt.name, "without") || strings.Contains(tt.name, "1.0")) &&
				(strings.Contains(h, "Upgrade") || strings.Contains(h, "Connection")) {
				t.Errorf("upgrade forwarded: %q", h)
			}
		})
	}
}

func TestExpectContinue(t *testing.T) {
	o := newOrigin(t, func(c *originConn) {
		// Read the head only, answer 100, then read the body.
		head := ""
		for {
			line, err := c.br.ReadString('\n')
			if err != nil {
				return
			}
			head += line
			if line == "\r\n" {
				break
			}
		}
		if !strings.Contains(head, "Expect: 100-continue") {
			c.send("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
			return
		}
		c.send("HTTP/1.1 100 Continue\r\n\r\n")
		buf := make([]byte, 5)
		io.ReadFull(c.br, buf)
		c.send("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n" + string(buf))
	})
	p := startProxy(t, o.addr(), nil)
	c := dial(t, p.Addr(0))
	c.send(crlf("PUT /up HTTP/1.1|Host: a|Expect: 100-continue|Content-Length: 5||"))
	if h := c.rawHead(); !strings.HasPrefix(h, "HTTP/1.1 100 Continue\r\n") {
		t.Fatalf("interim %q", h)
	}
	c.send("hello")
	r := c.response("PUT")
	if b := body(t, r); r.StatusCode != 200 || b != "hello" || r.Close {
		t.Errorf("final %d %q close=%v", r.StatusCode, b, r.Close)
	}
}

func TestEarlyFinalResponseClosesClient(t *testing.T) {
	o := newOrigin(t, func(c *originConn) {
		for {
			line, err := c.br.ReadString('\n')
			if err != nil || line == "\r\n" {
				break
			}
		}
		// Answer without reading the body.
		c.send("HTTP/1.1 413 Content Too Large\r\nContent-Length: 4\r\n\r\nnope")
		io.Copy(io.Discard, c.br)
	})
	p := startProxy(t, o.addr(), nil)
	c := dial(t, p.Addr(0))
	c.send(crlf("POST /up HTTP/1.1|Host: a|Expect: 100-continue|Content-Length: 100000||"))
	r := c.response("POST")
	if r.StatusCode != 413 || body(t, r) != "nope" || !r.Close {
		t.Fatalf("got %d close=%v", r.StatusCode, r.Close)
	}
	c.expectClosed()
}
