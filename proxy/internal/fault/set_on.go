//go:build proxyspec_faults

package fault

import (
	"errors"
	"fmt"
)

// Enabled reports whether this build can inject faults.
const Enabled = true

// ErrDisabled is never returned in tagged builds; it exists so callers
// compile in both.
var ErrDisabled = errors.New("fault injection is not compiled in (build with -tags proxyspec_faults)")

// Set is a set of active faults, one bit per Fault.
type Set [2]uint64

// Has reports whether f is active.
func (s Set) Has(f Fault) bool { return s[f>>6]&(1<<(f&63)) != 0 }

// Empty reports whether no fault is active.
func (s Set) Empty() bool { return s == Set{} }

func (s *Set) add(f Fault) { s[f>>6] |= 1 << (f & 63) }

// Parse resolves fault names (as listed by List) into a Set. An unknown
// name is an error that lists the known ones.
func Parse(names []string) (Set, error) {
	var s Set
	for _, n := range names {
		f, ok := byName[n]
		if !ok {
			return Set{}, fmt.Errorf("unknown fault %q (see refproxy -list-faults)", n)
		}
		s.add(f)
	}
	return s, nil
}

// List returns the catalogue of faults, in declaration order.
func List() []Info {
	out := make([]Info, 0, len(catalogue))
	for _, in := range catalogue {
		if in.Name != "" {
			out = append(out, in)
		}
	}
	return out
}

var byName = func() map[string]Fault {
	m := make(map[string]Fault, len(catalogue))
	for f, in := range catalogue {
		if in.Name != "" {
			m[in.Name] = Fault(f)
		}
	}
	return m
}()
