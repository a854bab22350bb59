package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/proxyspec/proxyspec/conformance/suite"
	"github.com/proxyspec/proxyspec/corpus"
	"github.com/proxyspec/proxyspec/reports"
)

func cmdList(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("proxyspec list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var ff filterFlags
	ff.register(fs)
	long := fs.Bool("l", false, "long form: level, tags and title")
	if err := fs.Parse(args); err != nil {
		return &exitError{2, errors.New("")}
	}
	f := ff.filter()
	if err := f.Validate(); err != nil {
		return &exitError{2, err}
	}
	cases, err := ff.load()
	if err != nil {
		return &exitError{2, err}
	}
	for _, c := range suite.Select(cases, f) {
		if *long {
			fmt.Fprintf(stdout, "%-48s %-6s %-30s %s\n", c.ID, c.Level, strings.Join(c.Tags, ","), c.Title)
			continue
		}
		fmt.Fprintln(stdout, c.ID)
	}
	return nil
}

func cmdExport(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("proxyspec export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var ff filterFlags
	ff.register(fs)
	out := fs.String("o", "", "write to this file instead of standard output")
	schema := fs.Bool("schema", false, "write the JSON Schema of the export instead")
	if err := fs.Parse(args); err != nil {
		return &exitError{2, errors.New("")}
	}
	write := func(w io.Writer) error {
		if *schema {
			_, err := w.Write(corpus.Schema)
			return err
		}
		cases, err := ff.load()
		if err != nil {
			return err
		}
		return corpus.WriteExport(w, suite.Select(cases, ff.filter()))
	}
	if *out == "" {
		return write(stdout)
	}
	return writeFile(*out, write)
}

func cmdShow(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("proxyspec show", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var ff filterFlags
	ff.register(fs)
	resultFile := fs.String("result", "", "take the result from this JSON result file instead of the last run")
	if err := fs.Parse(args); err != nil {
		return &exitError{2, errors.New("")}
	}
	if fs.NArg() != 1 {
		return &exitError{2, errors.New("show: give one case id (see proxyspec list)")}
	}
	id := fs.Arg(0)
	cases, err := ff.load()
	if err != nil {
		return &exitError{2, err}
	}
	var c *corpus.Case
	for _, x := range cases {
		if x.ID == id {
			c = x
		}
	}
	if c == nil {
		return &exitError{2, fmt.Errorf("show: no case %q (see proxyspec list)", id)}
	}
	printCase(stdout, c)

	var run *reports.Run
	if *resultFile != "" {
		f, err := os.Open(*resultFile)
		if err != nil {
			return &exitError{2, fmt.Errorf("show: %w", err)}
		}
		defer f.Close()
		if run, err = reports.ReadJSON(f); err != nil {
			return &exitError{2, fmt.Errorf("show: %s: %w", *resultFile, err)}
		}
	} else if run, err = loadLast(); err != nil {
		fmt.Fprintln(stdout, "\n(no last run recorded; run proxyspec run first)")
		return nil
	}
	for _, r := range run.Cases {
		if r.ID == id {
			printResult(stdout, run, &r)
			return nil
		}
	}
	fmt.Fprintf(stdout, "\n(the last run, against %s, did not include this case)\n", run.Target.Name)
	return nil
}

func printCase(w io.Writer, c *corpus.Case) {
	fmt.Fprintf(w, "%s: %s\nlevel: %s   tags: %s\n", c.ID, c.Title, c.Level, strings.Join(c.Tags, " "))
	if len(c.Needs) > 0 {
		fmt.Fprintf(w, "needs: %s\n", strings.Join(c.Needs, " "))
	}
	if len(c.Vectors) > 0 {
		fmt.Fprintf(w, "vectors: %v\n", c.Vectors)
	}
	for _, r := range c.RFC {
		fmt.Fprintf(w, "%s §%s: %q\n", r.Doc, r.Section, r.Quote)
	}
	for _, n := range c.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	fmt.Fprintln(w, "acceptable outcomes:")
	for i, o := range c.Expect {
		name := o.Name
		if name == "" {
			name = fmt.Sprintf("#%d", i+1)
		}
		fmt.Fprintf(w, "  [%s] %s\n", name, o.Text)
	}
	for _, s := range c.Client {
		fmt.Fprintf(w, "-- client %s --\n", stepTitle(s))
		if s.Kind == corpus.Send {
			fmt.Fprintln(w, strings.TrimSuffix(s.Bytes.String(), "\n"))
		}
	}
	for _, a := range c.Origin {
		opts := ""
		if a.CloseAfter {
			opts += " close"
		}
		if a.Tunnel {
			opts += " tunnel"
		}
		fmt.Fprintf(w, "-- origin %s%s --\n", a.Kind, opts)
		if a.Kind == corpus.Respond {
			fmt.Fprintln(w, strings.TrimSuffix(a.Bytes.String(), "\n"))
		}
	}
}

func stepTitle(s corpus.Step) string {
	if s.Kind == corpus.Pause {
		return "pause " + s.Pause.String()
	}
	return string(s.Kind)
}

func printResult(w io.Writer, run *reports.Run, r *reports.CaseResult) {
	fmt.Fprintf(w, "\nlast result against %s %s (%s): %s", run.Target.Name, run.Target.Version, run.Started.Format("2006-01-02 15:04:05Z"), r.Verdict)
	if r.Baseline != "" {
		fmt.Fprintf(w, " (%s)", r.Baseline)
	}
	fmt.Fprintf(w, "\n  %s\n", r.Reason)
	for _, f := range r.Findings {
		fmt.Fprintf(w, "  %s [%s] %s\n", f.Verdict, f.Oracle, f.Message)
	}
	if r.Evidence == nil {
		return
	}
	for _, s := range r.Evidence.Streams {
		note := ""
		if s.Note != "" {
			note = " (" + s.Note + ")"
		}
		fmt.Fprintf(w, "== %s %s%s ==\n", s.Conn, s.Dir, note)
		if s.Data == "" {
			fmt.Fprintln(w, "(nothing)")
			continue
		}
		fmt.Fprintln(w, strings.TrimSuffix(s.Data, "\n"))
	}
}

// cmdCoverage prints the coverage map, or writes it (corpus/COVERAGE.md).
func cmdCoverage(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("proxyspec coverage", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var ff filterFlags
	ff.register(fs)
	write := fs.String("write", "", "write the map to this file (e.g. corpus/COVERAGE.md) as well as printing a summary")
	if err := fs.Parse(args); err != nil {
		return &exitError{2, errors.New("")}
	}
	ff.sweeps = true // a sweep is part of the corpus whether or not a run includes it
	cases, err := ff.load()
	if err != nil {
		return &exitError{2, err}
	}
	reqs, err := corpus.Requirements()
	if err != nil {
		return &exitError{2, err}
	}
	vecs, err := corpus.Vectors()
	if err != nil {
		return &exitError{2, err}
	}
	cov := corpus.Measure(cases, reqs, vecs)
	if *write != "" {
		if err := writeFile(*write, cov.WriteMarkdown); err != nil {
			return &exitError{2, err}
		}
	} else if err := cov.WriteMarkdown(stdout); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "%d cases + %d sweep instances; vectors: %d not yet covered; requirements: %d of %d without a case (and %d not checkable through a proxy)\n",
		cov.Cases, cov.Instances, len(cov.UncoveredVectors()), len(cov.Uncovered), cov.Requirements, len(cov.NotApplicable))
	return nil
}
