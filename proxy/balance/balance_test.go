package balance

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func targets(n int) []Target {
	ts := make([]Target, n)
	for i := range ts {
		ts[i] = Target{Addr: fmt.Sprintf("127.0.0.1:%d", 9001+i), Weight: 1}
	}
	return ts
}

func mustNew(t *testing.T, cfg Config, ts []Target) *Balancer {
	t.Helper()
	b, err := New(cfg, ts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return b
}

// counts picks n times (ending each request at once) and counts per address.
func counts(t *testing.T, b *Balancer, n int) map[string]int {
	t.Helper()
	c := map[string]int{}
	for range n {
		be, err := b.Pick()
		if err != nil {
			t.Fatalf("Pick: %v", err)
		}
		c[be.Addr()]++
		be.Done()
	}
	return c
}

func TestRoundRobinWeighted(t *testing.T) {
	for _, tc := range []struct {
		name    string
		weights []int
	}{
		{"equal", []int{1, 1, 1}},
		{"1-2-3", []int{1, 2, 3}},
		{"gcd", []int{10, 20}},
		{"single", []int{7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := targets(len(tc.weights))
			total := 0
			for i, w := range tc.weights {
				ts[i].Weight = w
				total += w
			}
			b := mustNew(t, Config{Policy: RoundRobin}, ts)
			periods := 50
			got := counts(t, b, total*periods)
			for i, w := range tc.weights {
				if got[ts[i].Addr] != w*periods {
					t.Errorf("%s: %d picks, want %d", ts[i].Addr, got[ts[i].Addr], w*periods)
				}
			}
		})
	}
}

func TestRoundRobinSmooth(t *testing.T) {
	// nginx's smooth WRR for weights 5,1,1: a a b a c a a — the heavy
	// backend never gets all its turns in a row.
	ts := []Target{{"a:1", 5}, {"b:1", 1}, {"c:1", 1}}
	b := mustNew(t, Config{}, ts)
	var seq []string
	for range 7 {
		be, _ := b.Pick()
		seq = append(seq, strings.TrimSuffix(be.Addr(), ":1"))
		be.Done()
	}
	if got := strings.Join(seq, " "); got != "a a b a c a a" {
		t.Errorf("sequence %q", got)
	}
}

func TestHealthSkipsAndReturns(t *testing.T) {
	for _, p := range Policies() {
		t.Run(string(p), func(t *testing.T) {
			ts := targets(3)
			b := mustNew(t, Config{Policy: p}, ts)
			if !b.SetHealthy(ts[1].Addr, false) {
				t.Fatal("SetHealthy reported no change")
			}
			if b.SetHealthy(ts[1].Addr, false) {
				t.Fatal("second SetHealthy reported a change")
			}
			for i := range 300 {
				be, err := b.PickHash(HashString(strconv.Itoa(i)))
				if err != nil {
					t.Fatal(err)
				}
				if be.Addr() == ts[1].Addr {
					t.Fatalf("unhealthy backend picked")
				}
				be.Done()
			}
			for _, tt := range ts {
				b.SetHealthy(tt.Addr, false)
			}
			if _, err := b.Pick(); !errors.Is(err, ErrNoBackend) {
				t.Fatalf("all down: err %v", err)
			}
			if _, err := b.PickHash(1); !errors.Is(err, ErrNoBackend) {
				t.Fatalf("all down (hash): err %v", err)
			}
			b.SetHealthy(ts[1].Addr, true)
			be, err := b.Pick()
			if err != nil || be.Addr() != ts[1].Addr {
				t.Fatalf("recovered: %v %v", be, err)
			}
			be.Done()
		})
	}
}

func TestLeastConnections(t *testing.T) {
	ts := []Target{{"a:1", 1}, {"b:1", 2}, {"c:1", 1}}
	b := mustNew(t, Config{Policy: LeastConnections}, ts)
	// Hold every pick: in-flight counts follow the weights (b twice the others).
	held := map[string]int{}
	var all []*Backend
	for range 40 {
		be, err := b.Pick()
		if err != nil {
			t.Fatal(err)
		}
		held[be.Addr()]++
		all = append(all, be)
	}
	if held["a:1"] != 10 || held["b:1"] != 20 || held["c:1"] != 10 {
		t.Errorf("in flight %v, want a:10 b:20 c:10", held)
	}
	// Finish a's requests: the next picks go to a until it catches up.
	for _, be := range all {
		if be.Addr() == "a:1" {
			be.Done()
		}
	}
	for range 10 {
		be, _ := b.Pick()
		if be.Addr() != "a:1" {
			t.Fatalf("picked %s, want a:1 (fewest in flight)", be.Addr())
		}
	}
	st := b.Status()
	if st[0].Active != 10 || st[1].Active != 20 {
		t.Errorf("status %+v", st)
	}
}

func TestUpdateValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		ts   []Target
		want string
	}{
		{"empty addr", []Target{{"", 1}}, "empty address"},
		{"zero weight", []Target{{"a:1", 0}}, "weight 0"},
		{"huge weight", []Target{{"a:1", MaxWeight + 1}}, "weight"},
		{"duplicate", []Target{{"a:1", 1}, {"a:1", 2}}, "duplicate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(Config{}, tc.ts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := New(Config{Policy: "random"}, nil); err == nil {
		t.Error("unknown policy accepted")
	}
	b := mustNew(t, Config{}, targets(2))
	if err := b.Update([]Target{{"", 1}}); err == nil {
		t.Error("bad update accepted")
	}
	if len(b.Targets()) != 2 {
		t.Error("a failed update changed the set")
	}
	if err := b.Remove("nope:1"); err == nil {
		t.Error("removing an unknown backend succeeded")
	}
	if err := b.SetWeight("nope:1", 2); err == nil {
		t.Error("reweighting an unknown backend succeeded")
	}
}

func TestUpdateKeepsBackendState(t *testing.T) {
	ts := targets(2)
	b := mustNew(t, Config{Policy: LeastConnections, StartDown: true}, ts)
	if b.Healthy() != 0 {
		t.Fatal("StartDown backends are healthy")
	}
	b.SetHealthy(ts[0].Addr, true)
	held, _ := b.Pick()
	v := b.Version()
	if err := b.Add(Target{"new:1", 1}); err != nil {
		t.Fatal(err)
	}
	if b.Version() == v {
		t.Error("version unchanged by an update")
	}
	bs := b.Backends()
	if bs[0] != held || !bs[0].Healthy() || bs[0].Active() != 1 {
		t.Errorf("kept backend lost its state: %p %v %d", bs[0], bs[0].Healthy(), bs[0].Active())
	}
	if bs[2].Healthy() {
		t.Error("new backend is healthy before any check (StartDown)")
	}
}

// ringOf maps keys to backend addresses.
func ringOf(b *Balancer, keys int) []string {
	out := make([]string, keys)
	for i := range out {
		be, err := b.PickHash(HashString("key-" + strconv.Itoa(i)))
		if err != nil {
			panic(err)
		}
		out[i] = be.Addr()
		be.Done()
	}
	return out
}

// TestKetamaMovement measures the fraction of keys that move when one
// backend joins N (ideal: 1/(N+1)); every moved key must move to the new
// backend. Run with -v to see the figures.
func TestKetamaMovement(t *testing.T) {
	const keys = 100_000
	for _, n := range []int{4, 10, 20} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			b := mustNew(t, Config{Policy: Ketama}, targets(n))
			before := ringOf(b, keys)
			added := "127.0.0.1:9999"
			if err := b.Add(Target{added, 1}); err != nil {
				t.Fatal(err)
			}
			after := ringOf(b, keys)
			moved := 0
			for i := range before {
				if before[i] != after[i] {
					moved++
					if after[i] != added {
						t.Fatalf("key %d moved from %s to %s, not to the new backend", i, before[i], after[i])
					}
				}
			}
			frac, ideal := float64(moved)/keys, 1/float64(n+1)
			t.Logf("N=%d→%d: %d of %d keys moved = %.4f (ideal 1/(N+1) = %.4f, ratio %.2f)", n, n+1, moved, keys, frac, ideal, frac/ideal)
			if math.Abs(frac-ideal) > 0.25*ideal {
				t.Errorf("moved fraction %.4f, want %.4f ± 25%%", frac, ideal)
			}
			// Removing it again restores the original mapping exactly.
			if err := b.Remove(added); err != nil {
				t.Fatal(err)
			}
			if again := ringOf(b, keys); !slicesEqual(again, before) {
				t.Error("removing the added backend did not restore the mapping")
			}
		})
	}
}

func TestKetamaBalance(t *testing.T) {
	const keys = 100_000
	ts := targets(5)
	ts[4].Weight = 2
	b := mustNew(t, Config{Policy: Ketama}, ts)
	c := map[string]int{}
	for _, a := range ringOf(b, keys) {
		c[a]++
	}
	for i, tt := range ts {
		want := float64(keys) * float64(tt.Weight) / 6
		if got := float64(c[tt.Addr]); math.Abs(got-want) > 0.15*want {
			t.Errorf("backend %d: %v keys, want %.0f ± 15%%", i, got, want)
		}
	}
}

// TestKetamaUpdatePersists is the Pingora 0.8 ketama fix: an update must
// rebuild the ring with the balancer's own configuration, and each update
// must survive the later ones.
func TestKetamaUpdatePersists(t *testing.T) {
	cfg := Config{Policy: Ketama, PointsPerWeight: 40}
	b := mustNew(t, cfg, targets(3))
	steps := []struct {
		name string
		do   func() error
	}{
		{"add", func() error { return b.Add(Target{"127.0.0.1:9901", 1}) }},
		{"reweight", func() error { return b.SetWeight("127.0.0.1:9001", 3) }},
		{"remove", func() error { return b.Remove("127.0.0.1:9002") }},
		{"add again", func() error { return b.Add(Target{"127.0.0.1:9902", 2}) }},
	}
	want := []Target{{"127.0.0.1:9001", 3}, {"127.0.0.1:9003", 1}, {"127.0.0.1:9901", 1}, {"127.0.0.1:9902", 2}}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := len(b.snap.Load().ring); got != totalWeight(b.Targets())*40 {
			t.Fatalf("after %s: ring has %d points, want %d (config lost)", s.name, got, totalWeight(b.Targets())*40)
		}
		if b.Config() != (Config{Policy: Ketama, PointsPerWeight: 40}) {
			t.Fatalf("after %s: config %+v", s.name, b.Config())
		}
	}
	if got := b.Targets(); !slicesEqual(got, want) {
		t.Fatalf("targets %v, want %v (an update was lost)", got, want)
	}
	// The updated ring is exactly the ring a fresh balancer builds.
	fresh := mustNew(t, cfg, want)
	if !slicesEqual(ringOf(b, 20_000), ringOf(fresh, 20_000)) {
		t.Error("updated ring differs from a fresh one with the same config")
	}
	def := mustNew(t, Config{Policy: Ketama}, want)
	if slicesEqual(ringOf(b, 20_000), ringOf(def, 20_000)) {
		t.Error("the ring does not depend on PointsPerWeight (test would not catch the bug)")
	}
}

func TestKetamaUnhealthyKeysReturn(t *testing.T) {
	ts := targets(4)
	b := mustNew(t, Config{Policy: Ketama}, ts)
	before := ringOf(b, 20_000)
	b.SetHealthy(ts[2].Addr, false)
	during := ringOf(b, 20_000)
	for i := range before {
		if during[i] == ts[2].Addr {
			t.Fatal("key on the unhealthy backend")
		}
		if before[i] != ts[2].Addr && during[i] != before[i] {
			t.Fatal("a key of a healthy backend moved")
		}
	}
	b.SetHealthy(ts[2].Addr, true)
	if !slicesEqual(ringOf(b, 20_000), before) {
		t.Error("keys did not come back to the recovered backend")
	}
}

func TestKetamaOrderIndependent(t *testing.T) {
	ts := targets(5)
	rev := make([]Target, len(ts))
	for i := range ts {
		rev[len(ts)-1-i] = ts[i]
	}
	a := mustNew(t, Config{Policy: Ketama}, ts)
	b := mustNew(t, Config{Policy: Ketama}, rev)
	if !slicesEqual(ringOf(a, 10_000), ringOf(b, 10_000)) {
		t.Error("mapping depends on the configuration order")
	}
}

func TestConcurrentPickAndUpdate(t *testing.T) {
	for _, p := range Policies() {
		t.Run(string(p), func(t *testing.T) {
			b := mustNew(t, Config{Policy: p}, targets(4))
			var wg sync.WaitGroup
			for g := range 4 {
				wg.Go(func() {
					for i := range 2000 {
						be, err := b.PickHash(uint32(i * (g + 1)))
						if err != nil {
							t.Error(err)
							return
						}
						be.Done()
					}
				})
			}
			for i := range 50 {
				ts := targets(2 + i%5)
				if err := b.Update(ts); err != nil {
					t.Fatal(err)
				}
				b.SetHealthy(ts[0].Addr, i%2 == 0)
			}
			wg.Wait()
		})
	}
}

func TestPickDoesNotAllocate(t *testing.T) {
	for _, p := range Policies() {
		b := mustNew(t, Config{Policy: p}, targets(8))
		key := []byte("user-42")
		n := testing.AllocsPerRun(1000, func() {
			be, _ := b.PickHash(Hash(key))
			be.Done()
		})
		if n != 0 {
			t.Errorf("%s: %v allocs per pick", p, n)
		}
	}
}

func BenchmarkPick(b *testing.B) {
	for _, p := range Policies() {
		b.Run(string(p), func(b *testing.B) {
			bal, _ := New(Config{Policy: p}, targets(16))
			key := []byte("session-abcdef")
			b.ReportAllocs()
			for b.Loop() {
				be, _ := bal.PickHash(Hash(key))
				be.Done()
			}
		})
	}
}

func totalWeight(ts []Target) int {
	n := 0
	for _, t := range ts {
		n += t.Weight
	}
	return n
}

func slicesEqual[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
