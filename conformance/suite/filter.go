// Package suite runs a selection of cases against one target and assembles the run's results:
// filtering, capability skips, the judge, and the vendor baseline. The wire tooling and the judge
// do the work; this package only puts them in order.
package suite

import (
	"fmt"
	"path"
	"strings"

	"github.com/proxyspec/proxyspec/corpus"
)

// Filter selects cases. Each non-empty list must match (a case passes a list when it matches any
// element of it).
type Filter struct {
	Cases  []string // globs on the id, e.g. "cl-te/*"
	Tags   []string
	Levels []string // MUST, SHOULD, MAY
	RFCs   []string // "RFC9112", "RFC9112 6.1", "RFC9112 6" (a section matches its subsections)
	Sweeps bool     // include the instances of parametric sweeps
}

// Validate reports malformed globs or levels before a run starts.
func (f Filter) Validate() error {
	for _, g := range f.Cases {
		if _, err := path.Match(g, ""); err != nil {
			return fmt.Errorf("--case %q: %w", g, err)
		}
	}
	for _, l := range f.Levels {
		switch corpus.Level(strings.ToUpper(l)) {
		case corpus.MUST, corpus.SHOULD, corpus.MAY:
		default:
			return fmt.Errorf("--level %q: want MUST, SHOULD or MAY", l)
		}
	}
	return nil
}

// Strings describes the filter for the report.
func (f Filter) Strings() []string {
	var out []string
	for _, x := range f.Cases {
		out = append(out, "case="+x)
	}
	for _, x := range f.Tags {
		out = append(out, "tag="+x)
	}
	for _, x := range f.Levels {
		out = append(out, "level="+x)
	}
	for _, x := range f.RFCs {
		out = append(out, "rfc="+x)
	}
	if f.Sweeps {
		out = append(out, "sweeps")
	}
	return out
}

// Match reports whether c is selected.
func (f Filter) Match(c *corpus.Case) bool {
	if c.Sweep != "" && !f.Sweeps {
		return false
	}
	return matchAny(f.Cases, func(g string) bool {
		ok, _ := path.Match(g, c.ID)
		return ok || strings.HasPrefix(c.ID, strings.TrimSuffix(g, "/")+"/")
	}) && matchAny(f.Tags, c.HasTag) &&
		matchAny(f.Levels, func(l string) bool { return strings.EqualFold(l, string(c.Level)) }) &&
		matchAny(f.RFCs, func(r string) bool { return matchRFC(r, c.RFC) })
}

func matchAny(list []string, pred func(string) bool) bool {
	if len(list) == 0 {
		return true
	}
	for _, x := range list {
		if pred(x) {
			return true
		}
	}
	return false
}

// matchRFC matches "RFC9112" or "RFC9112 6.1" (also written "RFC9112§6.1" or "9112:6.1").
func matchRFC(q string, refs []corpus.Ref) bool {
	q = strings.ToUpper(strings.NewReplacer("§", " ", ":", " ", "/", " ").Replace(q))
	doc, sec, _ := strings.Cut(strings.TrimSpace(q), " ")
	if !strings.HasPrefix(doc, "RFC") {
		doc = "RFC" + doc
	}
	sec = strings.TrimSpace(sec)
	for _, r := range refs {
		if r.Doc != doc {
			continue
		}
		if sec == "" || r.Section == sec || strings.HasPrefix(r.Section, sec+".") {
			return true
		}
	}
	return false
}
