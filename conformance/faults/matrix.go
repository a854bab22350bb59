package faults

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/proxyspec/proxyspec/conformance/suite"
	"github.com/proxyspec/proxyspec/conformance/targets"
	"github.com/proxyspec/proxyspec/conformance/wire"
	"github.com/proxyspec/proxyspec/corpus"
	"github.com/proxyspec/proxyspec/reports"
)

// Config is one matrix run.
type Config struct {
	Refproxy string       // refproxy built with fault injection (BuildRefproxy)
	Origin   *wire.Origin // the recording origin every launched refproxy forwards to
	Cases    []*corpus.Case
	Faults   []Fault
	// Only, if not nil, restricts the run of each fault to the listed case ids (the fast subset);
	// the clean run then covers the union of those cases. Unknown ids are ignored.
	Only map[string][]string
	// Sweeps includes the instances of parametric sweeps (thousands of generated cases).
	Sweeps bool
	// Confirm, if positive, replays for each fault up to this many of its catching cases one at a
	// time on a fresh proxy (Matrix.Confirmed): in the parallel run, a fault that poisons the
	// shared upstream pool can fail an innocent case. A fault with no confirmed catch then gets
	// every hand-written case replayed one at a time (Matrix.Isolated).
	Confirm int
	// ReadDeadline is how long the harness waits before concluding "no answer". Short, so that a
	// fault that makes the proxy hang costs little.
	ReadDeadline  time.Duration
	Parallel      int // cases at once within one run
	FaultParallel int // cases at once within a fault's run; 0: Parallel
	Concurrent    int // runs (proxies) at once
	// Progress, if set, is called after each run (the clean run has fault ""), from one goroutine
	// at a time.
	Progress func(fault string, phase Phase, run *reports.Run, err error)
}

// Defaults for a matrix run.
const (
	DefaultReadDeadline = 300 * time.Millisecond
	DefaultParallel     = 48
	DefaultConcurrent   = 12
)

// Matrix is the outcome of running the corpus once without faults and once per fault.
type Matrix struct {
	Faults    []Fault
	Clean     *reports.Run
	Runs      map[string]*reports.Run // by fault name; nil when the run could not be made
	Errors    map[string]error        // by fault name ("" for the clean run): launch or target errors
	Confirmed map[string]*reports.Run // by fault name: the replay one case at a time (Config.Confirm)
	Isolated  map[string]bool         // faults whose confirmation replayed every hand-written case
	Duration  time.Duration
	Deadline  time.Duration
	Parallel  int
	Sweeps    bool // the instances of parametric sweeps were run
}

// Run runs the matrix. A fault whose proxy cannot be launched or tested is recorded in
// Matrix.Errors; Run itself fails only when the clean run cannot be made or ctx ends.
func Run(ctx context.Context, cfg Config) (*Matrix, error) {
	if cfg.ReadDeadline <= 0 {
		cfg.ReadDeadline = DefaultReadDeadline
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = DefaultParallel
	}
	if cfg.FaultParallel <= 0 {
		cfg.FaultParallel = cfg.Parallel
	}
	if cfg.Concurrent <= 0 {
		cfg.Concurrent = DefaultConcurrent
	}
	start := time.Now()
	m := &Matrix{Faults: cfg.Faults, Runs: map[string]*reports.Run{}, Errors: map[string]error{},
		Confirmed: map[string]*reports.Run{}, Isolated: map[string]bool{}, Deadline: cfg.ReadDeadline, Parallel: cfg.Parallel,
		Sweeps: cfg.Sweeps}

	byID := map[string]*corpus.Case{}
	var all, handWritten []*corpus.Case
	for _, c := range cfg.Cases {
		byID[c.ID] = c
		if c.Sweep == "" {
			handWritten = append(handWritten, c)
		}
		if c.Sweep == "" || cfg.Sweeps {
			all = append(all, c)
		}
	}
	casesFor := func(fault string) []*corpus.Case {
		if cfg.Only == nil {
			return all
		}
		var ids []string
		if fault == "" {
			for _, l := range cfg.Only {
				ids = append(ids, l...)
			}
		} else {
			ids = cfg.Only[fault]
		}
		var out []*corpus.Case
		for _, id := range ids {
			if c := byID[id]; c != nil && !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
		slices.SortFunc(out, func(a, b *corpus.Case) int { return cmp.Compare(a.ID, b.ID) })
		return out
	}

	var mu sync.Mutex
	record := func(fault string, phase Phase, run *reports.Run, err error) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case fault == "":
			m.Clean = run
		case phase == Parallel:
			m.Runs[fault] = run
		default:
			m.Confirmed[fault] = run
			m.Isolated[fault] = phase == Isolated
		}
		if err != nil {
			m.Errors[fault] = errors.Join(m.Errors[fault], err)
		}
		if cfg.Progress != nil {
			cfg.Progress(fault, phase, run, err)
		}
	}

	// The clean run goes first: if the unmodified proxy fails, no catch would mean anything.
	run, err := runOne(ctx, cfg, "", casesFor(""), cfg.Parallel)
	record("", Parallel, run, err)
	if err != nil {
		return m, fmt.Errorf("run without faults: %w", err)
	}

	names := make([]string, len(cfg.Faults))
	for i, f := range cfg.Faults {
		names[i] = f.Name
	}
	parallelRuns(cfg.Concurrent, names, func(name string) {
		run, err := runOne(ctx, cfg, name, casesFor(name), cfg.FaultParallel)
		record(name, Parallel, run, err)
	})

	if cfg.Confirm > 0 && ctx.Err() == nil {
		parallelRuns(cfg.Concurrent, names, func(name string) {
			mu.Lock()
			var cands []*corpus.Case
			for _, c := range m.candidates(name, cfg.Confirm) {
				cands = append(cands, byID[c])
			}
			mu.Unlock()
			if len(cands) > 0 {
				run, err := runOne(ctx, cfg, name, cands, 1)
				record(name, Confirming, run, err)
			}
			mu.Lock()
			confirmed := len(m.ConfirmedCatches(name)) > 0
			mu.Unlock()
			if !confirmed && ctx.Err() == nil {
				run, err := runOne(ctx, cfg, name, handWritten, 1)
				record(name, Isolated, run, err)
			}
		})
	}
	m.Duration = time.Since(start)
	return m, ctx.Err()
}

// Phase says which run of a fault Config.Progress reports.
type Phase int

const (
	Parallel   Phase = iota // the corpus, many cases at once
	Confirming              // the fault's best catching cases, one at a time
	Isolated                // every hand-written case, one at a time (nothing confirmed)
)

// parallelRuns calls run for each name, at most n at once.
func parallelRuns(n int, names []string, run func(name string)) {
	jobs := make(chan string)
	var wg sync.WaitGroup
	for range min(n, len(names)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range jobs {
				run(name)
			}
		}()
	}
	for _, name := range names {
		jobs <- name
	}
	close(jobs)
	wg.Wait()
}

// runOne launches refproxy with fault (none if "") and runs cases against it, parallel at once.
func runOne(ctx context.Context, cfg Config, fault string, cases []*corpus.Case, parallel int) (*reports.Run, error) {
	o := targets.Options{RefproxyBin: cfg.Refproxy}
	if fault != "" {
		o.Faults = []string{fault}
	}
	l, err := targets.Launch(ctx, "refproxy", cfg.Origin.Addr(), o)
	if err != nil {
		return nil, fmt.Errorf("launch refproxy -fault %q: %w", fault, err)
	}
	run, err := suite.Run(ctx, suite.Config{Cases: cases, Filter: suite.Filter{Sweeps: true}, Target: l.Target,
		Info: l.Info, Origin: cfg.Origin, ReadDeadline: cfg.ReadDeadline, Parallel: parallel})
	if aerr := l.Alive(); aerr != nil {
		err = errors.Join(err, aerr)
	}
	if serr := l.Stop(); serr != nil {
		err = errors.Join(err, serr)
	}
	return run, err
}
