package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/proxyspec/proxyspec/conformance/runner"
	"github.com/proxyspec/proxyspec/conformance/suite"
	"github.com/proxyspec/proxyspec/conformance/targets"
	"github.com/proxyspec/proxyspec/conformance/wire"
	"github.com/proxyspec/proxyspec/corpus"
	"github.com/proxyspec/proxyspec/reports"
)

// listFlag is a repeatable flag; commas also separate values.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	for _, x := range strings.Split(v, ",") {
		if x = strings.TrimSpace(x); x != "" {
			*l = append(*l, x)
		}
	}
	return nil
}

type filterFlags struct {
	cases, tags, levels, rfcs listFlag
	corpusDir                 string
	sweeps                    bool
}

func (f *filterFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.cases, "case", "run only cases whose id matches this glob (repeatable; a family name selects the family)")
	fs.Var(&f.tags, "tag", "run only cases with this tag (repeatable)")
	fs.Var(&f.levels, "level", "run only cases of this level: MUST, SHOULD, MAY (repeatable)")
	fs.Var(&f.rfcs, "rfc", `run only cases citing this RFC or section, e.g. "RFC9112" or "RFC9112 6.1" (repeatable)`)
	fs.StringVar(&f.corpusDir, "corpus", "", "load cases from this corpus directory instead of the built-in corpus")
	fs.BoolVar(&f.sweeps, "sweeps", false, "include the instances of parametric sweeps (thousands of generated cases)")
}

func (f *filterFlags) filter() suite.Filter {
	return suite.Filter{Cases: f.cases, Tags: f.tags, Levels: f.levels, RFCs: f.rfcs, Sweeps: f.sweeps}
}

func (f *filterFlags) load() ([]*corpus.Case, error) {
	if f.corpusDir != "" {
		return corpus.LoadDir(f.corpusDir)
	}
	return corpus.Embedded()
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return suite.Version
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("proxyspec run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		ff                                filterFlags
		target, origin, host, launch, bin string
		jsonOut, junitOut, htmlOut, mdOut string
		baselineFile, writeBaseline       string
		deadline                          time.Duration
		parallel                          int
		strict, quiet                     bool
		caps                              listFlag
		name                              string
	)
	ff.register(fs)
	fs.StringVar(&target, "target", "", "address of a running proxy under test, already forwarding to --origin")
	fs.StringVar(&origin, "origin", "", "address the harness origin listens on (default with --launch: a free loopback port)")
	fs.StringVar(&host, "host", "", "value of {host} in cases (default: the target address)")
	fs.StringVar(&launch, "launch", "", "start a known proxy instead of --target: "+strings.Join(targets.Names(), ", "))
	fs.StringVar(&bin, "refproxy", "", "refproxy binary for --launch refproxy (default: found or built)")
	fs.Var(&caps, "cap", "capability of the --target proxy, NAME or NAME=ADDR (repeatable): "+strings.Join(capNames(), ", "))
	fs.StringVar(&name, "name", "", "name of the --target proxy in reports (default \"external\")")
	fs.StringVar(&jsonOut, "json", "", "write the JSON result to this file")
	fs.StringVar(&junitOut, "junit", "", "write JUnit XML to this file")
	fs.StringVar(&htmlOut, "html", "", "write a self-contained HTML report to this file")
	fs.StringVar(&mdOut, "markdown", "", "write a Markdown report to this file")
	fs.StringVar(&baselineFile, "baseline", "", "known failures: listed FAIL/WARN results are expected, not findings")
	fs.StringVar(&writeBaseline, "write-baseline", "", "write this run's FAIL/WARN results as a baseline file")
	fs.DurationVar(&deadline, "deadline", 2*time.Second, "read deadline: how long to wait for an answer before concluding there is none")
	fs.IntVar(&parallel, "parallel", 16, "cases run at once")
	fs.BoolVar(&strict, "strict", false, "count WARN (SHOULD broken) as a finding")
	fs.BoolVar(&quiet, "quiet", false, "print only the summary")
	if err := fs.Parse(args); err != nil {
		return &exitError{2, errors.New("")}
	}
	if fs.NArg() > 0 {
		return &exitError{2, fmt.Errorf("run: unexpected argument %q", fs.Arg(0))}
	}
	usageErr := func(format string, a ...any) error { return &exitError{2, fmt.Errorf("run: "+format, a...)} }
	switch {
	case target == "" && launch == "":
		return usageErr("give --target ADDR (with --origin ADDR) or --launch NAME")
	case target != "" && launch != "":
		return usageErr("--target and --launch are exclusive")
	case target != "" && origin == "":
		return usageErr("--target needs --origin: the address the proxy forwards to, where the harness origin will listen")
	case deadline <= 0 || deadline > time.Minute:
		return usageErr("--deadline %s: want between 0 and 1m", deadline)
	case parallel < 1:
		return usageErr("--parallel %d: want at least 1", parallel)
	}
	filter := ff.filter()
	if err := filter.Validate(); err != nil {
		return &exitError{2, err}
	}
	cases, err := ff.load()
	if err != nil {
		return &exitError{2, err}
	}
	var baseline *suite.Baseline
	if baselineFile != "" {
		if baseline, err = suite.LoadBaseline(baselineFile); err != nil {
			return &exitError{2, err}
		}
	}
	for _, out := range []string{jsonOut, junitOut, htmlOut, mdOut, writeBaseline} {
		if out != "" {
			if err := checkWritable(out); err != nil {
				return &exitError{2, err}
			}
		}
	}

	if origin == "" {
		origin = "127.0.0.1:0"
	}
	org, err := wire.NewOrigin(origin)
	if err != nil {
		return &exitError{2, fmt.Errorf("start harness origin on %s: %w", origin, err)}
	}
	defer org.Close()

	var tgt runner.Target
	info := reports.Target{Name: name}
	var launched *targets.Launched
	if launch != "" {
		launched, err = targets.Launch(ctx, launch, org.Addr(), targets.Options{RefproxyBin: bin})
		if err != nil {
			return &exitError{2, fmt.Errorf("launch %s: %w", launch, err)}
		}
		defer launched.Stop()
		tgt, info = launched.Target, launched.Info
	} else {
		if _, _, err := net.SplitHostPort(target); err != nil {
			return usageErr("--target %q: %v", target, err)
		}
		tgt = runner.Target{Name: name, Addr: target, Host: host, Caps: map[string]string{}}
		if info.Name == "" {
			info.Name = "external"
		}
		for _, c := range caps {
			n, addr, _ := strings.Cut(c, "=")
			if _, ok := corpus.Capabilities[n]; !ok {
				return usageErr("--cap %q: unknown capability (known: %s)", n, strings.Join(capNames(), ", "))
			}
			tgt.Caps[n] = addr
		}
	}
	if host != "" {
		tgt.Host = host
	}
	if tgt.Host == "" {
		tgt.Host = tgt.Addr
	}

	prog := newProgress(stderr, quiet)
	run, runErr := suite.Run(ctx, suite.Config{
		Cases: cases, Filter: filter, Target: tgt, Info: info, Origin: org,
		ReadDeadline: deadline, Parallel: parallel, Baseline: baseline, Strict: strict,
		Progress: prog.update,
	})
	prog.finish()
	if launched != nil && runErr == nil {
		if err := launched.Alive(); err != nil {
			runErr = fmt.Errorf("%w: %v", suite.ErrTarget, err)
		}
	}
	if run != nil && len(run.Cases) > 0 {
		if err := writeReports(run, jsonOut, junitOut, htmlOut, mdOut, writeBaseline); err != nil {
			return &exitError{2, err}
		}
		saveLast(run, stderr)
		printSummary(stdout, run)
	}
	if runErr != nil {
		return &exitError{2, runErr}
	}
	return &exitError{exitCode(run), nil}
}

// exitCode: 2 if any case is ERROR, 1 if there are findings, else 0.
func exitCode(run *reports.Run) int {
	code := 0
	for _, c := range run.Cases {
		switch {
		case c.Verdict == reports.Error:
			return 2
		case c.Baseline == "expected":
		case c.Verdict == reports.Fail, c.Verdict == reports.Warn && run.Options.Strict:
			code = 1
		}
	}
	return code
}

func capNames() []string {
	var out []string
	for n := range corpus.Capabilities {
		out = append(out, n)
	}
	sortStrings(out)
	return out
}

func checkWritable(file string) error {
	dir := filepath.Dir(file)
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", file, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("cannot write %s: %s is not a directory", file, dir)
	}
	return nil
}

func writeReports(run *reports.Run, jsonOut, junitOut, htmlOut, mdOut, baselineOut string) error {
	outputs := []struct {
		file  string
		write func(io.Writer, *reports.Run) error
	}{
		{jsonOut, reports.WriteJSON},
		{junitOut, reports.WriteJUnit},
		{htmlOut, reports.WriteHTML},
		{mdOut, reports.WriteMarkdown},
		{baselineOut, suite.WriteBaseline},
	}
	for _, o := range outputs {
		if o.file == "" {
			continue
		}
		if err := writeFile(o.file, func(w io.Writer) error { return o.write(w, run) }); err != nil {
			return err
		}
	}
	return nil
}

// writeFile writes through a temporary file and renames it, so a report is never half-written.
func writeFile(file string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", file, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	return nil
}
