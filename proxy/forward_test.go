package proxy

import (
	"strconv"
	"strings"
	"testing"
)

func TestForwardRegeneratesHead(t *testing.T) {
	o := echoOrigin(t)
	p := startProxy(t, o.addr(), nil)
	c := dial(t, p.Addr(0))
	c.send(crlf("GET /a?b=1 HTTP/1.1|Host: example.com|X-A:  1 |Connection: keep-alive, X-Drop|X-Drop: secret|" +
		"Keep-Alive: timeout=5|Proxy-Connection: keep-alive|TE: trailers|Trailer: X-T|Upgrade: h2c|" +
		"Via: 1.0 first|X-Forwarded-For: 10.0.0.1|X-Forwarded-Proto: https|X-B: 2||"))
	r := c.response("GET")
	if r.StatusCode != 200 || body(t, r) != "path=/a?b=1 body=" {
		t.Fatalf("response %d", r.StatusCode)
	}
	if v := r.Header.Get("Via"); v != "1.1 refproxy" {
		t.Errorf("response Via %q", v)
	}
	want := crlf("GET /a?b=1 HTTP/1.1|Host: example.com|X-A: 1|X-B: 2|Via: 1.0 first, 1.1 refproxy|" +
		"X-Forwarded-For: 10.0.0.1, 127.0.0.1|X-Forwarded-Proto: http||")
	if got := o.requests()[0].head; got != want {
		t.Errorf("forwarded head\n got %q\nwant %q", got, want)
	}
}

func TestForwardAbsoluteForm(t *testing.T) {
	o := echoOrigin(t)
	p := startProxy(t, o.addr(), nil)
	c := dial(t, p.Addr(0))
	c.send(crlf("GET http://target.example:8080?q HTTP/1.1|Host: ignored.example||"))
	if r := c.response("GET"); r.StatusCode != 200 {
		t.Fatal(r.Status)
	}
	head := o.requests()[0].head
	if !strings.HasPrefix(head, crlf("GET /?q HTTP/1.1|Host: target.example:8080|")) {
		t.Errorf("head %q", head)
	}
}

func TestForwardHTTP10(t *testing.T) {
	o := echoOrigin(t)
	p := startProxy(t, o.addr(), nil)
	c := dial(t, p.Addr(0))
	c.send(crlf("GET /x HTTP/1.0|Expect: 100-continue|Connection: keep-alive||"))
	r := c.response("GET")
	if r.StatusCode != 200 || !r.Close {
		t.Fatalf("status %d close %v", r.StatusCode, r.Close)
	}
	c.expectClosed()
	head := o.requests()[0].head
	// No Host in HTTP/1.0: forwarded with an empty one; Expect dropped;
	// Via names the received version.
	want := crlf("GET /x HTTP/1.1|Host: |Via: 1.0 refproxy|X-Forwarded-For: 127.0.0.1|X-Forwarded-Proto: http||")
	if head != want {
		t.Errorf("head %q\nwant %q", head, want)
	}
}

func TestForwardBodies(t *testing.T) {
	o := echoOrigin(t)
	p := startProxy(t, o.addr(), nil)
	c := dial(t, p.Addr(0))

	c.send(crlf("POST /cl HTTP/1.1|Host: a|Content-Length: 5||hello"))
	if b := body(t, c.response("POST")); b != "path=/cl body=hello" {
		t.Errorf("cl body %q", b)
	}
	c.send(crlf("POST /ch HTTP/1.1|Host: a|Transfer-Encoding: chunked||5;ext=1|hello|6| world|0|X-Sum: 1|Content-Length: 99||"))
	if b := body(t, c.response("POST")); b != "path=/ch body=hello world" {
		t.Errorf("chunked body %q", b)
	}
	c.send(crlf("POST /none HTTP/1.1|Host: a||"))
	if b := body(t, c.response("POST")); b != "path=/none body=" {
		t.Errorf("empty body %q", b)
	}
	c.send(crlf("GET /get HTTP/1.1|Host: a||"))
	c.response("GET")
	reqs := o.requests()
	if !strings.Contains(reqs[0].head, "Content-Length: 5\r\n") {
		t.Errorf("cl head %q", reqs[0].head)
	}
	if h := reqs[1].head; !strings.Contains(h, "Transfer-Encoding: chunked\r\n") || strings.Contains(h, "Content-Length") ||
		!strings.Contains(h, "TRAILER X-Sum: 1") || strings.Contains(h, "TRAILER Content-Length") {
		t.Errorf("chunked head %q", h)
	}
	if !strings.Contains(reqs[2].head, "Content-Length: 0\r\n") {
		t.Errorf("POST without body must carry Content-Length: 0: %q", reqs[2].head)
	}
	if strings.Contains(reqs[3].head, "Content-Length") || strings.Contains(reqs[3].head, "Transfer-Encoding") {
		t.Errorf("GET without body has framing: %q", reqs[3].head)
	}
	for _, r := range reqs {
		if r.conn != 0 {
			t.Errorf("request on upstream connection %d, want reuse of 0", r.conn)
		}
	}
}

func TestKeepAliveAndPipelining(t *testing.T) {
	o := echoOrigin(t)
	p := startProxy(t, o.addr(), nil)
	c := dial(t, p.Addr(0))
	var all string
	for i := 0; i < 5; i++ {
		all += "GET /" + strconv.Itoa(i) + " HTTP/1.1\r\nHost: a\r\n\r\n"
	}
	all += crlf("POST /p HTTP/1.1|Host: a|Content-Length: 3||abcGET /last HTTP/1.1|Host: a||")
	c.send(all)
	for i := 0; i < 5; i++ {
		if b := body(t, c.response("GET")); b != "path=/"+strconv.Itoa(i)+" body=" {
			t.Fatalf("response %d: %q", i, b)
		}
	}
	if b := body(t, c.response("POST")); b != "path=/p body=abc" {
		t.Fatalf("post: %q", b)
	}
	if b := body(t, c.response("GET")); b != "path=/last body=" {
		t.Fatalf("last: %q", b)
	}
	if n := o.connCount(); n != 1 {
		t.Errorf("%d upstream connections, want 1", n)
	}
}

func TestKeepAliveMaxRequests(t *testing.T) {
	for _, n := range []int{1, 3} {
		o := echoOrigin(t)
		p := startProxy(t, o.addr(), func(o *Options) { o.Listeners[0].KeepAliveMaxRequests = n })
		c := dial(t, p.Addr(0))
		// Pipeline n+1 requests: exactly n are served.
		c.send(strings.Repeat("GET / HTTP/1.1\r\nHost: a\r\n\r\n", n+1))
		for i := 1; i <= n; i++ {
			r := c.response("GET")
			if r.Close != (i == n) {
				t.Errorf("limit %d: response %d Connection: close = %v", n, i, r.Close)
			}
		}
		c.expectClosed()
		if got := len(o.requests()); got != n {
			t.Errorf("limit %d: origin saw %d requests", n, got)
		}
	}
}

func TestClientConnectionClose(t *testing.T) {
	o := echoOrigin(t)
	p := startProxy(t, o.addr(), nil)
	c := dial(t, p.Addr(0))
	c.send(crlf("GET /1 HTTP/1.1|Host: a|Connection: close||GET /2 HTTP/1.1|Host: a||"))
	r := c.response("GET")
	if !r.Close {
		t.Error("response lacks Connection: close")
	}
	c.expectClosed()
	if n := len(o.requests()); n != 1 {
		t.Errorf("origin saw %d requests; nothing after close may be processed", n)
	}
	if strings.Contains(o.requests()[0].head, "Connection") {
		t.Error("Connection forwarded")
	}
}

func TestRoutes(t *testing.T) {
	def, api, host := echoOrigin(t), echoOrigin(t), echoOrigin(t)
	p := startProxy(t, def.addr(), func(o *Options) {
		o.Routes = []Route{
			{Host: "Static.Example", Upstream: UpstreamOptions{Addr: host.addr()}},
			{PathPrefix: "/api/", Upstream: UpstreamOptions{Addr: api.addr()}, Name: "api"},
			{Host: "x.example:81", PathPrefix: "/", Upstream: UpstreamOptions{Addr: api.addr()}},
		}
	})
	c := dial(t, p.Addr(0))
	for _, req := range []string{
		"GET /api/v1 HTTP/1.1|Host: a||",                   // api
		"GET /other HTTP/1.1|Host: a||",                    // default
		"GET /api/v1 HTTP/1.1|Host: static.example:8080||", // host route wins (first)
		"GET / HTTP/1.1|Host: x.example:81||",              // api via port-specific host
		"GET / HTTP/1.1|Host: x.example:82||",              // default
	} {
		c.send(crlf(req))
		c.response("GET")
	}
	if len(api.requests()) != 2 || len(def.requests()) != 2 || len(host.requests()) != 1 {
		t.Errorf("api %d default %d host %d", len(api.requests()), len(def.requests()), len(host.requests()))
	}
}

func TestNoDefaultUpstream(t *testing.T) {
	api := echoOrigin(t)
	p := startProxy(t, "", func(o *Options) {
		o.Routes = []Route{{PathPrefix: "/api", Upstream: UpstreamOptions{Addr: api.addr()}}}
	})
	c := dial(t, p.Addr(0))
	c.send(crlf("GET /x HTTP/1.1|Host: a||"))
	if r := c.response("GET"); r.StatusCode != 404 {
		t.Errorf("status %d", r.StatusCode)
	}
}
