package proxy

import (
	"fmt"
	"sync"
	"time"

	"github.com/proxyspec/proxyspec/proxy/balance"
	"github.com/proxyspec/proxyspec/proxy/h1"
	"github.com/proxyspec/proxyspec/proxy/internal/fault"
)

// HashKeyKind is what a ketama group hashes to choose a backend.
type HashKeyKind uint8

// Hash key kinds.
const (
	HashNone       HashKeyKind = iota // no key: requests are spread round-robin
	HashHeader                        // the first value of the header field Name
	HashCookie                        // the value of the cookie Name
	HashClientAddr                    // the client's IP address
	HashPath                          // the request path, without the query
)

// HashKey selects the request key of a ketama group. A request without
// the key is spread round-robin.
type HashKey struct {
	Kind HashKeyKind
	Name string // field or cookie name (HashHeader, HashCookie)
}

func (k HashKey) validate() error {
	switch k.Kind {
	case HashNone, HashClientAddr, HashPath:
		return nil
	case HashHeader, HashCookie:
		if !h1.IsToken([]byte(k.Name)) {
			return fmt.Errorf("hash key name %q is not a token: %w", k.Name, errInvalid)
		}
		return nil
	}
	return fmt.Errorf("unknown hash key kind %d: %w", k.Kind, errInvalid)
}

// upstreamGroup is a balancer over backends, each with its own pool of
// keep-alive connections. Pools are made on first use, and dropped when
// their backend leaves the balancer.
type upstreamGroup struct {
	name   string
	opts   UpstreamOptions
	bal    *balance.Balancer
	faults fault.Set
	obs    Observer

	mu      sync.RWMutex
	pools   map[*balance.Backend]*upstreamPool
	version uint64 // balancer version the pools were pruned at
	closed  bool
}

func newUpstreamGroup(o UpstreamOptions, faults fault.Set, obs Observer) (*upstreamGroup, error) {
	bal := o.Balancer
	if bal == nil {
		var err error
		bal, err = balance.New(balance.Config{Policy: balance.RoundRobin}, []balance.Target{{Addr: o.Addr, Weight: 1}})
		if err != nil {
			return nil, err
		}
	}
	name := o.Name
	if name == "" {
		name = o.Addr
	}
	return &upstreamGroup{
		name: name, opts: o, bal: bal, faults: faults, obs: obs,
		pools: map[*balance.Backend]*upstreamPool{}, version: bal.Version(),
	}, nil
}

// pickBackend chooses the backend of the current request and records it in
// ex; false if the group has no healthy backend.
func (c *clientConn) pickBackend(ex *exchange) bool {
	g := ex.rt.group
	var b *balance.Backend
	var err error
	if h, ok := g.hashKey(c); ok {
		b, err = g.bal.PickHash(h)
	} else {
		b, err = g.bal.Pick()
	}
	if err != nil {
		return false
	}
	ex.backend, ex.pool = b, g.pool(b)
	return true
}

// releaseBackend ends the current request's claim on its backend (for
// least-connections).
func (ex *exchange) releaseBackend() {
	if ex.backend != nil {
		ex.backend.Done()
	}
	ex.backend, ex.pool = nil, nil
}

// hashKey hashes the request's key, if the group is ketama and the request
// has the key.
func (g *upstreamGroup) hashKey(c *clientConn) (uint32, bool) {
	if g.bal.Policy() != balance.Ketama {
		return 0, false
	}
	k := g.opts.HashKey
	switch k.Kind {
	case HashHeader:
		for i := range c.req.Fields {
			if f := &c.req.Fields[i]; h1.EqualFold(f.Name, k.Name) {
				return balance.Hash(f.Value), true
			}
		}
	case HashCookie:
		for i := range c.req.Fields {
			if f := &c.req.Fields[i]; h1.EqualFold(f.Name, "cookie") {
				if v, ok := cookieValue(f.Value, k.Name); ok {
					return balance.Hash(v), true
				}
			}
		}
	case HashClientAddr:
		if c.ip != "" {
			return balance.HashString(c.ip), true
		}
	case HashPath:
		p := c.req.Path
		for i, b := range p {
			if b == '?' {
				p = p[:i]
				break
			}
		}
		if len(p) > 0 {
			return balance.Hash(p), true
		}
	}
	return 0, false
}

// cookieValue finds cookie name in a Cookie field value
// ("a=1; b=2", RFC 6265 §4.2.1).
func cookieValue(v []byte, name string) ([]byte, bool) {
	for len(v) > 0 {
		end := 0
		for end < len(v) && v[end] != ';' {
			end++
		}
		pair := trimOWS(v[:end])
		for i, b := range pair {
			if b == '=' {
				if string(pair[:i]) == name {
					return pair[i+1:], true
				}
				break
			}
		}
		if end == len(v) {
			break
		}
		v = v[end+1:]
	}
	return nil, false
}

// pool returns b's connection pool, making it on first use. When the
// balancer's backend set changed, pools of removed backends are closed.
func (g *upstreamGroup) pool(b *balance.Backend) *upstreamPool {
	v := g.bal.Version()
	g.mu.RLock()
	p, ok := g.pools[b]
	fresh := g.version == v
	g.mu.RUnlock()
	if ok && fresh {
		return p
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.version != v {
		g.pruneLocked()
		g.version = v
	}
	if p, ok = g.pools[b]; ok {
		return p
	}
	o := g.opts
	o.Addr = b.Addr()
	p = newUpstreamPool(o, g.faults)
	p.group, p.obs = g.name, g.obs
	p.closed = g.closed
	g.pools[b] = p
	return p
}

// pruneLocked closes the pools of backends no longer in the balancer.
func (g *upstreamGroup) pruneLocked() {
	live := map[*balance.Backend]bool{}
	for _, b := range g.bal.Backends() {
		live[b] = true
	}
	for b, p := range g.pools {
		if !live[b] {
			p.close()
			delete(g.pools, b)
		}
	}
}

// dropExpired closes idle connections older than the idle timeout.
func (g *upstreamGroup) dropExpired(now time.Time) {
	g.mu.RLock()
	pools := make([]*upstreamPool, 0, len(g.pools))
	for _, p := range g.pools {
		pools = append(pools, p)
	}
	g.mu.RUnlock()
	for _, p := range pools {
		p.dropExpired(now)
	}
}

func (g *upstreamGroup) close() {
	g.mu.Lock()
	g.closed = true
	pools := g.pools
	g.mu.Unlock()
	for _, p := range pools {
		p.close()
	}
}

// groupFor returns the group of upstream options o: one per balancer (so
// routes sharing a balancer share its pools), one per plain address
// otherwise.
func (p *Proxy) groupFor(o UpstreamOptions) (*upstreamGroup, error) {
	for _, g := range p.groups {
		if o.Balancer != nil && g.opts.Balancer == o.Balancer || o.Balancer == nil && g.opts.Balancer == nil && g.opts == o {
			return g, nil
		}
	}
	g, err := newUpstreamGroup(o, p.faults, p.obs)
	if err != nil {
		return nil, err
	}
	p.groups = append(p.groups, g)
	return g, nil
}

// sweepIdle closes expired idle upstream connections in the background,
// so an idle pool does not hold connections past its idle timeout.
func (p *Proxy) sweepIdle() {
	defer p.wg.Done()
	every := time.Second
	for _, g := range p.groups {
		every = min(every, max(g.opts.IdleTimeout/2, 10*time.Millisecond))
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-p.ctx.Done():
			return
		case now := <-t.C:
			for _, g := range p.groups {
				g.dropExpired(now)
			}
		}
	}
}
