package reports

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"
)

var (
	//go:embed html/report.html.tmpl
	htmlSource string
	//go:embed html/report.css
	htmlCSS string
	//go:embed html/report.js
	htmlJS string

	htmlTemplate = template.Must(template.New("report").Parse(htmlSource))
)

// htmlPage is what the template renders. Every string in it comes from the run and is escaped by
// html/template; only CSS, Script and Data are inserted as is (the first two are our own assets,
// Data is JSON from encoding/json, which escapes <, > and &, so it cannot end its script element).
type htmlPage struct {
	Title, Target, Origin, Capabilities, Started, Duration, Options, Tool, Legend string

	Totals   Summary
	Counts   []htmlCount // one per verdict, in the order of Verdicts
	Families []htmlFamily
	Tags     []htmlTag
	Rows     []htmlRow

	CSS    template.CSS
	Script template.JS
	Data   template.JS
}

type htmlCount struct {
	Verdict Verdict
	Class   string
	N       int
}

type htmlFamily struct {
	Name  string
	Total int
	Cells []htmlCount
}

type htmlTag struct {
	Name string
	N    int
}

type htmlRow struct {
	Index                                          int
	ID, Title, Level, Verdict, Class, Reason, Tags string
	Baseline                                       string
}

// htmlDetail is the part of a case shown when its row is opened, rendered by the page's script
// from JSON (with textContent, never as markup), so that thousands of cases stay light.
type htmlDetail struct {
	Title    string    `json:"title,omitempty"`
	Level    string    `json:"level,omitempty"`
	Reason   string    `json:"reason,omitempty"`
	Tags     []string  `json:"tags,omitempty"`
	Vectors  []int     `json:"vectors,omitempty"`
	Outcome  string    `json:"outcome,omitempty"`
	Baseline string    `json:"baseline,omitempty"`
	Duration string    `json:"duration,omitempty"`
	RFC      []Ref     `json:"rfc,omitempty"`
	Findings []Finding `json:"findings,omitempty"`
	Streams  []Stream  `json:"streams,omitempty"`
	Evidence bool      `json:"evidence"` // whether the case has evidence at all
}

// WriteHTML writes r as one self-contained HTML page (inline CSS and script, no external
// resources): the target and verdict counts, a family × verdict table, and a table of every case
// (most severe first) that can be filtered by verdict, tag and id. Opening a case shows its RFC
// quotes, findings and, per connection, the byte streams each party sent, with escapes highlighted.
func WriteHTML(w io.Writer, r *Run) error {
	if r == nil {
		return fmt.Errorf("reports: write HTML: nil run")
	}
	page := htmlPage{
		Title:        oneLine(runTitle(r)),
		Target:       oneLine(targetLabel(r.Target)),
		Origin:       oneLine(r.Target.Origin),
		Capabilities: oneLine(strings.Join(r.Target.Capabilities, ", ")),
		Duration:     seconds(r.Duration),
		Options:      oneLine(optionsLabel(r.Options)),
		Tool:         oneLine(strings.TrimSpace(r.Tool.Name + " " + r.Tool.Version)),
		Legend:       EvidenceLegend,
		Totals:       Tally(r.Cases),
		CSS:          template.CSS(htmlCSS),
		Script:       template.JS(htmlJS),
	}
	if !r.Started.IsZero() {
		page.Started = r.Started.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	for _, v := range Verdicts {
		page.Counts = append(page.Counts, htmlCount{Verdict: v, Class: string(v), N: page.Totals.Of(v)})
	}
	for _, f := range Families(r) {
		hf := htmlFamily{Name: oneLine(f.Name), Total: f.Counts.Total}
		for _, v := range Verdicts {
			hf.Cells = append(hf.Cells, htmlCount{Verdict: v, Class: string(v), N: f.Counts.Of(v)})
		}
		page.Families = append(page.Families, hf)
	}

	tags := map[string]int{}
	cases := Sorted(r)
	details := make([]htmlDetail, len(cases))
	for i := range cases {
		c := &cases[i]
		for _, t := range slices.Compact(slices.Sorted(slices.Values(c.Tags))) {
			tags[oneLine(t)]++
		}
		page.Rows = append(page.Rows, htmlRowOf(i, c))
		details[i] = htmlDetailOf(c)
	}
	for name, n := range tags {
		page.Tags = append(page.Tags, htmlTag{Name: name, N: n})
	}
	slices.SortFunc(page.Tags, func(a, b htmlTag) int { return strings.Compare(a.Name, b.Name) })

	data, err := json.Marshal(details)
	if err != nil {
		return fmt.Errorf("reports: write HTML: case details: %w", err)
	}
	page.Data = template.JS(data)

	var buf bytes.Buffer
	if err := htmlTemplate.Execute(&buf, page); err != nil {
		return fmt.Errorf("reports: write HTML: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("reports: write HTML: %w", err)
	}
	return nil
}

func htmlRowOf(i int, c *CaseResult) htmlRow {
	row := htmlRow{
		Index:   i,
		ID:      oneLine(c.ID),
		Title:   oneLine(c.Title),
		Level:   oneLine(c.Level),
		Verdict: oneLine(string(c.Verdict)),
		Class:   string(c.Verdict),
		Reason:  oneLine(c.Reason),
	}
	if !c.Verdict.known() {
		row.Class = "OTHER"
	}
	tags := make([]string, len(c.Tags))
	for j, t := range c.Tags {
		tags[j] = oneLine(t)
	}
	row.Tags = strings.Join(tags, " ")
	switch {
	case c.isExpected():
		row.Baseline = "expected"
	case c.Baseline == BaselineUnexpectedPass:
		row.Baseline = "unexpected pass"
	}
	return row
}

func htmlDetailOf(c *CaseResult) htmlDetail {
	d := htmlDetail{
		Title:    oneLine(c.Title),
		Level:    oneLine(c.Level),
		Reason:   oneLine(c.Reason),
		Vectors:  c.Vectors,
		Outcome:  oneLine(c.Outcome),
		Baseline: oneLine(c.Baseline),
		Duration: strconv.FormatFloat(finite(c.Duration), 'f', 1, 64) + " ms",
		Evidence: c.Evidence != nil,
	}
	for _, t := range c.Tags {
		d.Tags = append(d.Tags, oneLine(t))
	}
	for _, ref := range c.RFC {
		d.RFC = append(d.RFC, Ref{Doc: oneLine(ref.Doc), Section: oneLine(ref.Section), Quote: oneLine(ref.Quote)})
	}
	for _, f := range c.Findings {
		d.Findings = append(d.Findings, Finding{Verdict: Verdict(oneLine(string(f.Verdict))), Oracle: oneLine(f.Oracle), Message: oneLine(f.Message)})
	}
	for _, s := range streamsOf(c) {
		d.Streams = append(d.Streams, Stream{Conn: oneLine(s.Conn), Dir: oneLine(s.Dir), Data: multiLine(s.Data), Note: oneLine(s.Note)})
	}
	return d
}

// optionsLabel describes how the run was made: "parallel 8, read deadline 500 ms, strict off".
func optionsLabel(o Options) string {
	parts := []string{
		"parallel " + strconv.Itoa(o.Parallel),
		"read deadline " + strconv.FormatFloat(finite(o.ReadDeadlineMS), 'f', -1, 64) + " ms",
		"strict " + onOff(o.Strict),
	}
	if o.Baseline != "" {
		parts = append(parts, "baseline "+o.Baseline)
	}
	if len(o.Filters) > 0 {
		parts = append(parts, "filters "+strings.Join(o.Filters, " "))
	}
	return strings.Join(parts, ", ")
}
