package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/proxyspec/proxyspec/reports"
)

// progress prints a live line on a terminal and one plain line per case otherwise.
type progress struct {
	w        io.Writer
	tty      bool
	quiet    bool
	counts   map[reports.Verdict]int
	lastLine int
}

func newProgress(w io.Writer, quiet bool) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &progress{w: w, tty: tty, quiet: quiet, counts: map[reports.Verdict]int{}}
}

func (p *progress) update(done, total int, r *reports.CaseResult) {
	p.counts[r.Verdict]++
	if p.quiet {
		return
	}
	if !p.tty {
		fmt.Fprintf(p.w, "%-5s %s%s\n", r.Verdict, r.ID, reasonSuffix(r))
		return
	}
	line := fmt.Sprintf("[%d/%d] pass %d  fail %d  warn %d  info %d  skip %d  error %d  %s",
		done, total, p.counts[reports.Pass], p.counts[reports.Fail], p.counts[reports.Warn],
		p.counts[reports.Info], p.counts[reports.Skip], p.counts[reports.Error], r.ID)
	if len(line) > 110 {
		line = line[:110]
	}
	pad := ""
	if n := p.lastLine - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	p.lastLine = len(line)
	fmt.Fprint(p.w, "\r"+line+pad)
}

func (p *progress) finish() {
	if p.tty && !p.quiet && p.lastLine > 0 {
		fmt.Fprint(p.w, "\r"+strings.Repeat(" ", p.lastLine)+"\r")
	}
}

func reasonSuffix(r *reports.CaseResult) string {
	if r.Verdict == reports.Pass || r.Reason == "" {
		return ""
	}
	reason := r.Reason
	if len(reason) > 200 {
		reason = reason[:200] + "..."
	}
	return ": " + reason
}

// printSummary prints the findings and the counts.
func printSummary(w io.Writer, run *reports.Run) {
	for _, v := range []reports.Verdict{reports.Error, reports.Fail, reports.Warn} {
		for _, c := range run.Cases {
			if c.Verdict != v {
				continue
			}
			tag := ""
			if c.Baseline == "expected" {
				tag = " (expected by baseline)"
			}
			fmt.Fprintf(w, "%-5s %s [%s]%s\n      %s\n", c.Verdict, c.ID, c.Level, tag, c.Reason)
		}
	}
	s := run.Summary
	fmt.Fprintf(w, "\n%s %s at %s: %d cases in %.1fs: %d pass, %d fail, %d warn, %d info, %d skip, %d error",
		run.Target.Name, run.Target.Version, run.Target.Address, s.Total, run.Duration/1000, s.Pass, s.Fail, s.Warn, s.Info, s.Skip, s.Error)
	if s.Expected > 0 || s.UnexpectedPass > 0 {
		fmt.Fprintf(w, " (%d expected by baseline, %d unexpected pass)", s.Expected, s.UnexpectedPass)
	}
	fmt.Fprintln(w)
	for _, c := range run.Cases {
		if c.Baseline == "unexpected-pass" {
			fmt.Fprintf(w, "unexpected pass: %s is in the baseline but passed; remove it from the baseline\n", c.ID)
		}
	}
	if s.Fail+s.Warn+s.Error > 0 {
		fmt.Fprintln(w, "details: proxyspec show ID")
	}
}

// lastFile is where the last run's result is kept for "proxyspec show".
func lastFile() string {
	if f := os.Getenv("PROXYSPEC_LAST"); f != "" {
		return f
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "proxyspec", "last.json")
}

func saveLast(run *reports.Run, stderr io.Writer) {
	f := lastFile()
	if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
		fmt.Fprintln(stderr, "proxyspec: warning: cannot keep the last run for show:", err)
		return
	}
	if err := writeFile(f, func(w io.Writer) error { return reports.WriteJSON(w, run) }); err != nil {
		fmt.Fprintln(stderr, "proxyspec: warning: cannot keep the last run for show:", err)
	}
}

func loadLast() (*reports.Run, error) {
	f, err := os.Open(lastFile())
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return reports.ReadJSON(f)
}

func sortStrings(s []string) { sort.Strings(s) }

// printJSON is used by list --json.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
