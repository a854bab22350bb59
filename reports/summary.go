package reports

import (
	"cmp"
	"slices"
	"strings"
)

// UnknownFamily is the family of a case whose id is empty.
const UnknownFamily = "unknown"

// Baseline values of CaseResult.Baseline.
const (
	BaselineExpected       = "expected"        // a FAIL/WARN the baseline lists
	BaselineUnexpectedPass = "unexpected-pass" // a baseline entry that passed this time
)

// FamilyOf returns the family of a case id: its first path element ("cl-te" for
// "cl-te/both-present"), or UnknownFamily for an empty id.
func FamilyOf(id string) string {
	fam, _, _ := strings.Cut(id, "/")
	if fam == "" {
		return UnknownFamily
	}
	return fam
}

// Of returns the count of verdict v in s (0 for an unknown verdict).
func (s Summary) Of(v Verdict) int {
	switch v {
	case Pass:
		return s.Pass
	case Fail:
		return s.Fail
	case Warn:
		return s.Warn
	case Info:
		return s.Info
	case Skip:
		return s.Skip
	case Error:
		return s.Error
	}
	return 0
}

// Tally counts the verdicts of cases exactly as Run.Count does, without touching any Run.
func Tally(cases []CaseResult) Summary {
	r := Run{Cases: cases}
	r.Count()
	return r.Summary
}

// Family is the results of one case family.
type Family struct {
	Name   string
	Counts Summary
	Cases  []CaseResult // shallow copies of the run's cases, sorted by id
}

// Families groups the cases of r by family (FamilyOf their id), sorted by family name, each
// family's cases sorted by id. The report writers use this order so that their output does not
// depend on the order in which parallel cases finished. r is not modified; a nil r has no families.
func Families(r *Run) []Family {
	if r == nil {
		return nil
	}
	index := map[string]int{}
	var fams []Family
	for _, c := range r.Cases {
		name := FamilyOf(c.ID)
		i, ok := index[name]
		if !ok {
			i = len(fams)
			index[name] = i
			fams = append(fams, Family{Name: name})
		}
		fams[i].Cases = append(fams[i].Cases, c)
	}
	slices.SortFunc(fams, func(a, b Family) int { return strings.Compare(a.Name, b.Name) })
	for i := range fams {
		slices.SortStableFunc(fams[i].Cases, byID)
		fams[i].Counts = Tally(fams[i].Cases)
	}
	return fams
}

// Sorted returns copies of r's cases, most severe verdict first (in the order of Verdicts), then by
// id. A nil r has no cases.
func Sorted(r *Run) []CaseResult {
	if r == nil {
		return nil
	}
	cs := slices.Clone(r.Cases)
	slices.SortStableFunc(cs, func(a, b CaseResult) int {
		return cmp.Or(cmp.Compare(a.Verdict.rank(), b.Verdict.rank()), byID(a, b))
	})
	return cs
}

func byID(a, b CaseResult) int { return strings.Compare(a.ID, b.ID) }

// rank orders verdicts as Verdicts does; unknown verdicts sort first, as they need attention.
func (v Verdict) rank() int {
	return slices.Index(Verdicts, v) // -1 when unknown
}

// known reports whether v is one of Verdicts.
func (v Verdict) known() bool { return v.rank() >= 0 }

// isExpected reports whether the baseline turns c's result into an expected failure. Only FAIL and
// WARN can be expected; an ERROR is never hidden.
func (c *CaseResult) isExpected() bool {
	return c.Baseline == BaselineExpected && (c.Verdict == Fail || c.Verdict == Warn)
}
