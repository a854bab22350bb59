package faults

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/proxyspec/proxyspec/conformance/wire"
	"github.com/proxyspec/proxyspec/corpus"
	"github.com/proxyspec/proxyspec/reports"
)

// TestFaultsStillCaught is the regression net of the oracles: for each fault of the
// fault-injection refproxy, it replays only the cases that caught it in the last full matrix
// (testdata/catches.json, written by make faults) and checks they still do. A change to an oracle,
// an expectation or the proxy that makes a fault slip through fails here.
func TestFaultsStillCaught(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs refproxy once per fault")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, err := ModuleRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	table, err := LoadTable(filepath.Join(root, TableFile))
	if err != nil {
		t.Fatalf("%v (run make faults)", err)
	}
	bin, err := BuildRefproxy(ctx, root, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	catalogue, err := Catalogue(ctx, bin)
	if err != nil {
		t.Fatal(err)
	}
	cases, err := corpus.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	origin, err := wire.NewOrigin("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { origin.Close() })

	only := replayable(t, table, catalogue, cases)
	m, err := Run(ctx, Config{
		Refproxy: bin, Origin: origin, Cases: cases, Faults: catalogue, Only: only,
		// Each fault's few cases run one at a time on their own proxy, so no case shares the
		// upstream pool with another; proxies run side by side.
		ReadDeadline: 500 * time.Millisecond, Parallel: 32, FaultParallel: 1, Concurrent: 8,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range m.CleanProblems() {
		t.Errorf("without faults, %s is %s: %s", r.ID, r.Verdict, r.Reason)
	}
	for _, f := range catalogue {
		t.Run(f.Name, func(t *testing.T) {
			if len(only[f.Name]) == 0 {
				t.Fatalf("no recorded case catches %s: run make faults", f.Name)
			}
			if err := m.Errors[f.Name]; err != nil {
				t.Errorf("run: %v", err)
			}
			if len(m.Catches(f.Name)) > 0 {
				return
			}
			var got []string
			if run := m.Runs[f.Name]; run != nil {
				for _, r := range run.Cases {
					got = append(got, r.ID+" "+string(r.Verdict)+": "+r.Reason)
				}
			}
			t.Errorf("%s (%s) is no longer caught by the cases that caught it:\n%s", f.Name, f.Rule, strings.Join(got, "\n"))
		})
	}
}

// replayable checks the table against the catalogue and the corpus and returns, per fault, the
// recorded cases that still exist. A renamed case only costs its fault one of its catching cases;
// a fault left with none fails (in its subtest).
func replayable(t *testing.T, table *Table, catalogue []Fault, cases []*corpus.Case) map[string][]string {
	t.Helper()
	known := map[string]bool{}
	for _, c := range cases {
		known[c.ID] = true
	}
	inCatalogue := map[string]bool{}
	for _, f := range catalogue {
		inCatalogue[f.Name] = true
	}
	only := map[string][]string{}
	for name, ids := range table.Faults {
		if !inCatalogue[name] {
			t.Errorf("%s lists fault %s, which refproxy no longer has: run make faults", TableFile, name)
			continue
		}
		for _, id := range ids {
			if known[id] {
				only[name] = append(only[name], id)
			} else {
				t.Logf("%s: case %s (recorded for %s) is no longer in the corpus; run make faults", TableFile, id, name)
			}
		}
	}
	return only
}

// result builds a case result for the analysis tests.
func result(id, level string, v reports.Verdict, oracles ...string) reports.CaseResult {
	r := reports.CaseResult{ID: id, Title: "title of " + id, Level: level, Verdict: v, Reason: "because"}
	for _, o := range oracles {
		r.Findings = append(r.Findings, reports.Finding{Verdict: v, Oracle: o})
	}
	return r
}

func run(rs ...reports.CaseResult) *reports.Run { return &reports.Run{Cases: rs} }

func TestMatrixAnalysis(t *testing.T) {
	m := &Matrix{
		Faults: []Fault{{Name: "f1"}, {Name: "f2"}, {Name: "f3"}},
		Clean: run(
			result("a/must", "MUST", reports.Pass),
			result("a/should", "SHOULD", reports.Pass),
			result("a/may", "MAY", reports.Info),
			result("a/broken", "MUST", reports.Fail, "expect"),
			result("a/skipped", "MUST", reports.Skip),
			result("s/sweep@B=00", "MUST", reports.Pass),
			result("s/sweep@B=01", "SHOULD", reports.Pass),
			result("u/lonely", "SHOULD", reports.Pass),
		),
		Runs: map[string]*reports.Run{
			"f1": run(
				result("a/must", "MUST", reports.Fail, "expect", "no-desync"),
				result("a/may", "MAY", reports.Fail, "no-desync"),  // a MAY case does not count
				result("a/broken", "MUST", reports.Fail, "expect"), // failed without faults too
			),
			"f2": run(result("s/sweep@B=01", "SHOULD", reports.Warn, "expect"), result("a/should", "SHOULD", reports.Warn, "expect")),
			"f3": run(result("a/must", "MUST", reports.Pass)),
		},
		Confirmed: map[string]*reports.Run{
			// f1's catch did not hold alone: it came from what another case left in the pool.
			"f1": run(result("a/must", "MUST", reports.Pass)),
			"f2": run(result("s/sweep@B=01", "SHOULD", reports.Warn, "expect"), result("a/should", "SHOULD", reports.Warn, "expect")),
		},
	}
	tests := []struct {
		fault string
		want  []string
	}{
		{"f1", []string{"a/must"}},
		{"f2", []string{"a/should", "s/sweep@B=01"}},
		{"f3", nil},
	}
	for _, tt := range tests {
		var got []string
		for _, c := range m.Catches(tt.fault) {
			got = append(got, c.Case)
		}
		slices.Sort(got)
		if !slices.Equal(got, tt.want) {
			t.Errorf("Catches(%s) = %v, want %v", tt.fault, got, tt.want)
		}
	}
	if c := m.Catches("f1"); len(c) != 1 || !slices.Equal(c[0].Oracles, []string{"expect", "no-desync"}) {
		t.Errorf("f1 oracles: %+v", c)
	}
	if got := m.Uncaught(); !slices.Equal(got, []string{"f3"}) {
		t.Errorf("Uncaught = %v", got)
	}
	if got := m.Unconfirmed(); !slices.Equal(got, []string{"f1"}) {
		t.Errorf("Unconfirmed = %v", got)
	}
	if got := m.CleanProblems(); len(got) != 1 || got[0].ID != "a/broken" {
		t.Errorf("CleanProblems = %v", got)
	}
	// The sweep counts as caught through one instance; a/broken never ran clean; a/skipped did not run.
	var unc []string
	for _, u := range m.Uncatching() {
		unc = append(unc, u.ID)
	}
	if !slices.Equal(unc, []string{"a/broken", "u/lonely"}) {
		t.Errorf("Uncatching = %v", unc)
	}

	table := NewTable(m, 1)
	if got := table.Faults["f2"]; !slices.Equal(got, []string{"a/should"}) {
		t.Errorf("table prefers hand-written cases: f2 = %v", got)
	}
	if got := table.Faults["f3"]; got == nil || len(got) != 0 {
		t.Errorf("an uncaught fault has an empty list in the table: %v", got)
	}
	path := filepath.Join(t.TempDir(), "catches.json")
	if err := table.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := LoadTable(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.Faults["f2"], table.Faults["f2"]) || len(back.Faults["f1"]) != 0 {
		t.Errorf("table round trip: %v != %v", back.Faults, table.Faults)
	}

	var md strings.Builder
	if err := WriteMarkdown(&md, m); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"caught: **2** (uncaught: `f3`); caught by no case alone: `f1`", "NOT CLEAN",
		"`a/must` MUST FAIL [expect, no-desync]", "`a/should` *alone* SHOULD WARN [expect]",
		"| `u/lonely` | SHOULD |", "| `a/skipped` | MUST |"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, md.String())
		}
	}
}
