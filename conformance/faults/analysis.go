package faults

import (
	"cmp"
	"slices"
	"strings"

	"github.com/proxyspec/proxyspec/reports"
)

// CaseFile returns the id of the case file a case comes from: the id itself, or for an instance
// of a parametric sweep ("content-length/sweep-byte@POS=in-name,B=00") the sweep's id.
func CaseFile(id string) string {
	file, _, _ := strings.Cut(id, "@")
	return file
}

// IsSweepInstance reports whether id names an instance of a parametric sweep.
func IsSweepInstance(id string) bool { return strings.Contains(id, "@") }

// Catch is one case that caught a fault.
type Catch struct {
	Case     string
	Level    string          // MUST or SHOULD
	Verdict  reports.Verdict // FAIL or WARN
	Oracles  []string        // the oracles whose findings made the verdict, e.g. "expect", "no-desync"
	Reason   string
	Duration float64 // ms, in the fault's run: short catches make a fast regression subset
}

// counts reports whether a case run counts as a catch: a MUST or SHOULD case judged FAIL or WARN.
// Whatever oracle fired counts, the always-on ones included.
func counts(r *reports.CaseResult) bool {
	return (r.Level == "MUST" || r.Level == "SHOULD") && (r.Verdict == reports.Fail || r.Verdict == reports.Warn)
}

// cleanOK reports whether a case result of the run without faults is acceptable: PASS, INFO (a MAY
// choice) or SKIP (a capability refproxy lacks).
func cleanOK(r *reports.CaseResult) bool {
	return r.Verdict == reports.Pass || r.Verdict == reports.Info || r.Verdict == reports.Skip
}

// CleanProblems lists the cases of the run without faults that did not pass: each one makes the
// matrix meaningless for that case.
func (m *Matrix) CleanProblems() []reports.CaseResult {
	if m.Clean == nil {
		return nil
	}
	var out []reports.CaseResult
	for _, r := range m.Clean.Cases {
		if !cleanOK(&r) {
			out = append(out, r)
		}
	}
	return out
}

// Catches lists the cases that caught fault in its parallel run or its replay one case at a time,
// fastest first. A case only counts if it passed in the run without faults.
func (m *Matrix) Catches(fault string) []Catch {
	out := m.catches(m.Runs[fault])
	for _, c := range m.ConfirmedCatches(fault) {
		if !slices.ContainsFunc(out, func(o Catch) bool { return o.Case == c.Case }) {
			out = append(out, c)
		}
	}
	sortCatches(out)
	return out
}

// ConfirmedCatches lists the cases that caught fault when replayed one at a time on a fresh proxy,
// fastest first: catches that do not depend on what other cases left in the upstream pool.
func (m *Matrix) ConfirmedCatches(fault string) []Catch {
	return m.catches(m.Confirmed[fault])
}

// candidates returns up to n catching cases of fault's parallel run to confirm: hand-written
// cases first (a sweep instance's id changes with its sweep), each group fastest first.
func (m *Matrix) candidates(fault string, n int) []string {
	cs := m.catches(m.Runs[fault])
	slices.SortStableFunc(cs, func(a, b Catch) int {
		return cmp.Compare(b2i(IsSweepInstance(a.Case)), b2i(IsSweepInstance(b.Case)))
	})
	var ids []string
	for _, c := range cs[:min(n, len(cs))] {
		ids = append(ids, c.Case)
	}
	return ids
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func sortCatches(cs []Catch) {
	slices.SortStableFunc(cs, func(a, b Catch) int {
		return cmp.Or(cmp.Compare(a.Duration, b.Duration), cmp.Compare(a.Case, b.Case))
	})
}

// catches lists the catches of one run.
func (m *Matrix) catches(run *reports.Run) []Catch {
	if run == nil {
		return nil
	}
	clean := map[string]bool{}
	if m.Clean != nil {
		for _, r := range m.Clean.Cases {
			clean[r.ID] = cleanOK(&r) && r.Verdict != reports.Skip
		}
	}
	var out []Catch
	for _, r := range run.Cases {
		if !counts(&r) || !clean[r.ID] {
			continue
		}
		c := Catch{Case: r.ID, Level: r.Level, Verdict: r.Verdict, Reason: r.Reason, Duration: r.Duration}
		for _, f := range r.Findings {
			if f.Verdict == r.Verdict && !slices.Contains(c.Oracles, f.Oracle) {
				c.Oracles = append(c.Oracles, f.Oracle)
			}
		}
		slices.Sort(c.Oracles)
		out = append(out, c)
	}
	sortCatches(out)
	return out
}

// Unconfirmed lists the faults that were caught, but by no case replayed alone: the regression
// subset cannot guard them.
func (m *Matrix) Unconfirmed() []string {
	var out []string
	for _, f := range m.Faults {
		if len(m.Catches(f.Name)) > 0 && len(m.ConfirmedCatches(f.Name)) == 0 {
			out = append(out, f.Name)
		}
	}
	return out
}

// Uncaught lists the faults no MUST or SHOULD case caught, in catalogue order.
func (m *Matrix) Uncaught() []string {
	var out []string
	for _, f := range m.Faults {
		if len(m.Catches(f.Name)) == 0 {
			out = append(out, f.Name)
		}
	}
	return out
}

// Uncatching is a MUST or SHOULD case file that caught no fault.
type Uncatching struct {
	ID        string // case id, or the sweep's id
	Level     string // the case's level; for a sweep, the strongest among its instances
	Title     string
	Instances int // for a sweep: its MUST/SHOULD instances, none of which caught a fault
}

// Uncatching lists the MUST and SHOULD cases that ran in the clean run and caught no fault, in id
// order. A sweep counts as one case: it catches a fault if any of its instances does.
func (m *Matrix) Uncatching() []Uncatching {
	if m.Clean == nil {
		return nil
	}
	caught := map[string]bool{}
	for _, f := range m.Faults {
		for _, c := range m.Catches(f.Name) {
			caught[CaseFile(c.Case)] = true
		}
	}
	byFile := map[string]*Uncatching{}
	var out []*Uncatching
	for _, r := range m.Clean.Cases {
		file := CaseFile(r.ID)
		if r.Level != "MUST" && r.Level != "SHOULD" || r.Verdict == reports.Skip || caught[file] {
			continue
		}
		u := byFile[file]
		if u == nil {
			u = &Uncatching{ID: file, Level: r.Level, Title: r.Title}
			byFile[file] = u
			out = append(out, u)
		}
		if IsSweepInstance(r.ID) {
			u.Instances++
			if r.Level == "MUST" {
				u.Level = "MUST"
			}
		}
	}
	res := make([]Uncatching, len(out))
	for i, u := range out {
		res[i] = *u
	}
	slices.SortFunc(res, func(a, b Uncatching) int { return cmp.Compare(a.ID, b.ID) })
	return res
}

// Skipped lists the cases the clean run skipped (refproxy lacks a capability they need): no fault
// can reach them here.
func (m *Matrix) Skipped() []reports.CaseResult {
	if m.Clean == nil {
		return nil
	}
	var out []reports.CaseResult
	for _, r := range m.Clean.Cases {
		if r.Verdict == reports.Skip {
			out = append(out, r)
		}
	}
	return out
}
