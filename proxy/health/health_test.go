package health

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/proxyspec/proxyspec/proxy/balance"
)

// backend is an HTTP server on 127.0.0.1 whose /health status is set by
// the test; block makes it hang until the request is cancelled.
type backend struct {
	srv    *httptest.Server
	status atomic.Int32
	block  atomic.Bool
	hits   atomic.Int32
}

func newBackend(t *testing.T) *backend {
	t.Helper()
	b := &backend{}
	b.status.Store(200)
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.hits.Add(1)
		if r.URL.Path != "/health" || r.Header.Get("User-Agent") != "refproxy-health-check" {
			w.WriteHeader(404)
			return
		}
		if b.block.Load() {
			<-r.Context().Done()
			return
		}
		if s := int(b.status.Load()); s == 302 {
			http.Redirect(w, r, "/elsewhere", 302)
		} else {
			w.WriteHeader(s)
		}
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *backend) addr() string { return strings.TrimPrefix(b.srv.URL, "http://") }

var testCheck = Check{Path: "/health", Interval: time.Hour, Timeout: 200 * time.Millisecond, HealthyThreshold: 2, UnhealthyThreshold: 3}

func newChecker(t *testing.T, bal *balance.Balancer, c Check) (*Checker, *[]Transition) {
	t.Helper()
	var mu sync.Mutex
	var trs []Transition
	ch, err := NewChecker("web", bal, c, nil, func(tr Transition) {
		mu.Lock()
		trs = append(trs, tr)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	return ch, &trs
}

func TestThresholds(t *testing.T) {
	be := newBackend(t)
	bal, err := balance.New(balance.Config{StartDown: true}, []balance.Target{{Addr: be.addr(), Weight: 1}})
	if err != nil {
		t.Fatal(err)
	}
	c, trs := newChecker(t, bal, testCheck)
	ctx := context.Background()
	steps := []struct {
		status      int32
		wantHealthy bool
	}{
		{200, true},  // first success: in rotation at once
		{500, true},  // 1 failure
		{503, true},  // 2
		{500, false}, // 3 = unhealthy-threshold: out
		{200, false}, // 1 success
		{500, false}, // the streak breaks
		{200, false}, // 1
		{200, true},  // 2 = healthy-threshold: back
		{302, true},  // a redirect is a failure (1)
		{404, true},  // 2
	}
	for i, s := range steps {
		be.status.Store(s.status)
		c.Round(ctx)
		if got := bal.Backends()[0].Healthy(); got != s.wantHealthy {
			t.Fatalf("step %d (status %d): healthy %v, want %v", i, s.status, got, s.wantHealthy)
		}
	}
	want := []Transition{{"web", be.addr(), true}, {"web", be.addr(), false}, {"web", be.addr(), true}}
	if len(*trs) != len(want) {
		t.Fatalf("transitions %v, want %v", *trs, want)
	}
	for i := range want {
		if (*trs)[i] != want[i] {
			t.Errorf("transition %d: %v, want %v", i, (*trs)[i], want[i])
		}
	}
}

func TestProbeFailures(t *testing.T) {
	slow := newBackend(t)
	slow.block.Store(true)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := ln.Addr().String()
	ln.Close()
	for _, tc := range []struct {
		name string
		addr string
	}{
		{"timeout", slow.addr()},
		{"refused", refused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bal, _ := balance.New(balance.Config{}, []balance.Target{{Addr: tc.addr, Weight: 1}})
			c, _ := newChecker(t, bal, Check{Path: "/health", Interval: time.Second, Timeout: 100 * time.Millisecond, HealthyThreshold: 1, UnhealthyThreshold: 1})
			start := time.Now()
			c.Round(context.Background())
			if bal.Backends()[0].Healthy() {
				t.Error("still healthy after a failed probe")
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("round took %v: the timeout did not bound it", d)
			}
		})
	}
}

func TestRunLoop(t *testing.T) {
	be := newBackend(t)
	bal, _ := balance.New(balance.Config{StartDown: true}, []balance.Target{{Addr: be.addr(), Weight: 1}})
	c, _ := newChecker(t, bal, Check{Path: "/health", Interval: 20 * time.Millisecond, Timeout: 20 * time.Millisecond, HealthyThreshold: 1, UnhealthyThreshold: 1})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	waitFor(t, "backend up", func() bool { return bal.Healthy() == 1 })
	be.status.Store(500)
	waitFor(t, "backend down", func() bool { return bal.Healthy() == 0 })
	be.status.Store(200)
	waitFor(t, "backend back", func() bool { return bal.Healthy() == 1 })
}

func TestRemovedBackendForgotten(t *testing.T) {
	a, b := newBackend(t), newBackend(t)
	bal, _ := balance.New(balance.Config{StartDown: true}, []balance.Target{{Addr: a.addr(), Weight: 1}, {Addr: b.addr(), Weight: 1}})
	c, _ := newChecker(t, bal, testCheck)
	c.Round(context.Background())
	if err := bal.Remove(b.addr()); err != nil {
		t.Fatal(err)
	}
	c.Round(context.Background())
	if len(c.counts) != 1 {
		t.Errorf("counts %v: the removed backend is still tracked", c.counts)
	}
}

func TestCheckValidate(t *testing.T) {
	for _, c := range []Check{
		{Interval: 0, Timeout: 1, HealthyThreshold: 1, UnhealthyThreshold: 1},
		{Interval: 1, Timeout: 2, HealthyThreshold: 1, UnhealthyThreshold: 1},
		{Interval: 2, Timeout: 1, HealthyThreshold: 0, UnhealthyThreshold: 1},
	} {
		if _, err := NewChecker("g", nil, c, nil, nil); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

func TestReadiness(t *testing.T) {
	up, _ := balance.New(balance.Config{}, []balance.Target{{Addr: "127.0.0.1:1", Weight: 1}})
	down, _ := balance.New(balance.Config{StartDown: true}, []balance.Target{{Addr: "127.0.0.1:2", Weight: 1}})

	r := NewReadiness(time.Hour)
	r.Add("up", up)
	if !r.Ready() {
		t.Fatal("not ready with a healthy group")
	}

	r = NewReadiness(time.Hour)
	r.Add("up", up)
	r.Add("down", down)
	ok, msg := r.Status()
	if ok || !strings.Contains(msg, "upstream down: 0/1 backends healthy") {
		t.Fatalf("status %v %q", ok, msg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := r.Wait(ctx); err == nil {
		t.Fatal("Wait returned ready with an unhealthy group")
	}
	waited := make(chan error, 1)
	go func() { waited <- r.Wait(context.Background()) }()
	down.SetHealthy("127.0.0.1:2", true)
	r.Notify()
	select {
	case err := <-waited:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Wait did not return after the group became healthy")
	}
	// Readiness latches.
	down.SetHealthy("127.0.0.1:2", false)
	if !r.Ready() {
		t.Error("readiness did not latch")
	}
	r.Drain()
	if ok, msg := r.Status(); ok || !strings.Contains(msg, "draining") {
		t.Errorf("draining: %v %q", ok, msg)
	}
	if err := r.Wait(context.Background()); err == nil {
		t.Error("Wait succeeded while draining")
	}
}

func TestReadinessGrace(t *testing.T) {
	down, _ := balance.New(balance.Config{StartDown: true}, []balance.Target{{Addr: "127.0.0.1:2", Weight: 1}})
	r := NewReadiness(100 * time.Millisecond)
	r.Add("down", down)
	if r.Ready() {
		t.Fatal("ready before the grace period")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, msg := r.Status(); !ok || !strings.Contains(msg, "grace period") {
		t.Errorf("status %v %q", ok, msg)
	}
}

// waitFor polls cond until it holds or a deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
