package reports

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Structs mirroring the JUnit XSD (Apache Ant's format as CI systems read it), independent of
// the writer's own types. Repeated elements are slices so that duplicates show.
type (
	xTestsuites struct {
		XMLName   xml.Name     `xml:"testsuites"`
		Name      string       `xml:"name,attr"`
		Tests     int          `xml:"tests,attr"`
		Failures  int          `xml:"failures,attr"`
		Errors    int          `xml:"errors,attr"`
		Skipped   int          `xml:"skipped,attr"`
		Time      string       `xml:"time,attr"`
		Timestamp string       `xml:"timestamp,attr"`
		Suites    []xTestsuite `xml:"testsuite"`
	}
	xTestsuite struct {
		Name       string      `xml:"name,attr"`
		Tests      int         `xml:"tests,attr"`
		Failures   int         `xml:"failures,attr"`
		Errors     int         `xml:"errors,attr"`
		Skipped    int         `xml:"skipped,attr"`
		Time       string      `xml:"time,attr"`
		Timestamp  string      `xml:"timestamp,attr"`
		Hostname   string      `xml:"hostname,attr"`
		ID         string      `xml:"id,attr"`
		Package    string      `xml:"package,attr"`
		Properties []xProperty `xml:"properties>property"`
		Cases      []xTestcase `xml:"testcase"`
		SystemOut  []string    `xml:"system-out"`
		SystemErr  []string    `xml:"system-err"`
	}
	xProperty struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}
	xTestcase struct {
		Name      string     `xml:"name,attr"`
		Classname string     `xml:"classname,attr"`
		Time      string     `xml:"time,attr"`
		Failures  []xProblem `xml:"failure"`
		Errors    []xProblem `xml:"error"`
		Skipped   []xProblem `xml:"skipped"`
		SystemOut []string   `xml:"system-out"`
		SystemErr []string   `xml:"system-err"`
	}
	xProblem struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	}
)

func writeJUnit(t *testing.T, r *Run) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteJUnit(&b, r); err != nil {
		t.Fatalf("WriteJUnit: %v", err)
	}
	return b.Bytes()
}

// parseJUnit checks that doc is well-formed XML and consistent JUnit, and returns it parsed.
func parseJUnit(t *testing.T, doc []byte) *xTestsuites {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(doc))
	dec.Strict = true
	for {
		_, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, doc)
		}
	}
	var ts xTestsuites
	if err := xml.Unmarshal(doc, &ts); err != nil {
		t.Fatalf("not JUnit: %v\n%s", err, doc)
	}
	var sum xTestsuites
	for _, s := range ts.Suites {
		if s.Name == "" {
			t.Errorf("testsuite without name")
		}
		checkSeconds(t, "testsuite "+s.Name, s.Time)
		var tests, failures, errs, skipped int
		for _, c := range s.Cases {
			where := "testcase " + c.Name
			if c.Name == "" || c.Classname == "" {
				t.Errorf("testcase name=%q classname=%q: both are required", c.Name, c.Classname)
			}
			if want := "proxyspec." + s.Name; c.Classname != want {
				t.Errorf("%s: classname %q, want %q", where, c.Classname, want)
			}
			checkSeconds(t, where, c.Time)
			if n := len(c.Failures) + len(c.Errors) + len(c.Skipped); n > 1 {
				t.Errorf("%s: %d failure/error/skipped elements, want at most one", where, n)
			}
			for _, p := range append(c.Failures, c.Errors...) {
				if p.Type == "" || p.Message == "" || strings.ContainsAny(p.Message, "\r\n") {
					t.Errorf("%s: failure/error type=%q message=%q: want a type and a one-line message", where, p.Type, p.Message)
				}
			}
			if len(c.SystemOut) > 1 {
				t.Errorf("%s: %d system-out elements", where, len(c.SystemOut))
			}
			tests++
			failures += len(c.Failures)
			errs += len(c.Errors)
			skipped += len(c.Skipped)
		}
		if s.Tests != tests || s.Failures != failures || s.Errors != errs || s.Skipped != skipped {
			t.Errorf("testsuite %s counts tests=%d failures=%d errors=%d skipped=%d, its testcases have %d %d %d %d",
				s.Name, s.Tests, s.Failures, s.Errors, s.Skipped, tests, failures, errs, skipped)
		}
		sum.Tests += s.Tests
		sum.Failures += s.Failures
		sum.Errors += s.Errors
		sum.Skipped += s.Skipped
	}
	if ts.Tests != sum.Tests || ts.Failures != sum.Failures || ts.Errors != sum.Errors || ts.Skipped != sum.Skipped {
		t.Errorf("testsuites counts %d/%d/%d/%d, its testsuites add up to %d/%d/%d/%d",
			ts.Tests, ts.Failures, ts.Errors, ts.Skipped, sum.Tests, sum.Failures, sum.Errors, sum.Skipped)
	}
	return &ts
}

func checkSeconds(t *testing.T, where, s string) {
	t.Helper()
	if f, err := strconv.ParseFloat(s, 64); err != nil || f < 0 || strings.ContainsAny(s, "eE") {
		t.Errorf("%s: time %q is not a non-negative decimal", where, s)
	}
}

func findCase(ts *xTestsuites, id string) *xTestcase {
	for i := range ts.Suites {
		for j := range ts.Suites[i].Cases {
			if ts.Suites[i].Cases[j].Name == id {
				return &ts.Suites[i].Cases[j]
			}
		}
	}
	return nil
}

func TestJUnitStructure(t *testing.T) {
	r := sampleRun()
	ts := parseJUnit(t, writeJUnit(t, r))
	if ts.Tests != len(r.Cases) {
		t.Errorf("tests = %d, want one per case (%d)", ts.Tests, len(r.Cases))
	}
	fams := Families(r)
	if len(ts.Suites) != len(fams) {
		t.Fatalf("%d testsuites, want one per family (%d)", len(ts.Suites), len(fams))
	}
	for i, f := range fams {
		if ts.Suites[i].Name != f.Name || ts.Suites[i].Tests != len(f.Cases) {
			t.Errorf("testsuite %d = %s with %d tests, want %s with %d", i, ts.Suites[i].Name, ts.Suites[i].Tests, f.Name, len(f.Cases))
		}
	}
	if ts.Time != "2.315" || ts.Timestamp != "2026-05-04T09:30:12" {
		t.Errorf("testsuites time=%q timestamp=%q", ts.Time, ts.Timestamp)
	}
	if !strings.Contains(ts.Name, "refproxy 0.4.0-dev at 127.0.0.1:18080") {
		t.Errorf("testsuites name %q does not name the target", ts.Name)
	}
	props := map[string]string{}
	for _, p := range ts.Suites[0].Properties {
		props[p.Name] = p.Value
	}
	if props["target.address"] != "127.0.0.1:18080" || props["strict"] != "false" {
		t.Errorf("properties = %v", props)
	}
	// Failures, errors and skips add up; the expected failure is a skip, not a failure.
	if ts.Failures != 1 || ts.Errors != 1 || ts.Skipped != 2 {
		t.Errorf("failures=%d errors=%d skipped=%d, want 1 1 2", ts.Failures, ts.Errors, ts.Skipped)
	}
}

func TestJUnitVerdicts(t *testing.T) {
	evidence := &Evidence{Streams: []Stream{
		{Conn: "client#1", Dir: "client>proxy", Data: lines("GET /ps0123456789/a HTTP/1.1", "Host: x\\n", "")},
		{Conn: "origin#1", Dir: "proxy>origin", Data: "", Note: "closed by proxy"},
	}}
	base := CaseResult{
		ID: "fam/case", Title: "a title", Level: "MUST", Tags: []string{"fam"},
		RFC:      []Ref{{Doc: "RFC9112", Section: "6.1", Quote: "the server MUST close the connection"}},
		Reason:   "the reason",
		Findings: []Finding{{Verdict: Fail, Oracle: "no-desync", Message: "the finding"}},
		Evidence: evidence,
	}
	with := func(f func(c *CaseResult)) CaseResult {
		c := base
		f(&c)
		return c
	}
	details := []string{"the reason", "RFC9112 §6.1", `"the server MUST close the connection"`, "no-desync", "the finding",
		"=== client#1 client>proxy ===", "Host: x\\n", "=== origin#1 proxy>origin (closed by proxy) ===", "(no bytes)"}

	for _, tc := range []struct {
		name   string
		c      CaseResult
		strict bool
		kind   string // "failure", "error", "skipped" or "" (passes)
		typ    string
		msg    string
		text   []string // in the failure/error text
		out    []string // in system-out
	}{
		{name: "fail", c: with(func(c *CaseResult) { c.Verdict = Fail }), kind: "failure", typ: "MUST", msg: "the reason", text: details},
		{name: "fail without level", c: with(func(c *CaseResult) { c.Verdict = Fail; c.Level = "" }), kind: "failure", typ: "MUST", msg: "the reason"},
		{name: "warn", c: with(func(c *CaseResult) { c.Verdict = Warn; c.Level = "SHOULD" }), out: append([]string{"WARN"}, details...)},
		{name: "warn strict", c: with(func(c *CaseResult) { c.Verdict = Warn; c.Level = "SHOULD" }), strict: true, kind: "failure", typ: "SHOULD", msg: "the reason", text: details},
		{name: "error", c: with(func(c *CaseResult) { c.Verdict = Error; c.Evidence = nil }), kind: "error", typ: "ERROR", msg: "the reason", text: []string{"the reason", "the finding"}},
		{name: "skip", c: with(func(c *CaseResult) { c.Verdict = Skip; c.Reason = "target lacks capability \"upgrade\"" }), kind: "skipped", msg: "target lacks capability \"upgrade\""},
		{name: "info", c: with(func(c *CaseResult) { c.Verdict = Info; c.Outcome = "te-wins" }), out: []string{"INFO: the reason", "Outcome: te-wins"}},
		{name: "pass", c: with(func(c *CaseResult) { c.Verdict = Pass })},
		{name: "expected fail", c: with(func(c *CaseResult) { c.Verdict = Fail; c.Baseline = BaselineExpected }), kind: "skipped", msg: "expected failure (baseline): the reason", out: append([]string{"Expected FAIL"}, details...)},
		{name: "expected warn strict", c: with(func(c *CaseResult) { c.Verdict = Warn; c.Baseline = BaselineExpected }), strict: true, kind: "skipped", msg: "expected failure (baseline): the reason", out: []string{"Expected WARN", "the finding"}},
		{name: "expected error stays an error", c: with(func(c *CaseResult) { c.Verdict = Error; c.Baseline = BaselineExpected }), kind: "error", typ: "ERROR", msg: "the reason"},
		{name: "unexpected pass", c: with(func(c *CaseResult) { c.Verdict = Pass; c.Baseline = BaselineUnexpectedPass }), out: []string{"Unexpected pass", "remove it from the baseline"}},
		{name: "unexpected pass info", c: with(func(c *CaseResult) { c.Verdict = Info; c.Baseline = BaselineUnexpectedPass }), out: []string{"Unexpected pass", "INFO: the reason"}},
		{name: "unknown verdict", c: with(func(c *CaseResult) { c.Verdict = "MAYBE" }), kind: "error", typ: "ERROR", msg: `unknown verdict "MAYBE": the reason`},
		{name: "empty reason", c: with(func(c *CaseResult) { c.Verdict = Fail; c.Reason = "" }), kind: "failure", typ: "MUST", msg: "FAIL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Run{Options: Options{Strict: tc.strict}, Cases: []CaseResult{tc.c}}
			ts := parseJUnit(t, writeJUnit(t, r))
			c := findCase(ts, "fam/case")
			if c == nil {
				t.Fatal("no testcase fam/case")
			}
			var got []xProblem
			kind := ""
			switch {
			case len(c.Failures) > 0:
				kind, got = "failure", c.Failures
			case len(c.Errors) > 0:
				kind, got = "error", c.Errors
			case len(c.Skipped) > 0:
				kind, got = "skipped", c.Skipped
			}
			if kind != tc.kind {
				t.Fatalf("testcase has %q, want %q", kind, tc.kind)
			}
			if kind != "" {
				if got[0].Type != tc.typ || got[0].Message != tc.msg {
					t.Errorf("%s type=%q message=%q, want %q %q", kind, got[0].Type, got[0].Message, tc.typ, tc.msg)
				}
				for _, want := range tc.text {
					if !strings.Contains(got[0].Text, want) {
						t.Errorf("%s text lacks %q:\n%s", kind, want, got[0].Text)
					}
				}
			}
			out := strings.Join(c.SystemOut, "")
			for _, want := range tc.out {
				if !strings.Contains(out, want) {
					t.Errorf("system-out lacks %q:\n%s", want, out)
				}
			}
			if len(tc.out) == 0 && out != "" {
				t.Errorf("unexpected system-out:\n%s", out)
			}
		})
	}
}

func TestJUnitHostileText(t *testing.T) {
	r := hostileRun()
	doc := writeJUnit(t, r)
	ts := parseJUnit(t, doc)
	for _, b := range []byte{0x00, 0x1b, 0x7f} {
		if bytes.IndexByte(doc, b) >= 0 {
			t.Errorf("output contains byte %#02x", b)
		}
	}
	// Markup in the text stays text (escaped, or inside CDATA): no element but JUnit's own.
	dec := xml.NewDecoder(bytes.NewReader(doc))
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		if se, ok := tok.(xml.StartElement); ok {
			switch se.Name.Local {
			case "testsuites", "testsuite", "properties", "property", "testcase", "failure", "error", "skipped", "system-out":
			default:
				t.Errorf("output has a <%s> element", se.Name.Local)
			}
		}
	}
	c := findCase(ts, "cl-te/both-present")
	if c == nil || len(c.Failures) != 1 {
		t.Fatalf("no failure for cl-te/both-present")
	}
	f := c.Failures[0]
	for _, want := range []string{`<script>alert(1)</script>\x00\x1b[31m]]>&amp;`, `\nsecond line\r\x7f\u202e\xff`} {
		if !strings.Contains(f.Message, want) {
			t.Errorf("message %q lacks %q", f.Message, want)
		}
	}
	for _, want := range []string{"<script>alert(2)</script>\\x00```", "note <script>"} {
		if !strings.Contains(f.Text, want) {
			t.Errorf("failure text lacks %q", want)
		}
	}
	if findCase(ts, "(no id)") == nil {
		t.Errorf("a case without id has no testcase")
	}
}

func TestJUnitEmptyAndNil(t *testing.T) {
	ts := parseJUnit(t, writeJUnit(t, &Run{}))
	if ts.Tests != 0 || len(ts.Suites) != 0 || ts.Timestamp != "" {
		t.Errorf("empty run: %+v", ts)
	}
	if err := WriteJUnit(io.Discard, nil); err == nil {
		t.Errorf("WriteJUnit(nil) succeeded")
	}
	if err := WriteJUnit(&failWriter{err: errors.New("broken pipe")}, sampleRun()); err == nil || !strings.Contains(err.Error(), "broken pipe") {
		t.Errorf("write error not reported: %v", err)
	}
}

func TestJUnitXSD(t *testing.T) {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint is not installed; skipping validation against schema/junit.xsd")
	}
	for name, r := range map[string]*Run{"sample": sampleRun(), "hostile": hostileRun(), "empty": {}} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "junit.xml")
			if err := os.WriteFile(path, writeJUnit(t, r), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(xmllint, "--noout", "--nonet", "--schema", "schema/junit.xsd", path).CombinedOutput()
			if err != nil {
				t.Errorf("xmllint: %v\n%s", err, out)
			}
		})
	}
}
