// Command faultmatrix runs the corpus against the reference proxy once without faults and once per
// injected fault, and writes which cases catch each fault:
//
//	go run ./conformance/faults/cmd/faultmatrix   (make faults)
//
// It rewrites reports/faults.md and conformance/faults/testdata/catches.json (the fast subset that
// go test replays). It exits 1 if the run without faults is not clean or a fault is caught by no
// MUST or SHOULD case, 2 on a usage or harness error.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/proxyspec/proxyspec/conformance/faults"
	"github.com/proxyspec/proxyspec/conformance/wire"
	"github.com/proxyspec/proxyspec/corpus"
	"github.com/proxyspec/proxyspec/reports"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	var ee exitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		fmt.Fprintln(os.Stderr, "faultmatrix:", ee.err)
		os.Exit(ee.code)
	default:
		fmt.Fprintln(os.Stderr, "faultmatrix:", err)
		os.Exit(2)
	}
}

type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("faultmatrix", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		report, table, bin, corpusDir, only string
		deadline                            time.Duration
		parallel, concurrent                int
		sweeps                              bool
	)
	fs.StringVar(&report, "report", "reports/faults.md", "Markdown report to write (relative to the module root); empty: none")
	fs.StringVar(&table, "table", faults.TableFile, "table of catching cases to write (relative to the module root); empty: none")
	fs.StringVar(&bin, "refproxy", "", "refproxy built with -tags "+faults.BuildTag+" (default: built now)")
	fs.StringVar(&corpusDir, "corpus", "corpus", "corpus directory (relative to the module root)")
	fs.StringVar(&only, "fault", "", "run only these faults (comma-separated); the report and table are then not written")
	fs.DurationVar(&deadline, "deadline", faults.DefaultReadDeadline, "read deadline per case")
	fs.IntVar(&parallel, "parallel", faults.DefaultParallel, "cases at once per run")
	fs.IntVar(&concurrent, "concurrent", faults.DefaultConcurrent, "runs (proxies) at once")
	fs.BoolVar(&sweeps, "sweeps", false, "include the instances of parametric sweeps (thousands of cases: several times slower)")
	if err := fs.Parse(args); err != nil {
		return exitError{2, err}
	}
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	root, err := faults.ModuleRoot(wd)
	if err != nil {
		return err
	}
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(root, p)
	}
	start := time.Now()
	if bin == "" {
		dir, err := os.MkdirTemp("", "proxyspec-faults-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if bin, err = faults.BuildRefproxy(ctx, root, dir); err != nil {
			return err
		}
	}
	catalogue, err := faults.Catalogue(ctx, bin)
	if err != nil {
		return err
	}
	if only != "" {
		report, table = "", ""
		want := map[string]bool{}
		for _, n := range strings.Split(only, ",") {
			want[strings.TrimSpace(n)] = true
		}
		var sel []faults.Fault
		for _, f := range catalogue {
			if want[f.Name] {
				sel = append(sel, f)
				delete(want, f.Name)
			}
		}
		if len(want) > 0 {
			return exitError{2, fmt.Errorf("-fault: unknown faults %v", keys(want))}
		}
		catalogue = sel
	}
	cases, err := corpus.LoadDir(abs(corpusDir))
	if err != nil {
		return err
	}
	origin, err := wire.NewOrigin("127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("start harness origin: %w", err)
	}
	defer origin.Close()

	fmt.Fprintf(stdout, "%d faults × %d cases, read deadline %s, %d cases and %d runs at once\n",
		len(catalogue), len(cases), deadline, parallel, concurrent)
	m, err := faults.Run(ctx, faults.Config{
		Refproxy: bin, Origin: origin, Cases: cases, Faults: catalogue,
		ReadDeadline: deadline, Parallel: parallel, Concurrent: concurrent, Sweeps: sweeps, Confirm: 8,
		Progress: func(fault string, phase faults.Phase, run *reports.Run, err error) {
			name := fault
			switch {
			case name == "":
				name = "(no fault)"
			case phase == faults.Confirming:
				name += " (alone)"
			case phase == faults.Isolated:
				name += " (isolated)"
			}
			line := fmt.Sprintf("%-36s", name)
			if run != nil {
				s := run.Summary
				line += fmt.Sprintf(" %3d fail %3d warn %3d error  %5.1fs", s.Fail, s.Warn, s.Error, run.Duration/1000)
			}
			if err != nil {
				line += "  error: " + strings.ReplaceAll(err.Error(), "\n", " ")
			}
			fmt.Fprintln(stdout, line)
		},
	})
	if err != nil {
		return err
	}

	if report != "" {
		var b bytes.Buffer
		if err := faults.WriteMarkdown(&b, m); err != nil {
			return err
		}
		if err := os.WriteFile(abs(report), b.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	}
	if table != "" {
		if err := faults.NewTable(m, faults.CasesPerFault).Save(abs(table)); err != nil {
			return err
		}
	}

	uncaught, unconfirmed, uncatching, probs := m.Uncaught(), m.Unconfirmed(), m.Uncatching(), m.CleanProblems()
	fmt.Fprintf(stdout, "\n%d/%d faults caught (%d only through other cases); %d MUST/SHOULD cases catch no fault; run without faults: %d problems; %s\n",
		len(m.Faults)-len(uncaught), len(m.Faults), len(unconfirmed), len(uncatching), len(probs), time.Since(start).Round(100*time.Millisecond))
	if report != "" {
		fmt.Fprintln(stdout, "wrote", report)
	}
	var problems []string
	if len(probs) > 0 {
		problems = append(problems, fmt.Sprintf("the run without faults is not clean (%d cases)", len(probs)))
	}
	if len(uncaught) > 0 {
		problems = append(problems, "faults caught by no MUST/SHOULD case: "+strings.Join(uncaught, ", "))
	}
	if len(unconfirmed) > 0 {
		problems = append(problems, "faults no case catches alone (go test cannot guard them): "+strings.Join(unconfirmed, ", "))
	}
	if len(problems) > 0 {
		return exitError{1, errors.New(strings.Join(problems, "; "))}
	}
	return nil
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
