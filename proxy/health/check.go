// Package health runs active HTTP health checks on the backends of
// upstream groups, and decides when the proxy is ready for traffic.
//
// A [Checker] probes every backend of one balancer each interval with GET
// path; a 2xx answer within the timeout is a success. A backend starts
// unhealthy (the balancer is built with StartDown) and enters rotation
// after its first success; then it leaves after UnhealthyThreshold
// consecutive failures and comes back after HealthyThreshold consecutive
// successes.
//
// [Readiness] is the service dependency of the traffic listeners: ready
// once every group has a healthy backend, or once the grace period passed.
package health

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/proxyspec/proxyspec/proxy/balance"
)

// Check configures the health check of a group.
type Check struct {
	Path               string        // GET target; default "/"
	Interval           time.Duration // between rounds; must be > 0
	Timeout            time.Duration // per probe; must be > 0 and at most Interval
	HealthyThreshold   int           // consecutive successes to come back; >= 1
	UnhealthyThreshold int           // consecutive failures to leave; >= 1
}

// Validate reports a check that cannot run.
func (c Check) Validate() error {
	switch {
	case c.Interval <= 0:
		return fmt.Errorf("health: interval must be > 0")
	case c.Timeout <= 0 || c.Timeout > c.Interval:
		return fmt.Errorf("health: timeout must be > 0 and at most the interval")
	case c.HealthyThreshold < 1 || c.UnhealthyThreshold < 1:
		return fmt.Errorf("health: thresholds must be >= 1")
	}
	return nil
}

// Transition is a backend entering or leaving rotation.
type Transition struct {
	Group, Addr string
	Healthy     bool
}

// Checker checks the backends of one group.
type Checker struct {
	group    string
	bal      *balance.Balancer
	check    Check
	client   *http.Client
	log      *slog.Logger
	onChange func(Transition)

	mu     sync.Mutex
	counts map[string]*streak
}

// streak counts consecutive results of one backend.
type streak struct {
	ok, fail int
	everUp   bool
}

// NewChecker returns a checker for the backends of bal. onChange, if not
// nil, is called after every transition. log may be nil.
func NewChecker(group string, bal *balance.Balancer, c Check, log *slog.Logger, onChange func(Transition)) (*Checker, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("group %s: %w", group, err)
	}
	if c.Path == "" {
		c.Path = "/"
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tr := &http.Transport{
		Proxy:                  nil, // never through an environment proxy
		DialContext:            (&net.Dialer{Timeout: c.Timeout}).DialContext,
		DisableKeepAlives:      true,
		ResponseHeaderTimeout:  c.Timeout,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &Checker{
		group: group, bal: bal, check: c, log: log, onChange: onChange,
		client: &http.Client{
			Transport: tr,
			Timeout:   c.Timeout,
			// A redirect is not a 2xx: report it, do not follow it.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		counts: map[string]*streak{},
	}, nil
}

// Run checks every backend at once, then again each interval, until ctx
// is done.
func (c *Checker) Run(ctx context.Context) {
	t := time.NewTicker(c.check.Interval)
	defer t.Stop()
	defer c.client.CloseIdleConnections()
	for {
		c.Round(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Round probes every current backend concurrently and applies the results.
func (c *Checker) Round(ctx context.Context) {
	bs := c.bal.Backends()
	results := make([]error, len(bs))
	var wg sync.WaitGroup
	for i, b := range bs {
		wg.Go(func() { results[i] = c.probe(ctx, b.Addr()) })
	}
	wg.Wait()
	if ctx.Err() != nil {
		return // cancelled probes say nothing about the backends
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := make(map[string]bool, len(bs))
	for i, b := range bs {
		seen[b.Addr()] = true
		c.apply(b, results[i])
	}
	for addr := range c.counts {
		if !seen[addr] {
			delete(c.counts, addr) // removed from the group
		}
	}
}

// apply records one result and moves the backend in or out of rotation.
func (c *Checker) apply(b *balance.Backend, err error) {
	addr := b.Addr()
	s := c.counts[addr]
	if s == nil {
		s = &streak{}
		c.counts[addr] = s
	}
	if err == nil {
		s.ok, s.fail = s.ok+1, 0
	} else {
		s.ok, s.fail = 0, s.fail+1
	}
	healthy := b.Healthy()
	switch {
	case !healthy && err == nil && (!s.everUp || s.ok >= c.check.HealthyThreshold):
		healthy = true
		s.everUp = true
	case healthy && err != nil && s.fail >= c.check.UnhealthyThreshold:
		healthy = false
	default:
		if healthy {
			s.everUp = true
		}
		return
	}
	if !c.bal.SetHealthy(addr, healthy) {
		return
	}
	if healthy {
		c.log.Info("backend healthy", "group", c.group, "backend", addr)
	} else {
		c.log.Warn("backend unhealthy", "group", c.group, "backend", addr, "err", err)
	}
	if c.onChange != nil {
		c.onChange(Transition{Group: c.group, Addr: addr, Healthy: healthy})
	}
}

// probe sends one check; nil means a 2xx answer in time.
func (c *Checker) probe(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, c.check.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+c.check.Path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "refproxy-health-check")
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}
