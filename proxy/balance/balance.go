// Package balance chooses a backend for each request of an upstream group:
// weighted round-robin, least-connections, or ketama consistent hashing.
//
// A [Balancer] holds an immutable snapshot of its backends; Pick reads it
// without locks or allocations. Updates (add, remove, weight change) build
// a new snapshot from the balancer's own [Config], which never changes after
// New: an update can therefore not lose the configuration (Pingora 0.8 fixed
// a ketama bug where the rebuilt ring lost it). A [Backend] keeps its
// identity, health and in-flight count across updates for as long as its
// address stays in the set.
package balance

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

// Policy names a balancing algorithm.
type Policy string

// Policies.
const (
	RoundRobin       Policy = "round-robin"       // smooth weighted round-robin
	LeastConnections Policy = "least-connections" // fewest in-flight requests per unit of weight
	Ketama           Policy = "ketama"            // consistent hashing of a request key
)

// Policies lists the known policies.
func Policies() []Policy { return []Policy{RoundRobin, LeastConnections, Ketama} }

// Limits on a backend set.
const (
	MaxWeight   = 1000
	MaxBackends = 1000
	// DefaultPointsPerWeight is the number of ketama ring points per unit
	// of weight (libketama and nginx use 160 per server).
	DefaultPointsPerWeight = 160
	maxPointsPerWeight     = 1000
)

// ErrNoBackend is returned by Pick when no backend is healthy.
var ErrNoBackend = errors.New("balance: no healthy backend")

// Config configures a Balancer. It is fixed at New: updates of the backend
// set reuse it unchanged.
type Config struct {
	Policy Policy
	// PointsPerWeight is the number of ketama ring points per unit of
	// weight; 0 means DefaultPointsPerWeight. Ignored by other policies.
	PointsPerWeight int
	// StartDown makes backends start unhealthy until SetHealthy marks them
	// up: set it when active health checks run.
	StartDown bool
}

// Target is a backend as configured: an address and a weight (1 to
// MaxWeight).
type Target struct {
	Addr   string
	Weight int
}

// Backend is one backend of a Balancer.
type Backend struct {
	addr    string
	healthy atomic.Bool
	active  atomic.Int64
}

// Addr returns the backend's address.
func (b *Backend) Addr() string { return b.addr }

// Healthy reports whether the backend is in rotation.
func (b *Backend) Healthy() bool { return b.healthy.Load() }

// Active returns the number of requests picked and not yet Done.
func (b *Backend) Active() int64 { return b.active.Load() }

// Done ends a request that Pick sent to b.
func (b *Backend) Done() { b.active.Add(-1) }

// Status is a snapshot of one backend.
type Status struct {
	Addr    string
	Weight  int
	Healthy bool
	Active  int64
}

// Balancer picks backends. It is safe for concurrent use.
type Balancer struct {
	cfg Config

	mu      sync.Mutex // serializes updates
	snap    atomic.Pointer[snapshot]
	version atomic.Uint64
	rr      atomic.Uint64 // round-robin cursor (also the fallback of the others)
}

// member is a backend with its weight in one snapshot.
type member struct {
	b      *Backend
	weight int
}

// snapshot is an immutable backend set with what its policy precomputed.
type snapshot struct {
	members []member
	byAddr  map[string]int
	seq     []uint32 // smooth weighted round-robin order of member indexes
	ring    []point  // ketama ring, sorted by hash
}

// New returns a balancer with policy cfg.Policy over targets.
func New(cfg Config, targets []Target) (*Balancer, error) {
	switch cfg.Policy {
	case RoundRobin, LeastConnections, Ketama:
	case "":
		cfg.Policy = RoundRobin
	default:
		return nil, fmt.Errorf("balance: unknown policy %q", cfg.Policy)
	}
	if cfg.PointsPerWeight < 0 || cfg.PointsPerWeight > maxPointsPerWeight {
		return nil, fmt.Errorf("balance: points per weight %d not in 0..%d", cfg.PointsPerWeight, maxPointsPerWeight)
	}
	if cfg.PointsPerWeight == 0 {
		cfg.PointsPerWeight = DefaultPointsPerWeight
	}
	b := &Balancer{cfg: cfg}
	if err := b.Update(targets); err != nil {
		return nil, err
	}
	return b, nil
}

// Config returns the balancer's configuration (defaults filled in).
func (b *Balancer) Config() Config { return b.cfg }

// Policy returns the balancer's policy.
func (b *Balancer) Policy() Policy { return b.cfg.Policy }

// Version counts the updates of the backend set; it changes whenever a
// backend may have been added or removed.
func (b *Balancer) Version() uint64 { return b.version.Load() }

// Update replaces the backend set. Backends whose address stays keep their
// identity, health and in-flight count; new ones start healthy unless
// Config.StartDown is set. The policy's configuration is the one given to
// New.
func (b *Balancer) Update(targets []Target) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.updateLocked(targets)
}

func (b *Balancer) updateLocked(targets []Target) error {
	if len(targets) > MaxBackends {
		return fmt.Errorf("balance: %d backends, at most %d", len(targets), MaxBackends)
	}
	old := b.snap.Load()
	s := &snapshot{members: make([]member, 0, len(targets)), byAddr: make(map[string]int, len(targets))}
	for i, t := range targets {
		if t.Addr == "" {
			return fmt.Errorf("balance: backend %d: empty address", i)
		}
		if t.Weight < 1 || t.Weight > MaxWeight {
			return fmt.Errorf("balance: backend %s: weight %d not in 1..%d", t.Addr, t.Weight, MaxWeight)
		}
		if _, dup := s.byAddr[t.Addr]; dup {
			return fmt.Errorf("balance: backend %s: duplicate address", t.Addr)
		}
		var be *Backend
		if old != nil {
			if j, ok := old.byAddr[t.Addr]; ok {
				be = old.members[j].b
			}
		}
		if be == nil {
			be = &Backend{addr: t.Addr}
			be.healthy.Store(!b.cfg.StartDown)
		}
		s.byAddr[t.Addr] = len(s.members)
		s.members = append(s.members, member{b: be, weight: t.Weight})
	}
	s.seq = smoothSequence(s.members)
	if b.cfg.Policy == Ketama {
		s.ring = buildRing(s.members, b.cfg.PointsPerWeight)
	}
	b.snap.Store(s)
	b.version.Add(1)
	return nil
}

// Targets returns the current backend set.
func (b *Balancer) Targets() []Target {
	s := b.snap.Load()
	out := make([]Target, len(s.members))
	for i, m := range s.members {
		out[i] = Target{Addr: m.b.addr, Weight: m.weight}
	}
	return out
}

// modify applies fn to the current targets and updates, atomically with
// respect to other updates.
func (b *Balancer) modify(fn func([]Target) ([]Target, error)) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	ts, err := fn(b.Targets())
	if err != nil {
		return err
	}
	return b.updateLocked(ts)
}

// Add adds a backend.
func (b *Balancer) Add(t Target) error {
	return b.modify(func(ts []Target) ([]Target, error) { return append(ts, t), nil })
}

// Remove removes the backend with address addr.
func (b *Balancer) Remove(addr string) error {
	return b.modify(func(ts []Target) ([]Target, error) {
		i := slices.IndexFunc(ts, func(t Target) bool { return t.Addr == addr })
		if i < 0 {
			return nil, fmt.Errorf("balance: backend %s: not found", addr)
		}
		return slices.Delete(ts, i, i+1), nil
	})
}

// SetWeight changes the weight of the backend with address addr.
func (b *Balancer) SetWeight(addr string, w int) error {
	return b.modify(func(ts []Target) ([]Target, error) {
		i := slices.IndexFunc(ts, func(t Target) bool { return t.Addr == addr })
		if i < 0 {
			return nil, fmt.Errorf("balance: backend %s: not found", addr)
		}
		ts[i].Weight = w
		return ts, nil
	})
}

// Backends returns the current backends, in configuration order.
func (b *Balancer) Backends() []*Backend {
	s := b.snap.Load()
	out := make([]*Backend, len(s.members))
	for i, m := range s.members {
		out[i] = m.b
	}
	return out
}

// Status returns a snapshot of every backend, in configuration order.
func (b *Balancer) Status() []Status {
	s := b.snap.Load()
	out := make([]Status, len(s.members))
	for i, m := range s.members {
		out[i] = Status{Addr: m.b.addr, Weight: m.weight, Healthy: m.b.Healthy(), Active: m.b.Active()}
	}
	return out
}

// Healthy returns the number of healthy backends.
func (b *Balancer) Healthy() int {
	n := 0
	for _, m := range b.snap.Load().members {
		if m.b.Healthy() {
			n++
		}
	}
	return n
}

// SetHealthy marks the backend with address addr in or out of rotation. It
// reports whether the state changed (false for an unknown address).
func (b *Balancer) SetHealthy(addr string, healthy bool) bool {
	s := b.snap.Load()
	i, ok := s.byAddr[addr]
	if !ok {
		return false
	}
	return s.members[i].b.healthy.Swap(healthy) != healthy
}

// Pick chooses a backend for a request without a hash key. The caller
// calls Done on it when the request ends.
func (b *Balancer) Pick() (*Backend, error) {
	s := b.snap.Load()
	var be *Backend
	if b.cfg.Policy == LeastConnections {
		be = b.leastConnections(s)
	} else {
		be = b.roundRobin(s)
	}
	if be == nil {
		return nil, ErrNoBackend
	}
	be.active.Add(1)
	return be, nil
}

// PickHash chooses a backend for a request whose key hashes to h (see
// Hash). Only ketama uses the hash; the other policies behave as Pick.
func (b *Balancer) PickHash(h uint32) (*Backend, error) {
	if b.cfg.Policy != Ketama {
		return b.Pick()
	}
	s := b.snap.Load()
	be := s.lookup(h)
	if be == nil {
		return nil, ErrNoBackend
	}
	be.active.Add(1)
	return be, nil
}

// roundRobin walks the smooth weighted sequence from the shared cursor,
// skipping unhealthy backends (their turns go to the next in sequence).
func (b *Balancer) roundRobin(s *snapshot) *Backend {
	n := len(s.seq)
	if n == 0 {
		return nil
	}
	start := b.rr.Add(1) - 1
	for i := range n {
		m := s.members[s.seq[(start+uint64(i))%uint64(n)]]
		if m.b.Healthy() {
			return m.b
		}
	}
	return nil
}

// leastConnections picks the healthy backend with the fewest in-flight
// requests per unit of weight; ties are broken round-robin.
func (b *Balancer) leastConnections(s *snapshot) *Backend {
	n := len(s.members)
	if n == 0 {
		return nil
	}
	start := int(b.rr.Add(1) % uint64(n))
	var best member
	var bestActive int64
	for i := range n {
		m := s.members[(start+i)%n]
		if !m.b.Healthy() {
			continue
		}
		a := m.b.Active()
		// a/w < bestActive/bestWeight, without division.
		if best.b == nil || a*int64(best.weight) < bestActive*int64(m.weight) {
			best, bestActive = m, a
		}
	}
	return best.b
}

// smoothSequence returns one period of nginx's smooth weighted round-robin
// over members: each member appears weight/g times (g the gcd of the
// weights), interleaved as evenly as the algorithm makes it.
func smoothSequence(members []member) []uint32 {
	g := 0
	for _, m := range members {
		g = gcd(g, m.weight)
	}
	total := 0
	for _, m := range members {
		total += m.weight / g
	}
	seq := make([]uint32, 0, total)
	cur := make([]int, len(members))
	for range total {
		best := -1
		for i, m := range members {
			cur[i] += m.weight / g
			if best < 0 || cur[i] > cur[best] {
				best = i
			}
		}
		cur[best] -= total
		seq = append(seq, uint32(best))
	}
	return seq
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
