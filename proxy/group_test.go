package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/proxyspec/proxyspec/proxy/balance"
	"github.com/proxyspec/proxyspec/proxy/internal/testpki"
	"github.com/proxyspec/proxyspec/proxy/tlsconf"
)

// recObserver counts observer events by "kind arg1 arg2".
type recObserver struct {
	mu     sync.Mutex
	counts map[string]int
}

func (r *recObserver) add(ev ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.counts == nil {
		r.counts = map[string]int{}
	}
	r.counts[strings.Join(ev, " ")]++
}

func (r *recObserver) count(ev ...string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts[strings.Join(ev, " ")]
}

func (r *recObserver) ClientConnOpened(l string)           { r.add("client-open", l) }
func (r *recObserver) ClientConnClosed(l string)           { r.add("client-close", l) }
func (r *recObserver) UpstreamConnOpened(u, b string)      { r.add("up-open", u, b) }
func (r *recObserver) UpstreamConnClosed(u, b string)      { r.add("up-close", u, b) }
func (r *recObserver) KeepAliveLimitClose(l string)        { r.add("keepalive-close", l) }
func (r *recObserver) Rejected(l string, why RejectReason) { r.add("rejected", l, string(why)) }
func (r *recObserver) PoolGet(u, b string, hit bool) {
	if hit {
		r.add("pool-hit", u, b)
	} else {
		r.add("pool-miss", u, b)
	}
}

// namedOrigin answers every request with its name, keeping connections
// alive; a request for /held waits until release is closed.
func namedOrigin(t *testing.T, name string, release chan struct{}) *origin {
	t.Helper()
	return newOrigin(t, func(c *originConn) {
		for {
			r, err := c.read()
			if err != nil {
				return
			}
			if release != nil && r.req.URL.Path == "/held" {
				<-release
			}
			c.send("HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(name)) + "\r\n\r\n" + name)
		}
	})
}

// get sends a GET on a new connection with extra header lines and returns
// the body.
func get(t *testing.T, addr, path, extra string) string {
	t.Helper()
	c := dial(t, addr)
	c.send("GET " + path + " HTTP/1.1\r\nHost: x\r\n" + extra + "Connection: close\r\n\r\n")
	r := c.response("GET")
	if r.StatusCode != 200 {
		t.Fatalf("GET %s: status %d", path, r.StatusCode)
	}
	return body(t, r)
}

func newBalancer(t *testing.T, cfg balance.Config, origins ...*origin) *balance.Balancer {
	t.Helper()
	ts := make([]balance.Target, len(origins))
	for i, o := range origins {
		ts[i] = balance.Target{Addr: o.addr(), Weight: 1}
	}
	b, err := balance.New(cfg, ts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRoundRobinGroup(t *testing.T) {
	a, b := namedOrigin(t, "a", nil), namedOrigin(t, "b", nil)
	bal, err := balance.New(balance.Config{}, []balance.Target{{Addr: a.addr(), Weight: 1}, {Addr: b.addr(), Weight: 2}})
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, "", func(o *Options) { o.Upstream = UpstreamOptions{Name: "web", Balancer: bal} })
	got := map[string]int{}
	for range 30 {
		got[get(t, p.Addr(0), "/", "")]++
	}
	if got["a"] != 10 || got["b"] != 20 {
		t.Errorf("spread %v, want a:10 b:20 (weights 1:2)", got)
	}
}

func TestLeastConnectionsGroup(t *testing.T) {
	release := make(chan struct{})
	a, b := namedOrigin(t, "a", release), namedOrigin(t, "b", release)
	bal := newBalancer(t, balance.Config{Policy: balance.LeastConnections}, a, b)
	p := startProxy(t, "", func(o *Options) { o.Upstream = UpstreamOptions{Name: "web", Balancer: bal} })
	// Registered last, so it runs first: if an assertion below fails, the held origin handler is
	// released before the proxy and the origins are closed, instead of blocking their cleanup.
	var releaseOnce sync.Once
	unblock := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(unblock)
	// Hold one request on whichever backend gets it: while it is busy,
	// every other request goes to the idle one.
	held := dial(t, p.Addr(0))
	held.send("GET /held HTTP/1.1\r\nHost: x\r\n\r\n")
	waitFor(t, "held request in flight", func() bool { return bal.Status()[0].Active+bal.Status()[1].Active == 1 })
	busy, idle, idleIdx := "a", "b", 1
	if bal.Status()[1].Active == 1 {
		busy, idle, idleIdx = "b", "a", 0
	}
	for range 5 {
		// The proxy releases its claim on a backend just after the client has the response;
		// until then the idle backend counts one request too and the two would tie.
		waitFor(t, "the idle backend's previous request released", func() bool { return bal.Status()[idleIdx].Active == 0 })
		if got := get(t, p.Addr(0), "/", ""); got != idle {
			t.Fatalf("request went to %q while %q was busy", got, busy)
		}
	}
	unblock()
	if r := held.response("GET"); body(t, r) != busy {
		t.Error("held request not answered by the busy backend")
	}
	waitFor(t, "requests released", func() bool { return bal.Status()[0].Active+bal.Status()[1].Active == 0 })
}

func TestKetamaGroup(t *testing.T) {
	origins := []*origin{namedOrigin(t, "a", nil), namedOrigin(t, "b", nil), namedOrigin(t, "c", nil)}
	for _, tc := range []struct {
		name  string
		key   HashKey
		extra func(i int) string
		path  func(i int) string
	}{
		{"header", HashKey{Kind: HashHeader, Name: "X-User"}, func(i int) string { return "X-User: user-" + strconv.Itoa(i) + "\r\n" }, nil},
		{"cookie", HashKey{Kind: HashCookie, Name: "sid"}, func(i int) string { return "Cookie: theme=dark; sid=s" + strconv.Itoa(i) + "; x=1\r\n" }, nil},
		{"path", HashKey{Kind: HashPath}, nil, func(i int) string { return "/item/" + strconv.Itoa(i) + "?q=" + strconv.Itoa(i*7) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bal := newBalancer(t, balance.Config{Policy: balance.Ketama}, origins...)
			p := startProxy(t, "", func(o *Options) { o.Upstream = UpstreamOptions{Name: "api", Balancer: bal, HashKey: tc.key} })
			seen := map[string]bool{}
			for i := range 12 {
				extra, path := "", "/"
				if tc.extra != nil {
					extra = tc.extra(i)
				}
				if tc.path != nil {
					path = tc.path(i)
				}
				first := get(t, p.Addr(0), path, extra)
				seen[first] = true
				for range 2 {
					if again := get(t, p.Addr(0), path, extra); again != first {
						t.Fatalf("key %d went to %s then %s", i, first, again)
					}
				}
				// The owner is the balancer's choice for the hash of the key.
				h, _ := keyOf(tc.key, extra, path)
				be, _ := bal.PickHash(h)
				be.Done()
				if want := nameOf(origins, be.Addr()); want != first {
					t.Fatalf("key %d served by %s, ring owner %s", i, first, want)
				}
			}
			if len(seen) < 2 {
				t.Errorf("12 keys all on %v", seen)
			}
		})
	}
}

// keyOf computes the key hash the proxy should use, independently.
func keyOf(k HashKey, extra, path string) (uint32, bool) {
	switch k.Kind {
	case HashHeader:
		v := strings.TrimSpace(strings.SplitN(extra, ":", 2)[1])
		return balance.HashString(v), true
	case HashCookie:
		for _, kv := range strings.Split(strings.TrimPrefix(strings.TrimSpace(extra), "Cookie: "), "; ") {
			if name, v, _ := strings.Cut(kv, "="); name == k.Name {
				return balance.HashString(v), true
			}
		}
	case HashPath:
		p, _, _ := strings.Cut(path, "?")
		return balance.HashString(p), true
	}
	return 0, false
}

func nameOf(origins []*origin, addr string) string {
	for i, o := range origins {
		if o.addr() == addr {
			return string(rune('a' + i))
		}
	}
	return "?"
}

func TestCookieValue(t *testing.T) {
	for _, tc := range []struct {
		v, name, want string
		ok            bool
	}{
		{"a=1; b=2", "b", "2", true},
		{"a=1;b=2", "b", "2", true},
		{"ab=1; b=", "b", "", true},
		{"ab=1", "b", "", false},
		{"b", "b", "", false},
		{"", "b", "", false},
	} {
		got, ok := cookieValue([]byte(tc.v), tc.name)
		if string(got) != tc.want || ok != tc.ok {
			t.Errorf("cookieValue(%q, %q) = %q %v", tc.v, tc.name, got, ok)
		}
	}
}

func TestNoHealthyBackend(t *testing.T) {
	a := namedOrigin(t, "a", nil)
	bal := newBalancer(t, balance.Config{StartDown: true}, a)
	obs := &recObserver{}
	p := startProxy(t, "", func(o *Options) {
		o.Upstream = UpstreamOptions{Name: "web", Balancer: bal}
		o.Observer = obs
	})
	c := dial(t, p.Addr(0))
	c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if r := c.response("GET"); r.StatusCode != 503 {
		t.Fatalf("status %d, want 503", r.StatusCode)
	}
	if obs.count("rejected", "test", "no_backend") != 1 || a.connCount() != 0 {
		t.Errorf("observer %v, origin conns %d", obs.counts, a.connCount())
	}
	bal.SetHealthy(a.addr(), true)
	if got := get(t, p.Addr(0), "/", ""); got != "a" {
		t.Errorf("after recovery: %q", got)
	}
}

func TestRuntimeBackendUpdate(t *testing.T) {
	a, b := namedOrigin(t, "a", nil), namedOrigin(t, "b", nil)
	bal := newBalancer(t, balance.Config{}, a)
	obs := &recObserver{}
	p := startProxy(t, "", func(o *Options) {
		o.Upstream = UpstreamOptions{Name: "web", Balancer: bal}
		o.Observer = obs
	})
	c := dial(t, p.Addr(0))
	c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if body(t, c.response("GET")) != "a" {
		t.Fatal("not served by a")
	}
	if err := bal.Add(balance.Target{Addr: b.addr(), Weight: 1}); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for range 4 {
		got[get(t, p.Addr(0), "/", "")]++
	}
	if got["a"] != 2 || got["b"] != 2 {
		t.Errorf("after adding b: %v", got)
	}
	// Removing a closes its pooled connections at the next pick.
	if err := bal.Remove(a.addr()); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if got := get(t, p.Addr(0), "/", ""); got != "b" {
			t.Fatalf("after removing a: served by %q", got)
		}
	}
	// A connection still on its way back to a's pool when a was removed is closed when it
	// arrives there; the proxy may put it back a little after the client read its response.
	waitFor(t, "a's connections all closed", func() bool {
		o, cl := obs.count("up-open", "web", a.addr()), obs.count("up-close", "web", a.addr())
		return o > 0 && o == cl
	})
}

func TestPoolHitsAndIdleTimeout(t *testing.T) {
	a := namedOrigin(t, "a", nil)
	obs := &recObserver{}
	p := startProxy(t, a.addr(), func(o *Options) {
		o.Upstream.Name = "web"
		o.Upstream.IdleTimeout = 500 * time.Millisecond
		o.Observer = obs
	})
	c := dial(t, p.Addr(0))
	for range 3 {
		c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		c.response("GET")
	}
	if m, h := obs.count("pool-miss", "web", a.addr()), obs.count("pool-hit", "web", a.addr()); m != 1 || h != 2 {
		t.Errorf("pool: %d misses, %d hits; want 1, 2", m, h)
	}
	// The sweeper closes the idle connection after the idle timeout.
	waitFor(t, "idle connection closed", func() bool { return obs.count("up-close", "web", a.addr()) == 1 })
	c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	c.response("GET")
	if m := obs.count("pool-miss", "web", a.addr()); m != 2 || a.connCount() != 2 {
		t.Errorf("after idle timeout: %d misses, %d origin connections; want 2, 2", m, a.connCount())
	}
}

func TestRejectReasons(t *testing.T) {
	a := namedOrigin(t, "a", nil)
	for _, tc := range []struct {
		name, req, reason string
		status            int
	}{
		{"malformed", "GET / HTTP/1.1\r\nHost: x\r\nBad Line\r\n\r\n", "malformed", 400},
		{"framing", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "framing", 400},
		{"bad chunk", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "framing", 400},
		{"unknown coding", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", "framing", 501},
		{"connect", "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n", "connect", 405},
		{"target limit", "GET /" + strings.Repeat("a", 9000) + " HTTP/1.1\r\nHost: x\r\n\r\n", "limit", 414},
		{"body limit", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n", "limit", 413},
		{"no route", "GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n", "no_route", 404},
		{"head timeout", "GET / HTTP/1.1\r\nHost: x\r\n", "timeout", 408},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obs := &recObserver{}
			p := startProxy(t, "", func(o *Options) {
				prefix := "/"
				if tc.reason == "no_route" {
					prefix = "/only"
				}
				o.Upstream = UpstreamOptions{}
				o.Routes = []Route{{PathPrefix: prefix, Upstream: UpstreamOptions{Addr: a.addr()}}}
				o.Listeners[0].MaxBodyBytes = 10
				o.Listeners[0].HeaderReadTimeout = 200 * time.Millisecond
				o.Observer = obs
			})
			c := dial(t, p.Addr(0))
			c.send(tc.req)
			if r := c.response(methodOf(tc.req)); r.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", r.StatusCode, tc.status)
			}
			waitFor(t, "rejection counted", func() bool { return obs.count("rejected", "test", tc.reason) == 1 })
		})
	}
}

func methodOf(req string) string { m, _, _ := strings.Cut(req, " "); return m }

// TestKeepAliveLimitPerListener: several listeners keep their own limits
// (the seed applied the lowest to all).
func TestKeepAliveLimitPerListener(t *testing.T) {
	a := namedOrigin(t, "a", nil)
	obs := &recObserver{}
	p := startProxy(t, a.addr(), func(o *Options) {
		o.Listeners = []ListenerOptions{
			{Name: "two", Addr: "127.0.0.1:0", KeepAliveMaxRequests: 2},
			{Name: "five", Addr: "127.0.0.1:0", KeepAliveMaxRequests: 5},
			{Name: "unlimited", Addr: "127.0.0.1:0"},
		}
		o.Observer = obs
	})
	for i, want := range []int{2, 5, 8} {
		c := dial(t, p.Addr(i))
		served := 0
		for range 8 {
			if _, err := c.c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
				break
			}
			r, err := c.tryResponse("GET")
			if err != nil {
				break
			}
			served++
			if r.Close {
				break
			}
		}
		if served != want {
			t.Errorf("listener %d: %d requests served on one connection, want %d", i, served, want)
		}
	}
	if obs.count("keepalive-close", "two") != 1 || obs.count("keepalive-close", "five") != 1 || obs.count("keepalive-close", "unlimited") != 0 {
		t.Errorf("keep-alive closes: %v", obs.counts)
	}
	waitFor(t, "client connections closed", func() bool {
		return obs.count("client-close", "two") == 1 && obs.count("client-close", "five") == 1
	})
}

func TestTLSListener(t *testing.T) {
	dir := t.TempDir()
	ca := testpki.NewCA(t, "ca")
	clients := testpki.NewCA(t, "clients")
	cert, key := ca.Server(t, "proxy").Write(t, dir, "proxy")
	ts, err := tlsconf.Load(tlsconf.Files{Cert: cert, Key: key, ClientCA: clients.WriteCA(t, dir, "clients"), ClientAuth: tlsconf.Optional})
	if err != nil {
		t.Fatal(err)
	}
	o := echoOrigin(t)
	p := startProxy(t, o.addr(), func(opt *Options) { opt.Listeners[0].TLS = ts.Config() })
	dialTLS := func(cert *tls.Certificate) *client {
		cfg := &tls.Config{RootCAs: ca.Pool(), ServerName: "127.0.0.1", NextProtos: []string{"http/1.1"}}
		if cert != nil {
			cfg.Certificates = []tls.Certificate{*cert}
		}
		tc, err := tls.DialWithDialer(&net.Dialer{Timeout: ioTimeout}, "tcp", p.Addr(0), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if tc.ConnectionState().NegotiatedProtocol != "http/1.1" {
			t.Errorf("ALPN %q", tc.ConnectionState().NegotiatedProtocol)
		}
		t.Cleanup(func() { tc.Close() })
		return &client{t: t, c: tc, br: bufio.NewReader(tc)}
	}
	alice := clients.Client(t, "alice").TLS
	for _, cert := range []*tls.Certificate{nil, &alice} {
		c := dialTLS(cert)
		c.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
		if r := c.response("GET"); r.StatusCode != 200 || body(t, r) != "path=/a body=" {
			t.Fatalf("status %d", r.StatusCode)
		}
		// An error answer over TLS is read whole (lingering close).
		c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx")
		if r := c.response("POST"); r.StatusCode != 400 || !r.Close {
			t.Fatalf("bad framing over TLS: %d close=%v", r.StatusCode, r.Close)
		}
	}
	reqs := o.requests()
	if len(reqs) != 2 || reqs[0].req.Header.Get("X-Forwarded-Proto") != "https" {
		t.Errorf("origin saw %d requests, X-Forwarded-Proto %q", len(reqs), reqs[0].req.Header.Get("X-Forwarded-Proto"))
	}
}

func TestSharedBalancerSharesPools(t *testing.T) {
	a := namedOrigin(t, "a", nil)
	bal := newBalancer(t, balance.Config{}, a)
	p := startProxy(t, "", func(o *Options) {
		u := UpstreamOptions{Name: "web", Balancer: bal}
		o.Upstream = u
		o.Routes = []Route{{PathPrefix: "/r1", Upstream: u}, {PathPrefix: "/r2", Upstream: u}}
	})
	c := dial(t, p.Addr(0))
	for _, path := range []string{"/r1", "/r2", "/other"} {
		c.send("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n")
		c.response("GET")
	}
	if len(p.groups) != 1 || a.connCount() != 1 {
		t.Errorf("%d groups, %d origin connections; want 1, 1", len(p.groups), a.connCount())
	}
}

func TestGroupOptionsValidation(t *testing.T) {
	l := []ListenerOptions{{Addr: "127.0.0.1:0"}}
	bal, _ := balance.New(balance.Config{}, []balance.Target{{Addr: "127.0.0.1:1", Weight: 1}})
	for _, tc := range []struct {
		name string
		u    UpstreamOptions
		want string
	}{
		{"bad hash key name", UpstreamOptions{Balancer: bal, HashKey: HashKey{Kind: HashHeader, Name: "a b"}}, "not a token"},
		{"negative idle timeout", UpstreamOptions{Addr: "127.0.0.1:1", IdleTimeout: -1}, "negative timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Start(context.Background(), Options{Listeners: l, Upstream: tc.u})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want %q", err, tc.want)
			}
		})
	}
}

// waitFor polls cond until it holds or a deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(ioTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
