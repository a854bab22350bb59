package reports

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Matrix is several runs side by side: implementations × cases. Column order is the order of
// Runs; rows are every case id any run has, by family and id. A case a run does not have shows as
// "—" (the run used an older corpus or a filter).
type Matrix struct {
	Runs []*Run
	// Title heads both pages; default "proxyspec matrix".
	Title string
	// Intro is a paragraph of Markdown (plain text in the HTML page) after the title.
	Intro string
	// Report returns the address of r's own HTML report, relative to where the matrix is written,
	// or "" for none; each cell then links to Report(r) + "#" + case id (the anchor the HTML report
	// opens). Nil means no links.
	Report func(r *Run) string
	// Notes, by implementation name, is shown under the summary (e.g. the launcher's profile).
	Notes map[string]string
}

// ResultBase is the file name (without extension) of a run's result in a results folder:
// "<name>-<version>" with every byte outside [A-Za-z0-9._+-] replaced by "_"; "<name>" when
// the version is unknown.
func ResultBase(t Target) string {
	base := cmp.Or(t.Name, "unnamed")
	if t.Version != "" {
		base += "-" + t.Version
	}
	b := []byte(base)
	for i, c := range b {
		if !(isAlnum(c) || c == '.' || c == '_' || c == '+' || c == '-') {
			b[i] = '_'
		}
	}
	return string(b)
}

// implLabel is "nginx 1.22.1".
func implLabel(r *Run) string {
	return oneLine(strings.TrimSpace(cmp.Or(r.Target.Name, "unnamed") + " " + r.Target.Version))
}

// matrixRow is one case across the runs.
type matrixRow struct {
	ID, Title, Level string
	Cells            []*CaseResult // per run; nil where the run has no such case
}

// rows gathers every case id of the runs, sorted by family then id.
func (m *Matrix) rows() []matrixRow {
	index := map[string]int{}
	var rows []matrixRow
	for i, r := range m.Runs {
		for j := range r.Cases {
			c := &r.Cases[j]
			k, ok := index[c.ID]
			if !ok {
				k = len(rows)
				index[c.ID] = k
				rows = append(rows, matrixRow{ID: c.ID, Title: c.Title, Level: c.Level, Cells: make([]*CaseResult, len(m.Runs))})
			}
			rows[k].Cells[i] = c
		}
	}
	slices.SortFunc(rows, func(a, b matrixRow) int {
		return cmp.Or(strings.Compare(FamilyOf(a.ID), FamilyOf(b.ID)), strings.Compare(a.ID, b.ID))
	})
	return rows
}

// families lists the family names of rows in order.
func familiesOf(rows []matrixRow) []string {
	var out []string
	for _, r := range rows {
		if f := FamilyOf(r.ID); len(out) == 0 || out[len(out)-1] != f {
			out = append(out, f)
		}
	}
	return out
}

func (m *Matrix) link(r *Run, id string) string {
	if m.Report == nil {
		return ""
	}
	base := m.Report(r)
	if base == "" || id == "" {
		return base
	}
	return base + "#" + id
}

func (m *Matrix) check() error {
	if len(m.Runs) == 0 {
		return fmt.Errorf("no runs")
	}
	for i, r := range m.Runs {
		if r == nil {
			return fmt.Errorf("run %d is nil", i)
		}
	}
	return nil
}

// familyCell summarises one implementation's results in one family: "·" when nothing needs
// attention, else counts such as "F2 W1" (F FAIL, E ERROR, W WARN), then "(S3)" for skips.
func familyCell(s Summary) string {
	var parts []string
	for _, p := range []struct {
		tag string
		n   int
	}{{"F", s.Fail}, {"E", s.Error}, {"W", s.Warn}} {
		if p.n > 0 {
			parts = append(parts, p.tag+strconv.Itoa(p.n))
		}
	}
	cell := strings.Join(parts, " ")
	if cell == "" {
		cell = "·"
	}
	if s.Skip == s.Total && s.Total > 0 {
		return "skip"
	}
	return cell
}

// WriteMatrixMarkdown writes the matrix as Markdown: a summary table (one row per
// implementation: version, capabilities, verdict counts), an implementations × families table of
// FAIL/ERROR/WARN counts, then per implementation a list of every FAIL, ERROR and WARN with its
// case id (linked to the transcript where Report is set), level and one-line reason.
func WriteMatrixMarkdown(w io.Writer, m *Matrix) error {
	if err := m.check(); err != nil {
		return fmt.Errorf("reports: write matrix Markdown: %w", err)
	}
	var b bytes.Buffer
	md := mdWriter{&b}
	md.heading(1, mdText(cmp.Or(m.Title, "proxyspec matrix")))
	if m.Intro != "" {
		b.WriteString(strings.TrimSpace(m.Intro) + "\n\n")
	}
	rows := m.rows()

	md.heading(2, "Summary")
	head := []string{"Implementation", "Capabilities"}
	align := "ll"
	for _, v := range Verdicts {
		head = append(head, string(v))
		align += "r"
	}
	head = append(head, "Cases", "Report")
	align += "rl"
	var table [][]string
	for _, r := range m.Runs {
		s := Tally(r.Cases)
		row := []string{"**" + mdText(implLabel(r)) + "**", mdText(cmp.Or(strings.Join(r.Target.Capabilities, ", "), "—"))}
		for _, v := range Verdicts {
			row = append(row, countCell(s.Of(v)))
		}
		row = append(row, strconv.Itoa(s.Total), mdLink("report", m.link(r, "")))
		table = append(table, row)
	}
	md.table(head, align, table)
	if len(m.Notes) > 0 {
		for _, r := range m.Runs {
			if n := m.Notes[r.Target.Name]; n != "" {
				fmt.Fprintf(&b, "- **%s:** %s\n", mdText(r.Target.Name), oneLine(n))
			}
		}
		b.WriteByte('\n')
	}

	md.heading(2, "By family")
	b.WriteString("Per implementation and case family: `F` FAIL, `E` ERROR, `W` WARN counts; `·` nothing to report; `skip` every case skipped.\n\n")
	fams := familiesOf(rows)
	head = []string{"Implementation"}
	align = "l"
	for _, f := range fams {
		head = append(head, mdText(f))
		align += "l"
	}
	table = table[:0]
	for i, r := range m.Runs {
		row := []string{mdText(implLabel(r))}
		for _, f := range fams {
			var cs []CaseResult
			for _, mr := range rows {
				if FamilyOf(mr.ID) == f && mr.Cells[i] != nil {
					cs = append(cs, *mr.Cells[i])
				}
			}
			if len(cs) == 0 {
				row = append(row, "—")
				continue
			}
			row = append(row, familyCell(Tally(cs)))
		}
		table = append(table, row)
	}
	md.table(head, align, table)

	md.heading(2, "Findings")
	b.WriteString("Every FAIL, ERROR and WARN, per implementation, most severe first: verdict, case (linked to its transcript in the implementation's report), level, and the one-line reason.\n\n")
	for _, r := range m.Runs {
		s := Tally(r.Cases)
		md.heading(3, fmt.Sprintf("%s (%d FAIL, %d ERROR, %d WARN)", mdText(implLabel(r)), s.Fail, s.Error, s.Warn))
		n := 0
		for _, c := range Sorted(r) {
			if c.Verdict != Fail && c.Verdict != Error && c.Verdict != Warn && c.Verdict.known() {
				continue
			}
			id := mdCode(c.ID)
			if l := m.link(r, c.ID); l != "" {
				id = mdLink(id, l)
			}
			fmt.Fprintf(&b, "- **%s** %s (%s): %s\n", mdText(string(c.Verdict)), id, mdText(c.Level), mdText(c.Reason))
			n++
		}
		if n == 0 {
			b.WriteString("Nothing to report.\n")
		}
		b.WriteByte('\n')
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("reports: write matrix Markdown: %w", err)
	}
	return nil
}

// mdLink is a Markdown link, or text alone when href is empty.
func mdLink(text, href string) string {
	if href == "" {
		return text
	}
	r := strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "<", "%3C", ">", "%3E", "|", "%7C")
	return "[" + text + "](" + r.Replace(oneLine(href)) + ")"
}
