package reports

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// WriteMarkdown writes r as a Markdown report that also reads well in a terminal: the target, a
// summary table of verdict counts, a family × verdict table, then every FAIL, ERROR and WARN with
// its level, reason, RFC references, findings and evidence streams (escaped text in fenced code
// blocks, as is), the INFO choices, unexpected passes and skipped cases in compact tables. Counts
// are computed from r.Cases, so the report agrees with the cases it lists.
func WriteMarkdown(w io.Writer, r *Run) error {
	if r == nil {
		return fmt.Errorf("reports: write Markdown: nil run")
	}
	var b bytes.Buffer
	md := mdWriter{&b}
	md.header(r)

	sorted := Sorted(r)
	byVerdict := map[Verdict][]*CaseResult{}
	var unexpected []*CaseResult
	for i := range sorted {
		c := &sorted[i]
		byVerdict[c.Verdict] = append(byVerdict[c.Verdict], c)
		if c.Baseline == BaselineUnexpectedPass {
			unexpected = append(unexpected, c)
		}
	}
	if cs := byVerdict[Fail]; len(cs) > 0 {
		md.details("Failures", cs)
	}
	var errs []*CaseResult // ERROR and, defensively, unknown verdicts
	for i := range sorted {
		if !sorted[i].Verdict.known() || sorted[i].Verdict == Error {
			errs = append(errs, &sorted[i])
		}
	}
	if len(errs) > 0 {
		md.details("Errors", errs)
	}
	if cs := byVerdict[Warn]; len(cs) > 0 {
		md.details("Warnings", cs)
	}
	if cs := byVerdict[Info]; len(cs) > 0 {
		md.infos(cs)
	}
	if len(unexpected) > 0 {
		md.heading(2, fmt.Sprintf("Unexpected passes (%d)", len(unexpected)))
		b.WriteString("The baseline lists these cases as known failures, but they passed: remove them from the baseline.\n\n")
		rows := make([][]string, len(unexpected))
		for i, c := range unexpected {
			rows[i] = []string{mdCode(c.ID), mdText(string(c.Verdict)), mdText(c.Reason)}
		}
		md.table([]string{"Case", "Verdict", "Reason"}, "lll", rows)
	}
	if cs := byVerdict[Skip]; len(cs) > 0 {
		md.skips(cs)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("reports: write Markdown: %w", err)
	}
	return nil
}

type mdWriter struct{ b *bytes.Buffer }

// mdEvidenceLegend is EvidenceLegend with the escapes as code.
const mdEvidenceLegend = "Evidence streams are escaped text: each line ends in CRLF unless it ends in `\\n` (bare LF), " +
	"`\\r` (bare CR) or `\\c` (nothing); `\\t` `\\s` `\\0` `\\xHH` `\\\\` write other bytes.\n\n"

func (md mdWriter) heading(level int, text string) {
	fmt.Fprintf(md.b, "%s %s\n\n", strings.Repeat("#", level), text)
}

func (md mdWriter) header(r *Run) {
	title := "proxyspec report"
	if t := targetLabel(r.Target); t != "" {
		title += ": " + t
	}
	md.heading(1, mdText(title))

	var items [][2]string
	if t := r.Target; t.Name != "" || t.Address != "" || t.Origin != "" {
		v := mdText(strings.TrimSpace(t.Name + " " + t.Version))
		if t.Address != "" {
			v += " at " + mdCode(t.Address)
		}
		if t.Origin != "" {
			v += ", forwarding to the harness origin " + mdCode(t.Origin)
		}
		items = append(items, [2]string{"Target", v})
	}
	if len(r.Target.Capabilities) > 0 {
		items = append(items, [2]string{"Capabilities", mdText(strings.Join(r.Target.Capabilities, ", "))})
	}
	if tool := strings.TrimSpace(r.Tool.Name + " " + r.Tool.Version); tool != "" {
		items = append(items, [2]string{"Tool", mdText(tool)})
	}
	if !r.Started.IsZero() {
		items = append(items, [2]string{"Started", r.Started.UTC().Format("2006-01-02 15:04:05 UTC") +
			", took " + seconds(r.Duration) + " s"})
	}
	items = append(items, [2]string{"Options", mdText(optionsLabel(r.Options))})
	for _, it := range items {
		fmt.Fprintf(md.b, "- **%s:** %s\n", it[0], it[1])
	}
	md.b.WriteByte('\n')

	total := Tally(r.Cases)
	md.heading(2, "Summary")
	rows := make([][]string, 0, len(Verdicts)+1)
	for _, v := range Verdicts {
		rows = append(rows, []string{string(v), strconv.Itoa(total.Of(v))})
	}
	rows = append(rows, []string{"**Total**", "**" + strconv.Itoa(total.Total) + "**"})
	md.table([]string{"Verdict", "Cases"}, "lr", rows)
	if total.Expected > 0 || total.UnexpectedPass > 0 {
		fmt.Fprintf(md.b, "Baseline: %d expected failure%s, %d unexpected pass%s.\n\n",
			total.Expected, plural(total.Expected, "s"), total.UnexpectedPass, plural(total.UnexpectedPass, "es"))
	}

	fams := Families(r)
	if len(fams) == 0 {
		md.b.WriteString("No cases were run.\n")
		return
	}
	md.heading(2, "By family")
	head := []string{"Family", "Cases"}
	align := "lr"
	for _, v := range Verdicts {
		head = append(head, string(v))
		align += "r"
	}
	rows = rows[:0]
	for _, f := range fams {
		row := []string{mdText(f.Name), strconv.Itoa(f.Counts.Total)}
		for _, v := range Verdicts {
			row = append(row, countCell(f.Counts.Of(v)))
		}
		rows = append(rows, row)
	}
	md.table(head, align, rows)
}

// details writes one section of FAIL, ERROR or WARN cases with their evidence.
func (md mdWriter) details(title string, cs []*CaseResult) {
	md.heading(2, fmt.Sprintf("%s (%d)", title, len(cs)))
	for _, c := range cs {
		if len(streamsOf(c)) > 0 {
			md.b.WriteString(mdEvidenceLegend)
			break
		}
	}
	for _, c := range cs {
		head := fmt.Sprintf("%s %s", mdText(string(c.Verdict)), mdCode(c.ID))
		if c.Level != "" {
			head += " (" + mdText(c.Level) + ")"
		}
		if c.isExpected() {
			head += " — expected by the baseline"
		}
		md.heading(3, head)
		if c.Title != "" {
			fmt.Fprintf(md.b, "%s\n\n", mdText(c.Title))
		}
		fmt.Fprintf(md.b, "- **Reason:** %s\n", mdText(c.Reason))
		for _, ref := range c.RFC {
			fmt.Fprintf(md.b, "- **%s:** %s\n", mdText(refLabel(ref)), mdQuote(ref.Quote))
		}
		if len(c.Tags) > 0 {
			fmt.Fprintf(md.b, "- **Tags:** %s\n", mdText(strings.Join(c.Tags, " ")))
		}
		if c.Outcome != "" {
			fmt.Fprintf(md.b, "- **Outcome:** %s\n", mdText(c.Outcome))
		}
		if len(c.Findings) > 0 {
			md.b.WriteString("- **Findings:**\n")
			for _, f := range c.Findings {
				fmt.Fprintf(md.b, "  - %s %s: %s\n", mdText(string(f.Verdict)), mdCode(f.Oracle), mdText(f.Message))
			}
		}
		md.b.WriteByte('\n')
		for _, s := range streamsOf(c) {
			fmt.Fprintf(md.b, "%s\n\n", mdCode(streamLabel(s)))
			md.codeBlock(s.Data)
		}
	}
}

// infos writes the INFO choices as one compact table.
func (md mdWriter) infos(cs []*CaseResult) {
	md.heading(2, fmt.Sprintf("Choices (INFO, %d)", len(cs)))
	rows := make([][]string, len(cs))
	for i, c := range cs {
		var refs []string
		for _, ref := range c.RFC {
			refs = append(refs, mdText(refLabel(ref)))
		}
		rows[i] = []string{mdCode(c.ID), mdText(c.Level), mdText(c.Outcome), mdText(c.Reason), strings.Join(refs, ", ")}
	}
	md.table([]string{"Case", "Level", "Outcome", "Reason", "RFC"}, "lllll", rows)
}

// skips writes the skipped cases grouped by reason.
func (md mdWriter) skips(cs []*CaseResult) {
	md.heading(2, fmt.Sprintf("Skipped (%d)", len(cs)))
	var reasons []string
	ids := map[string][]string{}
	for _, c := range cs {
		if _, ok := ids[c.Reason]; !ok {
			reasons = append(reasons, c.Reason)
		}
		ids[c.Reason] = append(ids[c.Reason], mdCode(c.ID))
	}
	rows := make([][]string, len(reasons))
	for i, reason := range reasons {
		rows[i] = []string{mdText(cmp.Or(reason, "(no reason)")), strconv.Itoa(len(ids[reason])), strings.Join(ids[reason], " ")}
	}
	md.table([]string{"Reason", "Cases", "Ids"}, "lrl", rows)
}

// codeBlock writes data in a fenced code block whose fence no line of data can close.
func (md mdWriter) codeBlock(data string) {
	data = multiLine(data)
	if data == "" {
		md.b.WriteString("(no bytes)\n\n")
		return
	}
	fence := strings.Repeat("`", max(3, longestRun(data, '`')+1))
	// Every line of data counts: a final empty line (data ending in a line feed) is a CRLF of its
	// own and shows as an empty line before the closing fence.
	fmt.Fprintf(md.b, "%s\n%s\n%s\n\n", fence, data, fence)
}

// table writes a table padded so that it lines up in a terminal. align holds 'l' or 'r' per column.
func (md mdWriter) table(head []string, align string, rows [][]string) {
	width := make([]int, len(head))
	for i, h := range head {
		width[i] = max(3, utf8.RuneCountInString(h))
	}
	for _, row := range rows {
		for i, cell := range row {
			width[i] = max(width[i], utf8.RuneCountInString(cell))
		}
	}
	line := func(cells []string) {
		md.b.WriteByte('|')
		for i, cell := range cells {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(cell))
			if align[i] == 'r' {
				fmt.Fprintf(md.b, " %s%s |", pad, cell)
			} else {
				fmt.Fprintf(md.b, " %s%s |", cell, pad)
			}
		}
		md.b.WriteByte('\n')
	}
	line(head)
	md.b.WriteByte('|')
	for i := range head {
		if align[i] == 'r' {
			fmt.Fprintf(md.b, " %s: |", strings.Repeat("-", width[i]-1))
		} else {
			fmt.Fprintf(md.b, " %s |", strings.Repeat("-", width[i]))
		}
	}
	md.b.WriteByte('\n')
	for _, row := range rows {
		line(row)
	}
	md.b.WriteByte('\n')
}

// mdText makes s one line of literal Markdown text: characters that would format it, start HTML or
// end a table cell are backslash-escaped; a backslash is escaped only where Markdown would read it
// as an escape, so escapes such as \r in a reason stay readable in a terminal.
func mdText(s string) string {
	s = oneLine(s)
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch ch {
		case '\\':
			if i+1 < len(s) && isASCIIPunct(s[i+1]) {
				b.WriteByte('\\')
			}
		case '`', '*', '[', ']', '<', '>', '|', '~', '&':
			b.WriteByte('\\')
		case '_':
			if i == 0 || i == len(s)-1 || !isAlnum(s[i-1]) || !isAlnum(s[i+1]) {
				b.WriteByte('\\')
			}
		}
		b.WriteByte(ch)
	}
	return b.String()
}

// mdCode makes s an inline code span, which shows it literally.
func mdCode(s string) string {
	s = oneLine(s)
	if s == "" {
		return ""
	}
	ticks := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	// A | ends a table cell even inside a code span (GFM).
	return ticks + strings.ReplaceAll(s, "|", `\|`) + ticks
}

func mdQuote(s string) string { return "“" + mdText(s) + "”" }

func longestRun(s string, ch byte) int {
	best, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == ch {
			run++
			best = max(best, run)
		} else {
			run = 0
		}
	}
	return best
}

func isASCIIPunct(c byte) bool {
	return c >= '!' && c <= '/' || c >= ':' && c <= '@' || c >= '[' && c <= '`' || c >= '{' && c <= '~'
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func countCell(n int) string {
	if n == 0 {
		return "·"
	}
	return strconv.Itoa(n)
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func plural(n int, suffix string) string {
	if n == 1 {
		return ""
	}
	return suffix
}
