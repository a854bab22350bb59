//go:build !proxyspec_faults

package fault

import (
	"errors"
	"fmt"
)

// Enabled reports whether this build can inject faults.
const Enabled = false

// ErrDisabled is returned by Parse for any fault in a default build.
var ErrDisabled = errors.New("fault injection is not compiled in (build with -tags proxyspec_faults)")

// Set is a set of active faults. In default builds it is empty and holds
// nothing: fields of this type take no space.
type Set struct{}

// Has reports whether f is active: never, in default builds. The call is
// inlined and the constant false removes the faulty branch.
func (Set) Has(Fault) bool { return false }

// Empty reports whether no fault is active.
func (Set) Empty() bool { return true }

// Parse resolves fault names. Default builds accept only an empty list.
func Parse(names []string) (Set, error) {
	if len(names) > 0 {
		return Set{}, fmt.Errorf("faults %q requested: %w", names, ErrDisabled)
	}
	return Set{}, nil
}

// List returns the catalogue of faults: none in default builds.
func List() []Info { return nil }
