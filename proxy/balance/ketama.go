package balance

import (
	"cmp"
	"slices"
	"strconv"
)

// point is one position of a backend on the ketama ring.
type point struct {
	hash   uint32
	member uint32 // index into snapshot.members
}

// buildRing places weight×perWeight points per member on the ring. A
// point's position depends only on the backend's address and the point's
// number, so adding a backend moves only the keys that now fall on its
// points: about 1/(N+1) of them for N equal backends.
func buildRing(members []member, perWeight int) []point {
	n := 0
	for _, m := range members {
		n += m.weight * perWeight
	}
	ring := make([]point, 0, n)
	var buf []byte
	for i, m := range members {
		for j := range m.weight * perWeight {
			buf = append(buf[:0], m.b.addr...)
			buf = append(buf, '-')
			buf = strconv.AppendInt(buf, int64(j), 10)
			ring = append(ring, point{hash: Hash(buf), member: uint32(i)})
		}
	}
	// Ties (rare) are broken by address so the ring does not depend on the
	// configuration order.
	slices.SortFunc(ring, func(a, b point) int {
		if c := cmp.Compare(a.hash, b.hash); c != 0 {
			return c
		}
		return cmp.Compare(members[a.member].b.addr, members[b.member].b.addr)
	})
	return ring
}

// lookup returns the backend owning hash h: the first point at or after h,
// wrapping around; if that backend is unhealthy, the next healthy one
// along the ring (so its keys spread over the others and come back when it
// recovers).
func (s *snapshot) lookup(h uint32) *Backend {
	n := len(s.ring)
	if n == 0 {
		return nil
	}
	i, _ := slices.BinarySearchFunc(s.ring, h, func(p point, h uint32) int { return cmp.Compare(p.hash, h) })
	for k := range n {
		m := s.members[s.ring[(i+k)%n].member]
		if m.b.Healthy() {
			return m.b
		}
		if k >= len(s.members) && !s.anyHealthy() {
			return nil
		}
	}
	return nil
}

func (s *snapshot) anyHealthy() bool {
	for _, m := range s.members {
		if m.b.Healthy() {
			return true
		}
	}
	return false
}

// Hash hashes a request key for PickHash: 32-bit FNV-1a followed by the
// murmur3 finalizer, so that similar keys land far apart. It does not
// allocate and is stable across processes.
func Hash(b []byte) uint32 {
	h := uint32(2166136261)
	for _, c := range b {
		h ^= uint32(c)
		h *= 16777619
	}
	return fmix32(h)
}

// HashString is Hash for a string.
func HashString(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return fmix32(h)
}

func fmix32(h uint32) uint32 {
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}
