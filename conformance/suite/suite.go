package suite

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/proxyspec/proxyspec/conformance/judge"
	"github.com/proxyspec/proxyspec/conformance/runner"
	"github.com/proxyspec/proxyspec/conformance/wire"
	"github.com/proxyspec/proxyspec/corpus"
	"github.com/proxyspec/proxyspec/reports"
)

// Version is the harness version recorded in results.
var Version = "0.1.0"

// Config is one run.
type Config struct {
	Cases        []*corpus.Case
	Filter       Filter
	Target       runner.Target  // where the proxy listens; Caps lists what it can do
	Info         reports.Target // name/version for the report; Address and Origin are filled in
	Origin       *wire.Origin   // the recording origin the target forwards to
	ReadDeadline time.Duration
	Parallel     int
	Baseline     *Baseline
	Strict       bool // WARN counts as a finding
	// Progress, if set, is called after each case (from one goroutine at a time).
	Progress func(done, total int, r *reports.CaseResult)
}

// ErrTarget reports that the target cannot be tested at all: not listening, or not forwarding to
// the harness origin. The CLI exits 2 on it.
var ErrTarget = errors.New("target error")

// Select returns the cases the filter selects, in id order.
func Select(cases []*corpus.Case, f Filter) []*corpus.Case {
	var out []*corpus.Case
	for _, c := range cases {
		if f.Match(c) {
			out = append(out, c)
		}
	}
	return out
}

// Run runs the selected cases and returns the judged run. Cases needing a capability the target
// lacks are SKIP without being sent. Before and after the cases it checks that a plain GET makes
// the round trip through the target; a failure there is ErrTarget, with the partial run.
func Run(ctx context.Context, cfg Config) (*reports.Run, error) {
	if cfg.ReadDeadline <= 0 {
		cfg.ReadDeadline = 2 * time.Second
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 16
	}
	start := time.Now()
	info := cfg.Info
	info.Address = cfg.Target.Addr
	info.Origin = cfg.Origin.Addr()
	info.Capabilities = nil
	for c := range cfg.Target.Caps {
		info.Capabilities = append(info.Capabilities, c)
	}
	sort.Strings(info.Capabilities)
	run := &reports.Run{
		Schema:  reports.Schema,
		Tool:    reports.Tool{Name: "proxyspec", Version: Version},
		Target:  info,
		Started: start.UTC(),
		Options: reports.Options{
			ReadDeadlineMS: float64(cfg.ReadDeadline.Milliseconds()),
			Parallel:       cfg.Parallel,
			Filters:        cfg.Filter.Strings(),
			Strict:         cfg.Strict,
		},
	}
	if cfg.Baseline != nil {
		run.Options.Baseline = cfg.Baseline.File
	}
	rcfg := runner.Config{ReadDeadline: cfg.ReadDeadline, Parallel: cfg.Parallel, Origin: cfg.Origin}

	if err := Preflight(ctx, rcfg, cfg.Target); err != nil {
		return run, err
	}

	selected := Select(cfg.Cases, cfg.Filter)
	results := make([]reports.CaseResult, len(selected))
	var torun []*corpus.Case
	var index []int
	for i, c := range selected {
		if why := unmet(c, cfg.Target.Caps); len(why) > 0 {
			results[i] = skipped(c, strings.Join(why, "; "))
			continue
		}
		torun = append(torun, c)
		index = append(index, i)
	}
	var mu sync.Mutex
	done := len(selected) - len(torun)
	runner.RunAll(ctx, rcfg, cfg.Target, torun, func(i int, t *wire.Transcript) {
		r := judge.Judge(torun[i], t)
		cfg.Baseline.Apply(&r)
		mu.Lock()
		defer mu.Unlock()
		results[index[i]] = r
		done++
		if cfg.Progress != nil {
			cfg.Progress(done, len(selected), &results[index[i]])
		}
	})
	run.Cases = results
	run.Duration = float64(time.Since(start).Microseconds()) / 1000
	run.Count()
	if ctx.Err() != nil {
		return run, fmt.Errorf("run interrupted: %w", ctx.Err())
	}
	if err := stillAnswers(ctx, rcfg, cfg.Target); err != nil {
		return run, fmt.Errorf("after the run: %w (results of the last cases may be unreliable)", err)
	}
	return run, nil
}

// stillAnswers checks, after a run, that the target still accepts connections and answers a plain
// GET. Unlike Preflight it does not ask for the right answer: a proxy whose upstream pool a case
// poisoned may hand the GET another request's response, which is a finding of that case, not a
// target that stopped working.
func stillAnswers(ctx context.Context, cfg runner.Config, target runner.Target) error {
	t := runner.RunCase(ctx, cfg, target, preflightCase)
	if len(t.Errors) > 0 {
		return fmt.Errorf("%w: %s", ErrTarget, t.Errors[0])
	}
	for _, cc := range t.Client {
		if len(cc.Final) > 0 {
			return nil
		}
	}
	return fmt.Errorf("%w: target %s no longer answers a plain GET within %s", ErrTarget, target.Addr, cfg.ReadDeadline)
}

// unmet lists the case's needs the target does not meet, as reasons.
func unmet(c *corpus.Case, caps map[string]string) []string {
	var out []string
	for _, n := range c.Needs {
		if name, negated := strings.CutPrefix(n, "!"); negated {
			if _, ok := caps[name]; ok {
				out = append(out, "target has capability "+name+" (the case is for targets without it)")
			}
			continue
		}
		if _, ok := caps[n]; !ok {
			out = append(out, "target lacks capability "+n)
		}
	}
	return out
}

func skipped(c *corpus.Case, reason string) reports.CaseResult {
	r := reports.CaseResult{ID: c.ID, Title: c.Title, Level: string(c.Level), Tags: c.Tags, Vectors: c.Vectors,
		Verdict: reports.Skip, Reason: reason}
	for _, ref := range c.RFC {
		r.RFC = append(r.RFC, reports.Ref{Doc: ref.Doc, Section: ref.Section, Quote: ref.Quote})
	}
	return r
}

// preflightCase is a plain GET that any proxy pointed at the harness origin forwards.
var preflightCase = func() *corpus.Case {
	c, err := corpus.Parse("cases/harness/preflight.case", []byte(`id: harness/preflight
title: a plain GET makes the round trip through the target to the harness origin
rfc: RFC9112 3 "A request-line begins with a method token"
level: MUST
probe: off
expect: a=2xx origin=a
-- client send --
GET /{nonce}/a HTTP/1.1
Host: {host}

-- origin echo --
`))
	if err != nil {
		panic("preflight case: " + err.Error()) // a constant; covered by tests
	}
	return c
}()

// Preflight checks that the target accepts connections and forwards a plain GET to the origin.
func Preflight(ctx context.Context, cfg runner.Config, target runner.Target) error {
	d := net.Dialer{Timeout: cfg.ReadDeadline}
	conn, err := d.DialContext(ctx, "tcp", target.Addr)
	if err != nil {
		return fmt.Errorf("%w: target %s is not accepting connections: %v", ErrTarget, target.Addr, err)
	}
	conn.Close()
	t := runner.RunCase(ctx, cfg, target, preflightCase)
	r := judge.Judge(preflightCase, t)
	if r.Verdict != reports.Pass {
		return fmt.Errorf("%w: a plain GET through %s did not reach the harness origin %s and come back (%s); is the proxy forwarding to the origin?",
			ErrTarget, target.Addr, cfg.Origin.Addr(), r.Reason)
	}
	return nil
}
