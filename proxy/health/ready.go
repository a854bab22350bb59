package health

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/proxyspec/proxyspec/proxy/balance"
)

// Readiness decides when the proxy is ready for traffic: once every group
// has a healthy backend, or once the grace period has passed since New.
// Readiness latches: a later loss of every backend of a group does not
// make the proxy unready (requests then get 503). Drain makes it unready
// for good (shutdown).
type Readiness struct {
	grace time.Duration
	start time.Time

	mu     sync.Mutex
	groups []readyGroup

	wake     chan struct{}          // one pending wake-up for Wait
	ready    atomic.Pointer[string] // why it became ready; nil: not yet
	draining atomic.Bool
}

type readyGroup struct {
	name string
	bal  *balance.Balancer
}

// NewReadiness starts the grace period now.
func NewReadiness(grace time.Duration) *Readiness {
	return &Readiness{grace: grace, start: time.Now(), wake: make(chan struct{}, 1)}
}

// Add makes readiness depend on a group having a healthy backend.
func (r *Readiness) Add(name string, bal *balance.Balancer) {
	r.mu.Lock()
	r.groups = append(r.groups, readyGroup{name, bal})
	r.mu.Unlock()
	r.Notify()
}

// Notify tells Wait to look again (a backend changed state).
func (r *Readiness) Notify() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Drain marks the proxy as shutting down: not ready from now on.
func (r *Readiness) Drain() { r.draining.Store(true) }

// Ready reports whether the proxy is ready.
func (r *Readiness) Ready() bool {
	ok, _ := r.Status()
	return ok
}

// Status reports readiness and explains it, one line per group.
func (r *Readiness) Status() (bool, string) {
	if r.draining.Load() {
		return false, "draining: shutting down\n"
	}
	var b strings.Builder
	all := true
	r.mu.Lock()
	for _, g := range r.groups {
		h, n := g.bal.Healthy(), len(g.bal.Backends())
		fmt.Fprintf(&b, "upstream %s: %d/%d backends healthy\n", g.name, h, n)
		if h == 0 {
			all = false
		}
	}
	r.mu.Unlock()
	if why := r.ready.Load(); why != nil {
		return true, *why + b.String()
	}
	var why string
	switch {
	case all:
		why = "ready\n"
	case time.Since(r.start) >= r.grace:
		why = fmt.Sprintf("ready: grace period of %s passed\n", r.grace)
	default:
		return false, "not ready: waiting for healthy backends\n" + b.String()
	}
	r.ready.CompareAndSwap(nil, &why)
	return true, *r.ready.Load() + b.String()
}

// Wait blocks until the proxy is ready or ctx is done.
func (r *Readiness) Wait(ctx context.Context) error {
	grace := time.NewTimer(max(0, r.grace-time.Since(r.start)))
	defer grace.Stop()
	for {
		if r.draining.Load() {
			return fmt.Errorf("health: draining before ready")
		}
		if r.Ready() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.wake:
		case <-grace.C:
		}
	}
}
