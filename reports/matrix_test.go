package reports

import (
	"bytes"
	"strings"
	"testing"
)

// matrixRuns is two implementations whose case sets differ by one case.
func matrixRuns() []*Run {
	a := sampleRun()
	b := sampleRun()
	b.Target = Target{Name: "nginx", Version: "1.22.1", Capabilities: []string{"upgrade"}}
	b.Cases = append([]CaseResult(nil), b.Cases...)
	for i := range b.Cases {
		b.Cases[i].Verdict = Pass
		b.Cases[i].Reason = "ok"
	}
	b.Cases = append(b.Cases, CaseResult{ID: "zz/only-nginx", Title: "only in nginx's run", Level: "MUST", Verdict: Fail, Reason: "nginx-only failure"})
	b.Count()
	return []*Run{a, b}
}

func testMatrix(runs []*Run) *Matrix {
	return &Matrix{Runs: runs, Intro: "intro text",
		Report: func(r *Run) string { return "results/" + ResultBase(r.Target) + ".html" },
		Notes:  map[string]string{"nginx": "nginx profile note"}}
}

func TestResultBase(t *testing.T) {
	tests := []struct {
		t    Target
		want string
	}{
		{Target{Name: "nginx", Version: "1.22.1"}, "nginx-1.22.1"},
		{Target{Name: "haproxy", Version: "2.6.12-1+deb12u4"}, "haproxy-2.6.12-1+deb12u4"},
		{Target{Name: "go-reverseproxy", Version: "go1.26.8"}, "go-reverseproxy-go1.26.8"},
		{Target{Name: "x", Version: "1.0 (Debian)/../../etc"}, "x-1.0__Debian__.._.._etc"},
		{Target{Name: "nover"}, "nover"},
		{Target{}, "unnamed"},
	}
	for _, tt := range tests {
		if got := ResultBase(tt.t); got != tt.want {
			t.Errorf("ResultBase(%+v) = %q, want %q", tt.t, got, tt.want)
		}
		if got := ResultBase(tt.t); strings.Contains(got, "/") {
			t.Errorf("ResultBase(%+v) = %q contains a slash", tt.t, got)
		}
	}
}

func TestFamilyCell(t *testing.T) {
	tests := []struct {
		s    Summary
		want string
	}{
		{Summary{Total: 3, Pass: 3}, "·"},
		{Summary{Total: 4, Pass: 1, Fail: 2, Warn: 1}, "F2 W1"},
		{Summary{Total: 2, Error: 1, Info: 1}, "E1"},
		{Summary{Total: 2, Skip: 2}, "skip"},
		{Summary{Total: 3, Skip: 2, Warn: 1}, "W1"},
	}
	for _, tt := range tests {
		if got := familyCell(tt.s); got != tt.want {
			t.Errorf("familyCell(%+v) = %q, want %q", tt.s, got, tt.want)
		}
	}
}

func TestMatrixMarkdown(t *testing.T) {
	runs := matrixRuns()
	var b bytes.Buffer
	if err := WriteMatrixMarkdown(&b, testMatrix(runs)); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"# proxyspec matrix",
		"intro text",
		"## Summary",
		"**nginx 1.22.1**",
		"[report](results/nginx-1.22.1.html)",
		"- **nginx:** nginx profile note",
		"## By family",
		"## Findings",
		"### nginx 1.22.1 (1 FAIL, 0 ERROR, 0 WARN)",
		"- **FAIL** [`zz/only-nginx`](results/nginx-1.22.1.html#zz/only-nginx) (MUST): nginx-only failure",
		"nginx-only failure",
		"[`cl-te/both-present`](results/refproxy-0.4.0-dev.html#cl-te/both-present)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q", want)
		}
	}
	// The family column of a run that lacks the family shows a dash.
	if !strings.Contains(md, "| zz ") {
		t.Errorf("no zz family column:\n%s", md)
	}
	// Passing cases are not listed as findings.
	_, findings, _ := strings.Cut(md, "## Findings")
	if strings.Contains(findings, "**PASS**") {
		t.Errorf("a PASS is listed among the findings")
	}
}

func TestMatrixHTML(t *testing.T) {
	runs := matrixRuns()
	var b bytes.Buffer
	if err := WriteMatrixHTML(&b, testMatrix(runs)); err != nil {
		t.Fatal(err)
	}
	doc := b.String()
	parts := checkHTML(t, doc)
	tags := parts["tags"]
	for _, want := range []string{
		`<a href="results/nginx-1.22.1.html#zz/only-nginx">`,
		`<a href="results/refproxy-0.4.0-dev.html#cl-te/both-present">`,
		`<a href="results/nginx-1.22.1.html">`,
	} {
		if !strings.Contains(tags, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	// One row per case id of any run, one cell per implementation.
	ids := map[string]bool{}
	for _, r := range runs {
		for _, c := range r.Cases {
			ids[c.ID] = true
		}
	}
	if n := strings.Count(doc, `<tr class="row"`); n != len(ids) {
		t.Errorf("%d grid rows, want %d", n, len(ids))
	}
	if n := strings.Count(doc, `<td class="v `); n != len(ids)*len(runs) {
		t.Errorf("%d grid cells, want %d", n, len(ids)*len(runs))
	}
	if !strings.Contains(doc, `title="—: not run"`) {
		t.Error("the case refproxy did not run has no \"not run\" cell")
	}
	for _, bad := range []string{"<link ", " src=", "http://", "https://"} {
		if strings.Contains(doc, bad) {
			t.Errorf("page is not self-contained: contains %q", bad)
		}
	}
}

func TestMatrixEscapes(t *testing.T) {
	runs := []*Run{hostileRun(), sampleRun()}
	var md, page bytes.Buffer
	m := testMatrix(runs)
	if err := WriteMatrixMarkdown(&md, m); err != nil {
		t.Fatal(err)
	}
	if err := WriteMatrixHTML(&page, m); err != nil {
		t.Fatal(err)
	}
	checkHTML(t, page.String())
	for name, out := range map[string]string{"Markdown": md.String(), "HTML": page.String()} {
		for _, bad := range []string{"<script>alert", "\x1b", "\x00", "\u202e"} {
			if strings.Contains(out, bad) {
				t.Errorf("%s carries %q raw", name, bad)
			}
		}
	}
}

func TestMatrixErrors(t *testing.T) {
	tests := []struct {
		name string
		m    *Matrix
	}{
		{"no runs", &Matrix{}},
		{"nil run", &Matrix{Runs: []*Run{sampleRun(), nil}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := WriteMatrixMarkdown(&bytes.Buffer{}, tt.m); err == nil {
				t.Error("WriteMatrixMarkdown succeeded")
			}
			if err := WriteMatrixHTML(&bytes.Buffer{}, tt.m); err == nil {
				t.Error("WriteMatrixHTML succeeded")
			}
		})
	}
}
