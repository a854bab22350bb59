package proxy

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestUpstreamConnectFailure(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	p := startProxy(t, addr, nil)
	c := dial(t, p.Addr(0))
	c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	if r := c.response("GET"); r.StatusCode != 502 {
		t.Errorf("status %d", r.StatusCode)
	}
}

func TestUpstreamReadTimeout(t *testing.T) {
	release := make(chan struct{})
	o := newOrigin(t, func(c *originConn) {
		c.read()
		<-release
	})
	defer close(release)
	p := startProxy(t, o.addr(), func(o *Options) { o.Upstream.ReadTimeout = 100 * time.Millisecond })
	c := dial(t, p.Addr(0))
	c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	if r := c.response("GET"); r.StatusCode != 504 {
		t.Errorf("status %d", r.StatusCode)
	}
	// With a body: the timeout starts once the request was sent.
	c = dial(t, p.Addr(0))
	c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc")
	if r := c.response("POST"); r.StatusCode != 504 {
		t.Errorf("status %d", r.StatusCode)
	}
}

func TestUpstreamWriteTimeout(t *testing.T) {
	release := make(chan struct{})
	o := newOrigin(t, func(c *originConn) {
		<-release // never reads
	})
	defer close(release)
	p := startProxy(t, o.addr(), func(o *Options) {
		o.Upstream.WriteTimeout = 100 * time.Millisecond
		o.Upstream.ReadTimeout = 10 * time.Second
	})
	c := dial(t, p.Addr(0))
	const size = 32 << 20
	c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 33554432\r\n\r\n")
	go func() {
		chunk := bytes.Repeat([]byte("x"), 1<<20)
		for i := 0; i < size>>20; i++ {
			if _, err := c.c.Write(chunk); err != nil {
				return
			}
		}
	}()
	if r := c.response("POST"); r.StatusCode != 502 {
		t.Errorf("status %d", r.StatusCode)
	}
}

func TestClientBodyTimeout(t *testing.T) {
	o := echoOrigin(t)
	p := startProxy(t, o.addr(), func(o *Options) { o.Listeners[0].IdleTimeout = 100 * time.Millisecond })
	c := dial(t, p.Addr(0))
	c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
	if r := c.response("POST"); r.StatusCode != 408 {
		t.Errorf("status %d", r.StatusCode)
	}
}

func TestClientGoneDuringBody(t *testing.T) {
	o := echoOrigin(t)
	p := startProxy(t, o.addr(), nil)
	c := dial(t, p.Addr(0))
	c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
	c.c.(*net.TCPConn).CloseWrite()
	c.expectClosed()
}

func TestPoolReuseRules(t *testing.T) {
	// The origin closes idle connections right after answering (without
	// saying so): the next request must not fail on the dead connection.
	o := newOrigin(t, func(c *originConn) {
		if _, err := c.read(); err != nil {
			return
		}
		c.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	})
	p := startProxy(t, o.addr(), nil)
	c := dial(t, p.Addr(0))
	for i := 0; i < 5; i++ {
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		if r := c.response("GET"); r.StatusCode != 200 {
			t.Fatalf("request %d: status %d", i, r.StatusCode)
		}
	}
	if n := o.connCount(); n != 5 {
		t.Errorf("%d upstream connections, want 5", n)
	}
}

func TestStaleConnectionRetry(t *testing.T) {
	// The origin drops the connection on the second request without an
	// answer (as if it had closed it while idle): an idempotent request
	// is retried once on a new connection; a POST is not.
	o := newOrigin(t, func(c *originConn) {
		for i := 0; ; i++ {
			r, err := c.read()
			if err != nil {
				return
			}
			if i == 1 {
				c.Conn.(*net.TCPConn).SetLinger(0)
				return // reset without answering
			}
			c.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n" + r.req.Method[:2])
		}
	})
	p := startProxy(t, o.addr(), nil)
	c := dial(t, p.Addr(0))
	for i := 0; i < 2; i++ {
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		if r := c.response("GET"); r.StatusCode != 200 {
			t.Fatalf("GET %d: %d", i, r.StatusCode)
		}
	}
	// The retry used connection 1; a POST is its second request: dropped,
	// and not retried (RFC 9110 §9.2.2).
	c.send("POST / HTTP/1.1\r\nHost: a\r\n\r\n")
	if r := c.response("POST"); r.StatusCode != 502 {
		t.Fatalf("POST retried: %d", r.StatusCode)
	}
}

// captureHandler records slog records.
type captureHandler struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *captureHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.recs = append(h.recs, r.Clone())
	h.mu.Unlock()
	return nil
}
func (h *captureHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *captureHandler) WithGroup(string) slog.Handler      { return h }

func TestUploadWritePending(t *testing.T) {
	// Larger than what loopback socket buffers can absorb (about 10 MB).
	const size = 24 << 20
	o := newOrigin(t, func(c *originConn) {
		first := ""
		for {
			line, err := c.br.ReadString('\n')
			if first == "" {
				first = line
			}
			if err != nil || line == "\r\n" {
				break
			}
		}
		if strings.HasPrefix(first, "GET") {
			c.send("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
			return
		}
		// A slow reader: it starts reading late, so the proxy's writes
		// block once the socket buffers are full.
		time.Sleep(300 * time.Millisecond)
		if _, err := io.CopyN(io.Discard, c.br, size); err != nil {
			return
		}
		c.send("HTTP/1.1 204 No Content\r\n\r\n")
	})
	infos := make(chan RequestInfo, 10)
	h := &captureHandler{}
	p := startProxy(t, o.addr(), func(opt *Options) {
		opt.Logger = slog.New(h)
		opt.OnRequestDone = func(i RequestInfo) { infos <- i }
	})
	c := dial(t, p.Addr(0))
	c.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: " + strconv.Itoa(size) + "\r\n\r\n")
	go c.c.Write(bytes.Repeat([]byte("u"), size))
	if r := c.response("POST"); r.StatusCode != 204 {
		t.Fatalf("status %d", r.StatusCode)
	}
	var i RequestInfo
	select {
	case i = <-infos:
	case <-time.After(ioTimeout):
		t.Fatal("no RequestInfo")
	}
	if i.UpstreamWritePending <= 0 || i.Status != 204 || i.Route != "default" || i.Upstream != o.addr() ||
		len(i.TraceID) != 16 || i.Method != "POST" || i.Listener != "test" {
		t.Errorf("info %+v", i)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	found := false
	for _, r := range h.recs {
		if r.Message != "request completed" || r.Level != slog.LevelDebug {
			continue
		}
		attrs := map[string]slog.Value{}
		r.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value; return true })
		for _, k := range []string{"trace_id", "route", "upstream", "status", "duration_ms", "upstream_write_pending_ms"} {
			if _, ok := attrs[k]; !ok {
				t.Errorf("log lacks %s", k)
			}
		}
		if attrs["status"].Int64() == 204 {
			found = attrs["upstream_write_pending_ms"].Int64() > 0
		}
	}
	if !found {
		t.Error("no request completed log with upstream_write_pending_ms > 0")
	}
}

func TestShutdownAndClose(t *testing.T) {
	release := make(chan struct{})
	o := newOrigin(t, func(c *originConn) {
		for {
			if _, err := c.read(); err != nil {
				return
			}
			<-release
			c.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	p := startProxy(t, o.addr(), nil)
	// Runs before the proxy's and the origin's cleanups: a failed assertion must not leave the
	// origin handler blocked for them to wait on.
	var releaseOnce sync.Once
	unblock := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(unblock)
	idle := dial(t, p.Addr(0))
	busy := dial(t, p.Addr(0))
	idle.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	busy.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	release <- struct{}{}
	release <- struct{}{}
	idle.response("GET")
	busy.response("GET")
	busy.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n") // in flight during Shutdown
	waitFor(t, "the third request at the origin", func() bool { return len(o.requests()) >= 3 })
	done := make(chan error, 1)
	go func() { done <- p.Shutdown(context.Background()) }()
	idle.expectClosed() // idle connections are closed at once
	unblock()
	r := busy.response("GET")
	if !r.Close {
		t.Error("response during shutdown lacks Connection: close")
	}
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if _, err := net.Dial("tcp", p.Addr(0)); err == nil {
		t.Error("still accepting")
	}
	p.Close()
}

func TestShutdownTimeout(t *testing.T) {
	release := make(chan struct{})
	o := newOrigin(t, func(c *originConn) {
		c.read()
		<-release
	})
	defer close(release)
	p := startProxy(t, o.addr(), nil)
	c := dial(t, p.Addr(0))
	c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	for len(o.requests()) < 1 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := p.Shutdown(ctx); err != context.DeadlineExceeded {
		t.Errorf("Shutdown: %v", err)
	}
	c.expectClosed() // Close after the deadline aborts in-flight requests
}

func TestCloseAbortsTunnel(t *testing.T) {
	o := upgradeOrigin(t, "HTTP/1.1 101 Switching Protocols|Upgrade: x||")
	p := startProxy(t, o.addr(), nil)
	c := dial(t, p.Addr(0))
	c.send("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n")
	c.rawHead()
	p.Close()
	if _, err := io.ReadAll(c.br); err != nil && !strings.Contains(err.Error(), "reset") {
		t.Errorf("read after Close: %v", err)
	}
}

func TestStartErrors(t *testing.T) {
	ok := UpstreamOptions{Addr: "127.0.0.1:1"}
	l := []ListenerOptions{{Addr: "127.0.0.1:0"}}
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"no listeners", Options{Upstream: ok}, "no listeners"},
		{"no upstream", Options{Listeners: l}, "upstream"},
		{"bad upstream", Options{Listeners: l, Upstream: UpstreamOptions{Addr: "nope"}}, "upstream: address"},
		{"negative upstream timeout", Options{Listeners: l, Upstream: UpstreamOptions{Addr: "a:1", ReadTimeout: -1}}, "negative timeout"},
		{"empty listener addr", Options{Listeners: []ListenerOptions{{Name: "x"}}, Upstream: ok}, `listener "x": empty address`},
		{"bad listener addr", Options{Listeners: []ListenerOptions{{Addr: "x"}}, Upstream: ok}, `listener "listener-0": address`},
		{"duplicate names", Options{Listeners: []ListenerOptions{{Name: "a", Addr: "127.0.0.1:0"}, {Name: "a", Addr: "127.0.0.1:0"}}, Upstream: ok}, "duplicate"},
		{"negative keepalive", Options{Listeners: []ListenerOptions{{Addr: "127.0.0.1:0", KeepAliveMaxRequests: -1}}, Upstream: ok}, "negative keep-alive"},
		{"negative limit", Options{Listeners: []ListenerOptions{{Addr: "127.0.0.1:0", MaxFields: -1}}, Upstream: ok}, "negative limit"},
		{"negative timeout", Options{Listeners: []ListenerOptions{{Addr: "127.0.0.1:0", IdleTimeout: -1}}, Upstream: ok}, "negative timeout"},
		{"huge head", Options{Listeners: []ListenerOptions{{Addr: "127.0.0.1:0", MaxHeadBytes: 2 << 20}}, Upstream: ok}, "head limit"},
		{"target over head", Options{Listeners: []ListenerOptions{{Addr: "127.0.0.1:0", MaxHeadBytes: 1000, MaxTargetBytes: 1000}}, Upstream: ok}, "target limit"},
		{"route prefix", Options{Listeners: l, Upstream: ok, Routes: []Route{{PathPrefix: "x", Upstream: ok}}}, "path prefix"},
		{"route host", Options{Listeners: l, Upstream: ok, Routes: []Route{{Host: "a/b", Upstream: ok}}}, "invalid host"},
		{"route upstream", Options{Listeners: l, Upstream: ok, Routes: []Route{{Upstream: UpstreamOptions{}}}}, `route "route-0": upstream`},
		{"listen fails", Options{Listeners: []ListenerOptions{{Addr: "127.0.0.1:0"}, {Addr: "256.0.0.1:0"}}, Upstream: ok}, `listener "listener-1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Start(context.Background(), tt.o)
			if err == nil {
				p.Close()
				t.Fatal("started")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
		})
	}
	p := startProxy(t, "127.0.0.1:1", nil)
	if p.Addr(1) != "" || p.Addr(-1) != "" || p.Addr(0) == "" {
		t.Error("Addr")
	}
}

func TestMultipleListeners(t *testing.T) {
	o := echoOrigin(t)
	p := startProxy(t, o.addr(), func(opt *Options) {
		opt.Listeners = append(opt.Listeners, ListenerOptions{Name: "second", Addr: "127.0.0.1:0", AllowConnect: true})
	})
	for i := 0; i < 2; i++ {
		c := dial(t, p.Addr(i))
		c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		if r := c.response("GET"); r.StatusCode != 200 {
			t.Errorf("listener %d: %d", i, r.StatusCode)
		}
	}
}
