//go:build proxyspec_faults

package fault

import (
	"regexp"
	"strings"
	"testing"
)

var kebab = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// TestCatalogue: every fault is described, with a stable kebab-case name, and
// names are unique.
func TestCatalogue(t *testing.T) {
	seen := map[string]bool{}
	for f := Fault(1); f < numFaults; f++ {
		in := catalogue[f]
		switch {
		case !kebab.MatchString(in.Name):
			t.Errorf("fault %d: name %q is not kebab-case", f, in.Name)
		case seen[in.Name]:
			t.Errorf("fault %d: duplicate name %q", f, in.Name)
		case in.Description == "" || in.Rule == "" || in.BugClass == "":
			t.Errorf("fault %s: description, rule and bug class are all required", in.Name)
		case !strings.Contains(in.Rule, "RFC"):
			t.Errorf("fault %s: the rule %q names no RFC section", in.Name, in.Rule)
		}
		seen[in.Name] = true
	}
	if got := len(List()); got != int(numFaults)-1 {
		t.Errorf("List has %d faults, want %d", got, numFaults-1)
	}
}

func TestParse(t *testing.T) {
	s, err := Parse([]string{"via-missing", "cl-first-wins"})
	if err != nil {
		t.Fatal(err)
	}
	for f := Fault(1); f < numFaults; f++ {
		want := f == ViaMissing || f == CLFirstWins
		if s.Has(f) != want {
			t.Errorf("Has(%s) = %v", catalogue[f].Name, !want)
		}
	}
	if s.Empty() {
		t.Error("Empty on a non-empty set")
	}
	if _, err := Parse([]string{"no-such-fault"}); err == nil {
		t.Error("Parse accepted an unknown fault")
	}
}
