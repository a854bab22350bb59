package suite

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/proxyspec/proxyspec/reports"
)

// Baseline lists a target's known failures: a listed case that fails or warns is "expected" and is
// not a finding; a listed case that passes is reported as an unexpected pass, so the list can be
// pruned. The file has one case id or glob per line, optionally followed by a reason; # starts a
// comment.
type Baseline struct {
	File    string
	Entries []BaselineEntry
}

// BaselineEntry is one line of a baseline file.
type BaselineEntry struct {
	Pattern string
	Reason  string
	Line    int
}

// LoadBaseline reads a baseline file.
func LoadBaseline(file string) (*Baseline, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	defer f.Close()
	b, err := ParseBaseline(file, f)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// ParseBaseline parses a baseline from r; name is used in errors.
func ParseBaseline(name string, r io.Reader) (*Baseline, error) {
	b := &Baseline{File: name}
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		// A comment starts with # at the start of a line or after a space, so reasons may say "#2".
		if strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.Index(line, " #"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" {
			continue
		}
		pat, reason, _ := strings.Cut(line, " ")
		if _, err := path.Match(pat, ""); err != nil {
			return nil, fmt.Errorf("%s:%d: bad pattern %q: %w", name, n, pat, err)
		}
		b.Entries = append(b.Entries, BaselineEntry{Pattern: pat, Reason: strings.TrimSpace(reason), Line: n})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("baseline %s: %w", name, err)
	}
	return b, nil
}

// lookup returns the entry covering id.
func (b *Baseline) lookup(id string) (BaselineEntry, bool) {
	if b == nil {
		return BaselineEntry{}, false
	}
	for _, e := range b.Entries {
		if ok, _ := path.Match(e.Pattern, id); ok || e.Pattern == id {
			return e, true
		}
	}
	return BaselineEntry{}, false
}

// Apply marks results the baseline covers.
func (b *Baseline) Apply(r *reports.CaseResult) {
	e, ok := b.lookup(r.ID)
	if !ok {
		return
	}
	switch r.Verdict {
	case reports.Fail, reports.Warn:
		r.Baseline = "expected"
		if e.Reason != "" {
			r.Reason += " [baseline: " + e.Reason + "]"
		}
	case reports.Pass, reports.Info:
		r.Baseline = "unexpected-pass"
	}
}

// WriteBaseline writes a baseline listing every FAIL and WARN of run, with its reason.
func WriteBaseline(w io.Writer, run *reports.Run) error {
	var lines []string
	for _, c := range run.Cases {
		if c.Verdict == reports.Fail || c.Verdict == reports.Warn {
			reason := strings.ReplaceAll(c.Reason, "\n", " ")
			if len(reason) > 160 {
				reason = reason[:160] + "..."
			}
			lines = append(lines, fmt.Sprintf("%s %s: %s", c.ID, c.Verdict, reason))
		}
	}
	sort.Strings(lines)
	if _, err := fmt.Fprintf(w, "# proxyspec baseline for %s %s: known failures, one case id (or glob) per line.\n", run.Target.Name, run.Target.Version); err != nil {
		return err
	}
	for _, l := range lines {
		if _, err := fmt.Fprintln(w, l); err != nil {
			return err
		}
	}
	return nil
}
