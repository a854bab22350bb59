// Package proxy is the reference HTTP/1.1 reverse proxy of proxyspec.
//
// It is strict by default and small enough to read: an own HTTP/1 codec
// (package h1) parses heads into pooled buffers, framing is decided by one
// function per direction (RFC 9112 §6.3), forwarded heads are regenerated
// from parsed fields, and upstream connections are reused only after an
// exchange that ended cleanly. See README.md for every policy choice.
package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/proxyspec/proxyspec/proxy/h1"
	"github.com/proxyspec/proxyspec/proxy/internal/fault"
)

// Proxy is a running reverse proxy.
type Proxy struct {
	faults    fault.Set // deliberate deviations (fault-injection builds only)
	opts      Options
	upLim     h1.Limits // limits for upstream response heads
	log       *slog.Logger
	listeners []*listener
	routes    []*route
	def       *route // default upstream; nil if none
	groups    []*upstreamGroup
	obs       Observer

	mu       sync.Mutex
	conns    map[*clientConn]struct{}
	shutting atomic.Bool
	closed   bool

	wg        sync.WaitGroup
	closeOnce sync.Once
	ctx       context.Context
	cancel    context.CancelFunc
}

type listener struct {
	opts ListenerOptions
	lim  h1.Limits
	ln   net.Listener
}

// route is a resolved Route (or the default upstream).
type route struct {
	name        string
	host        string // lower case; "" = any
	hostPort    bool   // host includes a port
	prefix      string
	group       *upstreamGroup
	rangeFilter bool
}

// Start validates o, binds every listener and serves in the background
// until Close or Shutdown. ctx only bounds the start (binding).
func Start(ctx context.Context, o Options) (*Proxy, error) {
	o, err := o.normalize()
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	faults, err := fault.Parse(o.Faults)
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	p := &Proxy{faults: faults, opts: o, log: o.Logger, conns: map[*clientConn]struct{}{}}
	p.upLim = upstreamLimits
	p.upLim.Faults = faults
	if p.log == nil {
		p.log = slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError + 1}))
	}
	p.obs = o.observer()
	p.ctx, p.cancel = context.WithCancel(context.Background())
	for _, r := range o.Routes {
		g, err := p.groupFor(r.Upstream)
		if err != nil {
			p.cancel()
			return nil, fmt.Errorf("proxy: route %q: %w", r.Name, err)
		}
		host := strings.ToLower(r.Host)
		p.routes = append(p.routes, &route{
			name: r.Name, host: host, hostPort: strings.Contains(host, ":") && !strings.HasSuffix(host, "]"),
			prefix: r.PathPrefix, group: g, rangeFilter: r.RangeFilter,
		})
	}
	if o.Upstream.Addr != "" || o.Upstream.Balancer != nil {
		g, err := p.groupFor(o.Upstream)
		if err != nil {
			p.cancel()
			return nil, fmt.Errorf("proxy: upstream: %w", err)
		}
		p.def = &route{name: "default", group: g, rangeFilter: o.RangeFilter}
	}

	var lc net.ListenConfig
	for _, lo := range o.Listeners {
		ln, err := lc.Listen(ctx, "tcp", lo.Addr)
		if err != nil {
			for _, l := range p.listeners {
				l.ln.Close()
			}
			p.cancel()
			return nil, fmt.Errorf("proxy: listener %q: %w", lo.Name, err)
		}
		if lo.TLS != nil {
			ln = tls.NewListener(ln, lo.TLS)
		}
		p.listeners = append(p.listeners, &listener{
			opts: lo,
			lim:  h1.Limits{Faults: faults, MaxHeadBytes: lo.MaxHeadBytes, MaxFields: lo.MaxFields, MaxTargetBytes: lo.MaxTargetBytes},
			ln:   ln,
		})
	}
	for _, l := range p.listeners {
		p.wg.Add(1)
		go p.accept(l)
	}
	p.wg.Add(1)
	go p.sweepIdle()
	return p, nil
}

// Addr returns the bound address of listener i ("" if there is none).
func (p *Proxy) Addr(i int) string {
	if i < 0 || i >= len(p.listeners) {
		return ""
	}
	return p.listeners[i].ln.Addr().String()
}

// Close stops the listeners, closes every connection (client and upstream)
// and waits for all goroutines to end.
func (p *Proxy) Close() error {
	p.closeOnce.Do(func() {
		p.shutting.Store(true)
		p.cancel()
		for _, l := range p.listeners {
			l.ln.Close()
		}
		p.mu.Lock()
		p.closed = true
		for c := range p.conns {
			c.abort()
		}
		p.mu.Unlock()
		p.wg.Wait()
		for _, g := range p.groups {
			g.close()
		}
	})
	return nil
}

// Shutdown stops accepting, lets in-flight requests finish (their responses
// say Connection: close), closes idle connections, and waits until every
// connection is gone or ctx is done; then it calls Close.
func (p *Proxy) Shutdown(ctx context.Context) error {
	p.shutting.Store(true)
	for _, l := range p.listeners {
		l.ln.Close()
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		p.mu.Lock()
		n := len(p.conns)
		for c := range p.conns {
			c.wakeIfIdle()
		}
		p.mu.Unlock()
		if n == 0 {
			return p.Close()
		}
		select {
		case <-ctx.Done():
			p.Close()
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func (p *Proxy) accept(l *listener) {
	defer p.wg.Done()
	var backoff time.Duration
	for {
		nc, err := l.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || p.shutting.Load() {
				return
			}
			// Temporary failure (e.g. out of file descriptors): back off.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			p.log.Warn("accept failed", "listener", l.opts.Name, "err", err)
			select {
			case <-time.After(backoff):
				continue
			case <-p.ctx.Done():
				return
			}
		}
		backoff = 0
		c := newClientConn(p, l, nc)
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			nc.Close()
			return
		}
		p.conns[c] = struct{}{}
		p.wg.Add(1)
		p.mu.Unlock()
		p.obs.ClientConnOpened(l.opts.Name)
		go c.serve()
	}
}

func (p *Proxy) forget(c *clientConn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// match returns the route for a request: the first Route that matches, else
// the default upstream (nil if there is none).
func (p *Proxy) match(req *h1.Request) *route {
	path := req.Path
	if len(path) == 0 || path[0] != '/' {
		path = []byte("/")
	}
	for _, r := range p.routes {
		if r.host != "" && !hostMatches(req.Host, r.host, r.hostPort) {
			continue
		}
		if len(path) < len(r.prefix) || string(path[:len(r.prefix)]) != r.prefix {
			continue
		}
		return r
	}
	return p.def
}

// hostMatches compares a request authority with a route host, ignoring the
// port unless the route host has one.
func hostMatches(authority []byte, host string, withPort bool) bool {
	if !withPort {
		if i := lastColon(authority); i >= 0 {
			authority = authority[:i]
		}
	}
	return h1.EqualFold(authority, host)
}

// lastColon returns the index of the port separator, or -1.
func lastColon(a []byte) int {
	for i := len(a) - 1; i >= 0; i-- {
		switch a[i] {
		case ':':
			return i
		case ']':
			return -1
		}
	}
	return -1
}
