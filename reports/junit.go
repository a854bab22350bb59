package reports

import (
	"bufio"
	"cmp"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// JUnit element types, as CI systems (Jenkins, GitLab, GitHub reporters) read them: the Apache Ant
// format with the skipped element and testcase-level system-out that they all accept.
// schema/junit.xsd describes exactly what WriteJUnit produces.
type (
	junitSuites struct {
		XMLName   xml.Name     `xml:"testsuites"`
		Name      string       `xml:"name,attr"`
		Tests     int          `xml:"tests,attr"`
		Failures  int          `xml:"failures,attr"`
		Errors    int          `xml:"errors,attr"`
		Skipped   int          `xml:"skipped,attr"`
		Time      string       `xml:"time,attr"`
		Timestamp string       `xml:"timestamp,attr,omitempty"`
		Suites    []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name       string          `xml:"name,attr"`
		Tests      int             `xml:"tests,attr"`
		Failures   int             `xml:"failures,attr"`
		Errors     int             `xml:"errors,attr"`
		Skipped    int             `xml:"skipped,attr"`
		Time       string          `xml:"time,attr"`
		Timestamp  string          `xml:"timestamp,attr,omitempty"`
		ID         int             `xml:"id,attr"`
		Package    string          `xml:"package,attr"`
		Properties []junitProperty `xml:"properties>property"`
		Cases      []junitCase     `xml:"testcase"`
	}
	junitProperty struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}
	junitCase struct {
		Name      string        `xml:"name,attr"`
		Classname string        `xml:"classname,attr"`
		Time      string        `xml:"time,attr"`
		Failure   *junitProblem `xml:"failure"`
		Error     *junitProblem `xml:"error"`
		Skipped   *junitSkipped `xml:"skipped"`
		SystemOut *junitText    `xml:"system-out"`
	}
	junitProblem struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",cdata"`
	}
	junitSkipped struct {
		Message string `xml:"message,attr"`
	}
	junitText struct {
		Text string `xml:",cdata"`
	}
)

// junitPackage is the classname prefix of every testcase.
const junitPackage = "proxyspec"

// WriteJUnit writes r as JUnit XML: one testsuite per case family, one testcase per case.
//
//   - FAIL is a <failure> whose type is the case's level and whose text holds the reason, the RFC
//     quotes, the findings and the evidence streams.
//   - WARN is a <failure> only when r.Options.Strict; otherwise the testcase passes and its
//     <system-out> carries the warning and its details.
//   - ERROR (or an unknown verdict) is an <error>; SKIP is <skipped>.
//   - INFO passes, with the recorded choice in <system-out>.
//   - A FAIL or WARN the baseline expects is <skipped message="expected failure (baseline): ...">,
//     so CI stays green, with the details in <system-out>; an unexpected pass is noted in
//     <system-out>.
//
// Suite times add up case durations (cases run in parallel); the testsuites time is the run's wall
// time. Every string is made safe for XML 1.0: control characters become visible escapes.
func WriteJUnit(w io.Writer, r *Run) error {
	if r == nil {
		return fmt.Errorf("reports: write JUnit: nil run")
	}
	doc := junitSuites{
		Name: oneLine(runTitle(r)),
		Time: seconds(r.Duration),
	}
	if !r.Started.IsZero() {
		doc.Timestamp = r.Started.UTC().Format("2006-01-02T15:04:05")
	}
	props := junitProperties(r)
	for i, fam := range Families(r) {
		s := junitSuite{
			Name:       oneLine(fam.Name),
			Timestamp:  doc.Timestamp,
			ID:         i,
			Package:    junitPackage,
			Properties: props,
		}
		var ms float64
		for j := range fam.Cases {
			tc := junitCaseOf(&fam.Cases[j], r.Options.Strict)
			s.Tests++
			switch {
			case tc.Failure != nil:
				s.Failures++
			case tc.Error != nil:
				s.Errors++
			case tc.Skipped != nil:
				s.Skipped++
			}
			ms += finite(fam.Cases[j].Duration)
			s.Cases = append(s.Cases, tc)
		}
		s.Time = seconds(ms)
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
		doc.Skipped += s.Skipped
		doc.Suites = append(doc.Suites, s)
	}

	bw := bufio.NewWriter(w)
	bw.WriteString(xml.Header)
	enc := xml.NewEncoder(bw)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("reports: write JUnit: %w", err)
	}
	bw.WriteByte('\n')
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("reports: write JUnit: %w", err)
	}
	return nil
}

func junitCaseOf(c *CaseResult, strict bool) junitCase {
	tc := junitCase{
		Name:      oneLine(c.ID),
		Classname: junitPackage + "." + oneLine(FamilyOf(c.ID)),
		Time:      seconds(c.Duration),
	}
	if tc.Name == "" {
		tc.Name = "(no id)"
	}
	reason := oneLine(c.Reason)
	if reason == "" {
		reason = string(c.Verdict)
	}
	level := oneLine(c.Level)
	details := func(head string) *junitText {
		var b strings.Builder
		if head != "" {
			b.WriteString(head)
			b.WriteString("\n\n")
		}
		caseText(&b, c)
		return &junitText{Text: b.String()}
	}
	problem := func(typ string) *junitProblem {
		return &junitProblem{Message: reason, Type: typ, Text: details("").Text}
	}

	switch {
	case c.isExpected():
		tc.Skipped = &junitSkipped{Message: "expected failure (baseline): " + reason}
		tc.SystemOut = details(fmt.Sprintf("Expected %s: the baseline lists this case as a known failure.", c.Verdict))
	case c.Verdict == Fail:
		tc.Failure = problem(cmp.Or(level, "MUST"))
	case c.Verdict == Warn && strict:
		tc.Failure = problem(cmp.Or(level, "SHOULD"))
	case c.Verdict == Warn:
		tc.SystemOut = details("WARN (not a failure: the run is not strict): " + reason)
	case c.Verdict == Error:
		tc.Error = problem("ERROR")
	case c.Verdict == Skip:
		tc.Skipped = &junitSkipped{Message: reason}
	case c.Verdict == Info:
		head := "INFO: " + reason
		if c.Outcome != "" {
			head += "\nOutcome: " + oneLine(c.Outcome)
		}
		tc.SystemOut = &junitText{Text: head + "\n"}
	case c.Verdict == Pass:
		// A plain pass says nothing.
	default:
		tc.Error = &junitProblem{
			Message: fmt.Sprintf("unknown verdict %q: %s", oneLine(string(c.Verdict)), reason),
			Type:    "ERROR",
			Text:    details("").Text,
		}
	}
	if c.Baseline == BaselineUnexpectedPass {
		note := "Unexpected pass: the baseline lists this case as a known failure, but it passed; " +
			"remove it from the baseline.\n"
		if tc.SystemOut == nil {
			tc.SystemOut = &junitText{}
		}
		tc.SystemOut.Text = note + tc.SystemOut.Text
	}
	return tc
}

func junitProperties(r *Run) []junitProperty {
	var ps []junitProperty
	add := func(name, value string) {
		if value != "" {
			ps = append(ps, junitProperty{Name: name, Value: oneLine(value)})
		}
	}
	add("tool", strings.TrimSpace(r.Tool.Name+" "+r.Tool.Version))
	add("target.name", r.Target.Name)
	add("target.version", r.Target.Version)
	add("target.address", r.Target.Address)
	add("target.origin", r.Target.Origin)
	add("target.capabilities", strings.Join(r.Target.Capabilities, " "))
	add("filters", strings.Join(r.Options.Filters, " "))
	add("baseline", r.Options.Baseline)
	add("strict", strconv.FormatBool(r.Options.Strict))
	return ps
}

// runTitle names the run: "proxyspec: nginx 1.27.0 at 127.0.0.1:8080".
func runTitle(r *Run) string {
	t := "proxyspec"
	if target := targetLabel(r.Target); target != "" {
		t += ": " + target
	}
	return t
}

// targetLabel is "nginx 1.27.0 at 127.0.0.1:8080", with the parts that are known.
func targetLabel(t Target) string {
	l := strings.TrimSpace(t.Name + " " + t.Version)
	if t.Address != "" {
		if l != "" {
			l += " at "
		}
		l += t.Address
	}
	return l
}

// seconds formats a duration in milliseconds as seconds with millisecond precision.
func seconds(ms float64) string {
	return strconv.FormatFloat(finite(ms)/1000, 'f', 3, 64)
}

// finite returns ms, or 0 when it is negative, NaN or infinite.
func finite(ms float64) float64 {
	if math.IsNaN(ms) || math.IsInf(ms, 0) || ms < 0 {
		return 0
	}
	return ms
}
