package reports

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFamilyOf(t *testing.T) {
	for _, tc := range []struct{ id, want string }{
		{"cl-te/both-present", "cl-te"},
		{"chunked/ext/deep", "chunked"},
		{"lonely", "lonely"},
		{"", UnknownFamily},
		{"/x", UnknownFamily},
	} {
		if got := FamilyOf(tc.id); got != tc.want {
			t.Errorf("FamilyOf(%q) = %q, want %q", tc.id, got, tc.want)
		}
	}
}

func TestFamilies(t *testing.T) {
	r := &Run{Cases: []CaseResult{
		{ID: "te/b", Verdict: Fail},
		{ID: "cl-te/z", Verdict: Pass},
		{ID: "te/a", Verdict: Warn, Baseline: BaselineExpected},
		{ID: "cl-te/a", Verdict: Skip},
		{ID: "te/c", Verdict: Pass, Baseline: BaselineUnexpectedPass},
	}}
	before := slices.Clone(r.Cases)
	fams := Families(r)
	type fam struct {
		Name   string
		IDs    []string
		Counts Summary
	}
	var got []fam
	for _, f := range fams {
		var ids []string
		for _, c := range f.Cases {
			ids = append(ids, c.ID)
		}
		got = append(got, fam{f.Name, ids, f.Counts})
	}
	want := []fam{
		{"cl-te", []string{"cl-te/a", "cl-te/z"}, Summary{Total: 2, Pass: 1, Skip: 1}},
		{"te", []string{"te/a", "te/b", "te/c"}, Summary{Total: 3, Pass: 1, Fail: 1, Warn: 1, Expected: 1, UnexpectedPass: 1}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Families (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, r.Cases); diff != "" {
		t.Errorf("Families modified the run:\n%s", diff)
	}
	if Families(nil) != nil || Families(&Run{}) != nil {
		t.Errorf("Families of a nil or empty run is not empty")
	}
}

func TestTallyMatchesCount(t *testing.T) {
	r := hostileRun()
	r.Count()
	if got := Tally(r.Cases); got != r.Summary {
		t.Errorf("Tally = %+v, Run.Count = %+v", got, r.Summary)
	}
	sum := 0
	for _, v := range Verdicts {
		sum += r.Summary.Of(v)
	}
	if unknown := 1; sum+unknown != r.Summary.Total { // hostileRun has one unknown verdict
		t.Errorf("verdict counts add up to %d, total %d", sum, r.Summary.Total)
	}
	if (Summary{Fail: 3}).Of("MAYBE") != 0 {
		t.Errorf("Of(unknown) != 0")
	}
}

func TestSorted(t *testing.T) {
	r := &Run{Cases: []CaseResult{
		{ID: "b", Verdict: Pass}, {ID: "a", Verdict: Pass}, {ID: "z", Verdict: Fail},
		{ID: "y", Verdict: Info}, {ID: "x", Verdict: "MAYBE"}, {ID: "w", Verdict: Error},
	}}
	var got []string
	for _, c := range Sorted(r) {
		got = append(got, c.ID)
	}
	if want := []string{"x", "z", "w", "y", "a", "b"}; !slices.Equal(got, want) {
		t.Errorf("Sorted = %v, want %v", got, want)
	}
	if r.Cases[0].ID != "b" {
		t.Errorf("Sorted modified the run")
	}
}

func TestVisible(t *testing.T) {
	for _, tc := range []struct{ in, one, multi string }{
		{"plain", "plain", "plain"},
		{"a\nb\tc\r", `a\nb\tc\r`, "a\nb\tc\\r"},
		{"nul\x00esc\x1b[0mdel\x7f", `nul\x00esc\x1b[0mdel\x7f`, `nul\x00esc\x1b[0mdel\x7f`},
		{"bad\xffutf8", `bad\xffutf8`, `bad\xffutf8`},
		{"c1\u009b bidi\u202e nonchar\uffff", `c1\u009b bidi\u202e nonchar\uffff`, `c1\u009b bidi\u202e nonchar\uffff`},
		{"ünïcödé §6.1 “quoted” ↵", "ünïcödé §6.1 “quoted” ↵", "ünïcödé §6.1 “quoted” ↵"},
	} {
		if got := oneLine(tc.in); got != tc.one {
			t.Errorf("oneLine(%q) = %q, want %q", tc.in, got, tc.one)
		}
		if got := multiLine(tc.in); got != tc.multi {
			t.Errorf("multiLine(%q) = %q, want %q", tc.in, got, tc.multi)
		}
	}
}
