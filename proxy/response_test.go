package proxy

import (
	"strconv"
	"strings"
	"testing"
)

// scripted returns an origin that answers the n-th request on any
// connection with answers[n] (raw bytes), keeping the connection open unless
// the answer is followed by "<close>".
func scripted(t *testing.T, answers ...string) *origin {
	var mu = make(chan int, 1)
	mu <- 0
	return newOrigin(t, func(c *originConn) {
		for {
			if _, err := c.read(); err != nil {
				return
			}
			n := <-mu
			mu <- n + 1
			a := answers[min(n, len(answers)-1)]
			closeAfter := strings.HasSuffix(a, "<close>")
			c.send(strings.TrimSuffix(a, "<close>"))
			if closeAfter {
				return
			}
		}
	})
}

func TestResponseFramingRules(t *testing.T) {
	tests := []struct {
		name, answer string
		method       string
		v10          bool
		status       int
		body         string
		wantHead     []string // substrings of the raw head sent to the client
		noHead       []string // must not appear
		clientClosed bool
		reuse        bool // the next request reuses the upstream connection
	}{
		{name: "cl", answer: "HTTP/1.1 200 OK|Content-Length: 3||abc", status: 200, body: "abc",
			wantHead: []string{"Content-Length: 3"}, reuse: true},
		{name: "te and cl: cl removed", answer: "HTTP/1.1 200 OK|Content-Length: 100|Transfer-Encoding: chunked||3|abc|0||",
			status: 200, body: "abc", wantHead: []string{"Transfer-Encoding: chunked"}, noHead: []string{"Content-Length"}, reuse: true},
		{name: "chunked with trailers", answer: "HTTP/1.1 200 OK|Transfer-Encoding: chunked|Trailer: X-T||3|abc|0|X-T: 1||",
			status: 200, body: "abc", wantHead: []string{"Transfer-Encoding: chunked"}, noHead: []string{"Trailer:"}, reuse: true},
		{name: "close-delimited to 1.1: chunked", answer: "HTTP/1.1 200 OK||abc<close>", status: 200, body: "abc",
			wantHead: []string{"Transfer-Encoding: chunked"}},
		{name: "close-delimited to 1.0", answer: "HTTP/1.1 200 OK||abc<close>", v10: true, status: 200, body: "abc",
			wantHead: []string{"Connection: close"}, noHead: []string{"Transfer-Encoding", "Content-Length"}, clientClosed: true},
		{name: "chunked to 1.0: close-delimited", answer: "HTTP/1.1 200 OK|Transfer-Encoding: chunked||3|abc|0||", v10: true,
			status: 200, body: "abc", noHead: []string{"Transfer-Encoding", "Content-Length"}, clientClosed: true},
		{name: "gzip chunked passed through", answer: "HTTP/1.1 200 OK|Transfer-Encoding: gzip, chunked||3|abc|0||",
			status: 200, body: "abc", wantHead: []string{"Transfer-Encoding: gzip, chunked"}, reuse: true},
		{name: "gzip close-delimited", answer: "HTTP/1.1 200 OK|Transfer-Encoding: gzip||abc<close>",
			status: 200, body: "abc", wantHead: []string{"Transfer-Encoding: gzip", "Connection: close"}, clientClosed: true},
		{name: "gzip to 1.0: 502", answer: "HTTP/1.1 200 OK|Transfer-Encoding: gzip, chunked||3|abc|0||", v10: true,
			status: 502, clientClosed: true},
		{name: "invalid cl: 502", answer: "HTTP/1.1 200 OK|Content-Length: 3x||abc", status: 502, clientClosed: true},
		{name: "cl list: 502", answer: "HTTP/1.1 200 OK|Content-Length: 3, 3||abc", status: 502, clientClosed: true},
		{name: "cl twice: 502", answer: "HTTP/1.1 200 OK|Content-Length: 3|Content-Length: 3||abc", status: 502, clientClosed: true},
		{name: "chunked twice: 502", answer: "HTTP/1.1 200 OK|Transfer-Encoding: chunked, chunked||0||", status: 502, clientClosed: true},
		{name: "obs-fold: 502", answer: "HTTP/1.1 200 OK|X: a| b|Content-Length: 0||", status: 502, clientClosed: true},
		{name: "space before colon: 502", answer: "HTTP/1.1 200 OK|X : a|Content-Length: 0||", status: 502, clientClosed: true},
		{name: "bare LF: 502", answer: "HTTP/1.1 200 OK\nContent-Length: 0\n\n", status: 502, clientClosed: true},
		{name: "NUL: 502", answer: "HTTP/1.1 200 OK|X: \x00|Content-Length: 0||", status: 502, clientClosed: true},
		{name: "bad status line: 502", answer: "HTTP/1.1 2000 OK|Content-Length: 0||", status: 502, clientClosed: true},
		{name: "http/2 status line: 502", answer: "HTTP/2 200 OK|Content-Length: 0||", status: 502, clientClosed: true},
		{name: "bad chunk before anything sent: 502", answer: "HTTP/1.1 200 OK|Transfer-Encoding: chunked||zz||", status: 502,
			clientClosed: true},
		{name: "bad chunk later: truncated", answer: "HTTP/1.1 200 OK|Transfer-Encoding: chunked||2710|" + strings.Repeat("x", 10000) + "|<close>", status: 200,
			clientClosed: true, body: "<broken>"},
		{name: "head with cl", method: "HEAD", answer: "HTTP/1.1 200 OK|Content-Length: 42||", status: 200,
			wantHead: []string{"Content-Length: 42"}},
		{name: "204 with body bytes", answer: "HTTP/1.1 204 No Content|Content-Length: 3||abc", status: 204,
			noHead: []string{"Content-Length"}},
		{name: "304 keeps cl", answer: "HTTP/1.1 304 Not Modified|Content-Length: 0|ETag: \"x\"||", status: 304,
			wantHead: []string{"Content-Length: 0", "ETag: \"x\""}, reuse: true},
		{name: "origin connection close", answer: "HTTP/1.1 200 OK|Connection: close|Content-Length: 1||x", status: 200, body: "x",
			noHead: []string{"Connection: close"}},
		{name: "origin http/1.0 response", answer: "HTTP/1.0 200 OK|Content-Length: 1||x", status: 200, body: "x",
			wantHead: []string{"Via: 1.0 refproxy"}},
		{name: "hop-by-hop removed", answer: "HTTP/1.1 200 OK|Connection: X-H|X-H: 1|Keep-Alive: 1|Upgrade: foo|Content-Length: 0||",
			status: 200, noHead: []string{"X-H", "Keep-Alive", "Upgrade", "Connection"}, reuse: true},
		{name: "unrequested 101: 502", answer: "HTTP/1.1 101 Switching Protocols|Upgrade: websocket|Connection: upgrade||",
			status: 502, clientClosed: true},
		{name: "short body: truncated", answer: "HTTP/1.1 200 OK|Content-Length: 10||abc<close>", status: 200,
			clientClosed: true, body: "<broken>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := scripted(t, crlf(tt.answer), "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext")
			p := startProxy(t, o.addr(), nil)
			c := dial(t, p.Addr(0))
			method := tt.method
			if method == "" {
				method = "GET"
			}
			v := "HTTP/1.1"
			if tt.v10 {
				v = "HTTP/1.0"
			}
			c.send(method + " / " + v + "\r\nHost: a\r\n\r\n")
			head := c.rawHead()
			if !strings.HasPrefix(head, "HTTP/1.1 "+strconv.Itoa(tt.status)+" ") {
				t.Fatalf("head %q, want status %d", head, tt.status)
			}
			for _, s := range tt.wantHead {
				if !strings.Contains(head, s+"\r\n") {
					t.Errorf("head %q lacks %q", head, s)
				}
			}
			for _, s := range tt.noHead {
				if strings.Contains(head, s) {
					t.Errorf("head %q has %q", head, s)
				}
			}
			if tt.status == 502 || tt.clientClosed {
				rest := c.readAll()
				switch {
				case tt.body == "<broken>":
					if strings.HasSuffix(rest, "0\r\n\r\n") {
						t.Errorf("broken response was completed: %q", rest)
					}
				case tt.body != "" && !strings.Contains(rest, tt.body):
					t.Errorf("body %q, want %q", rest, tt.body)
				}
				if tt.status == 502 && o.connCount() != 1 {
					t.Errorf("%d upstream connections", o.connCount())
				}
				return
			}
			// Read the body with net/http's reader via a second parse.
			r := readBodyAfterHead(t, c, head, method)
			if r != tt.body {
				t.Errorf("body %q, want %q", r, tt.body)
			}
			c.send("GET /next HTTP/1.1\r\nHost: a\r\n\r\n")
			if b := body(t, c.response("GET")); b != "next" {
				t.Fatalf("next response %q", b)
			}
			reqs := o.requests()
			if reused := reqs[len(reqs)-1].conn == reqs[0].conn; reused != tt.reuse {
				t.Errorf("upstream reused = %v, want %v", reused, tt.reuse)
			}
		})
	}
}

func itoa(n int) string {
	return strings.TrimSpace(strings.Repeat(" ", 0) + string(rune('0'+n/100)) + string(rune('0'+n/10%10)) + string(rune('0'+n%10)))
}

// readBodyAfterHead reads the body that follows an already read raw head.
func readBodyAfterHead(t *testing.T, c *client, head, method string) string {
	t.Helper()
	lower := strings.ToLower(head)
	switch {
	case method == "HEAD" || strings.HasPrefix(head, "HTTP/1.1 204") || strings.HasPrefix(head, "HTTP/1.1 304"):
		return ""
	case strings.Contains(lower, "transfer-encoding: "):
		var b strings.Builder
		for {
			line := c.rawLine()
			n := 0
			for _, ch := range strings.TrimSpace(line) {
				n = n*16 + strings.IndexRune("0123456789abcdef", ch)
			}
			if n == 0 {
				for c.rawLine() != "\r\n" {
				}
				return b.String()
			}
			b.WriteString(c.readN(n))
			c.readN(2)
		}
	case strings.Contains(lower, "content-length: "):
		i := strings.Index(lower, "content-length: ") + len("content-length: ")
		n := 0
		for ; lower[i] >= '0' && lower[i] <= '9'; i++ {
			n = n*10 + int(lower[i]-'0')
		}
		return c.readN(n)
	}
	return c.readAll()
}

func (c *client) rawLine() string {
	c.t.Helper()
	line, err := c.br.ReadString('\n')
	if err != nil {
		c.t.Fatalf("rawLine: %v", err)
	}
	return line
}

func TestInterimResponses(t *testing.T) {
	answer := crlf("HTTP/1.1 100 Continue||HTTP/1.1 103 Early Hints|Link: </s.css>||HTTP/1.1 200 OK|Content-Length: 2||ok")
	for _, v10 := range []bool{false, true} {
		o := scripted(t, answer)
		p := startProxy(t, o.addr(), nil)
		c := dial(t, p.Addr(0))
		v := "HTTP/1.1"
		if v10 {
			v = "HTTP/1.0"
		}
		c.send("GET / " + v + "\r\nHost: a\r\n\r\n")
		if !v10 {
			if h := c.rawHead(); !strings.HasPrefix(h, "HTTP/1.1 100 Continue\r\n") {
				t.Fatalf("first head %q", h)
			}
			if h := c.rawHead(); !strings.HasPrefix(h, "HTTP/1.1 103 Early Hints\r\n") || !strings.Contains(h, "Link: </s.css>") {
				t.Fatalf("second head %q", h)
			}
		}
		h := c.rawHead()
		if !strings.HasPrefix(h, "HTTP/1.1 200 OK\r\n") {
			t.Fatalf("final head %q (HTTP/1.0 client: %v)", h, v10)
		}
	}
}

func TestTooManyInterimResponses(t *testing.T) {
	o := scripted(t, strings.Repeat("HTTP/1.1 102 Processing\r\n\r\n", 40)+"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
	p := startProxy(t, o.addr(), nil)
	c := dial(t, p.Addr(0))
	c.send("GET / HTTP/1.0\r\n\r\n") // 1.0: no interim relayed, so the 502 can be sent
	if r := c.response("GET"); r.StatusCode != 502 {
		t.Errorf("status %d", r.StatusCode)
	}
}
