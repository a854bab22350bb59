// Package service runs the reference proxy from a configuration file: it
// builds the upstream groups (balancers), the health checkers, the TLS
// configurations and the metrics, serves the admin endpoints, opens the
// traffic listeners once the proxy is ready, reloads certificates, and
// shuts everything down gracefully.
//
// Order of a run (the traffic listeners depend on the health checks, as
// Pingora 0.8's service dependencies express):
//
//	New       validate what the file alone cannot (TLS files), build everything, bind nothing
//	Start     bind the admin listener, start health checks
//	Serve     wait for readiness (a healthy backend per group, or the grace
//	          period), then bind the traffic listeners
//	Reload    reload TLS certificates (SIGHUP)
//	ReloadBackends  apply a new file's backend sets (SIGHUP)
//	Shutdown  /readyz turns 503, stop accepting, let in-flight requests
//	          finish until the deadline, close idle connections, stop checks
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/proxyspec/proxyspec/proxy"
	"github.com/proxyspec/proxyspec/proxy/admin"
	"github.com/proxyspec/proxyspec/proxy/balance"
	"github.com/proxyspec/proxyspec/proxy/config"
	"github.com/proxyspec/proxyspec/proxy/health"
	"github.com/proxyspec/proxyspec/proxy/metrics"
	"github.com/proxyspec/proxyspec/proxy/tlsconf"
)

// adminShutdown bounds the admin server's own shutdown, after the proxy's.
const adminShutdown = 2 * time.Second

// Options are the run-time settings not in the file.
type Options struct {
	Logger *slog.Logger // nil discards
	// Faults are passed to proxy.Options.Faults (fault-injection builds).
	Faults []string
	// OnRequestDone, if set, is called after the metrics are updated.
	OnRequestDone func(proxy.RequestInfo)
}

// Service is a proxy built from a configuration.
type Service struct {
	cfg     *config.Config
	log     *slog.Logger
	opts    proxy.Options
	metrics *metrics.Metrics
	ready   *health.Readiness
	groups  map[string]*balance.Balancer
	checks  []*health.Checker
	tls     []*tlsconf.Server // per listener; nil for http

	mu       sync.Mutex
	admin    *admin.Server
	proxy    *proxy.Proxy
	stop     context.CancelFunc // stops the health checks
	checksWG sync.WaitGroup
	shutdown bool
}

// New builds a service from a validated configuration. It loads the TLS
// files; errors name the field they come from.
func New(cfg *config.Config, o Options) (*Service, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{
		cfg: cfg, log: log, metrics: metrics.New(),
		ready:  health.NewReadiness(cfg.Readiness.GracePeriod.D()),
		groups: map[string]*balance.Balancer{},
	}
	var errs config.Errors
	upstreams := map[string]proxy.UpstreamOptions{}
	for i, u := range cfg.Upstreams {
		p := "upstreams[" + strconv.Itoa(i) + "]"
		uo, err := s.group(u)
		if err != nil {
			errs = append(errs, cfg.Errorf(p, "%v", err))
			continue
		}
		upstreams[u.Name] = uo
		if u.HealthCheck != nil {
			hc := u.HealthCheck
			c, err := health.NewChecker(u.Name, uo.Balancer, health.Check{
				Path: hc.Path, Interval: hc.Interval.D(), Timeout: hc.Timeout.D(),
				HealthyThreshold: hc.HealthyThreshold, UnhealthyThreshold: hc.UnhealthyThreshold,
			}, log, func(health.Transition) { s.ready.Notify() })
			if err != nil {
				errs = append(errs, cfg.Errorf(p+".health-check", "%v", err))
				continue
			}
			s.checks = append(s.checks, c)
		}
	}
	for i, l := range cfg.Listeners {
		lo, ts, err := listener(l)
		if err != nil {
			errs = append(errs, cfg.Errorf("listeners["+strconv.Itoa(i)+"].tls", "%v", err))
			continue
		}
		s.opts.Listeners = append(s.opts.Listeners, lo)
		s.tls = append(s.tls, ts)
	}
	for _, r := range cfg.Routes {
		s.opts.Routes = append(s.opts.Routes, proxy.Route{
			Name: r.Name, Host: r.Host, PathPrefix: r.PathPrefix,
			Upstream: upstreams[r.Upstream], RangeFilter: r.RangeFilter,
		})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	s.opts.Logger = log
	s.opts.Observer = s.metrics
	s.opts.Faults = o.Faults
	s.opts.OnRequestDone = s.metrics.RequestDone
	if o.OnRequestDone != nil {
		s.opts.OnRequestDone = func(i proxy.RequestInfo) {
			s.metrics.RequestDone(i)
			o.OnRequestDone(i)
		}
	}
	s.metrics.AddReady(s.ready.Ready)
	return s, nil
}

// targets returns a group's backends as balancer targets.
func targets(u config.Upstream) []balance.Target {
	ts := make([]balance.Target, len(u.Backends))
	for i, b := range u.Backends {
		ts[i] = balance.Target{Addr: b.Address, Weight: *b.Weight}
	}
	return ts
}

// group builds the balancer and upstream options of a group.
func (s *Service) group(u config.Upstream) (proxy.UpstreamOptions, error) {
	bal, err := balance.New(balance.Config{Policy: balance.Policy(u.Policy), StartDown: u.HealthCheck != nil}, targets(u))
	if err != nil {
		return proxy.UpstreamOptions{}, err
	}
	s.groups[u.Name] = bal
	s.ready.Add(u.Name, bal)
	s.metrics.AddGroup(u.Name, bal)
	maxIdle := *u.Pool.MaxIdle
	if maxIdle == 0 {
		maxIdle = -1 // proxy: <0 disables pooling
	}
	return proxy.UpstreamOptions{
		Name: u.Name, Balancer: bal, HashKey: hashKey(u.HashKey),
		ConnectTimeout: u.Timeouts.Connect.D(), ReadTimeout: u.Timeouts.Read.D(), WriteTimeout: u.Timeouts.Write.D(),
		MaxIdle: maxIdle, IdleTimeout: u.Pool.IdleTimeout.D(),
	}, nil
}

func hashKey(k config.HashKey) proxy.HashKey {
	switch k.Kind {
	case config.HashHeader:
		return proxy.HashKey{Kind: proxy.HashHeader, Name: k.Name}
	case config.HashCookie:
		return proxy.HashKey{Kind: proxy.HashCookie, Name: k.Name}
	case config.HashClientAddress:
		return proxy.HashKey{Kind: proxy.HashClientAddr}
	case config.HashPath:
		return proxy.HashKey{Kind: proxy.HashPath}
	}
	return proxy.HashKey{}
}

// listener builds a listener's options, loading its TLS files.
func listener(l config.Listener) (proxy.ListenerOptions, *tlsconf.Server, error) {
	lo := proxy.ListenerOptions{
		Name: l.Name, Addr: l.Address,
		KeepAliveMaxRequests: l.KeepAliveMaxRequests, AllowConnect: l.AllowConnect,
		MaxHeadBytes: l.Limits.MaxHeadBytes, MaxFields: l.Limits.MaxFields,
		MaxTargetBytes: l.Limits.MaxTargetBytes, MaxBodyBytes: l.Limits.MaxBodyBytes,
		HeaderReadTimeout: l.Timeouts.HeaderRead.D(), IdleTimeout: l.Timeouts.Idle.D(), WriteTimeout: l.Timeouts.Write.D(),
	}
	if l.Protocol != "https" {
		return lo, nil, nil
	}
	ts, err := tlsconf.Load(tlsconf.Files{
		Cert: l.TLS.Cert, Key: l.TLS.Key, ClientCA: l.TLS.ClientCA, ClientAuth: tlsconf.ClientAuth(l.TLS.ClientAuth),
	})
	if err != nil {
		return lo, nil, err
	}
	lo.TLS = ts.Config()
	return lo, ts, nil
}

// Config returns the configuration.
func (s *Service) Config() *config.Config { return s.cfg }

// Metrics returns the metrics.
func (s *Service) Metrics() *metrics.Metrics { return s.metrics }

// Balancer returns an upstream group's balancer (nil if none), e.g. to
// change its backends at runtime.
func (s *Service) Balancer(group string) *balance.Balancer { return s.groups[group] }

// Readiness returns the readiness gate.
func (s *Service) Readiness() *health.Readiness { return s.ready }

// Start binds the admin listener (if configured) and starts the health
// checks. ctx bounds the binding only.
func (s *Service) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stop != nil {
		return errors.New("service: already started")
	}
	if a := s.cfg.Admin; a != nil {
		srv, err := admin.Start(ctx, a.Address, admin.Handler(s.ready.Status, s.metrics.Handler()), s.log)
		if err != nil {
			return fmt.Errorf("%w", s.cfg.Errorf("admin.address", "%v", err))
		}
		s.admin = srv
		s.log.Info("admin listening", "addr", srv.Addr())
	}
	cctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	for _, c := range s.checks {
		s.checksWG.Go(func() { c.Run(cctx) })
	}
	return nil
}

// AdminAddr returns the admin listener's address ("" if none).
func (s *Service) AdminAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.admin == nil {
		return ""
	}
	return s.admin.Addr()
}

// Serve waits until the proxy is ready (or ctx is done), then binds the
// traffic listeners and serves in the background.
func (s *Service) Serve(ctx context.Context) error {
	if err := s.ready.Wait(ctx); err != nil {
		return fmt.Errorf("service: waiting for readiness: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutdown {
		return errors.New("service: shut down")
	}
	if s.proxy != nil {
		return errors.New("service: already serving")
	}
	p, err := proxy.Start(ctx, s.opts)
	if err != nil {
		return err
	}
	s.proxy = p
	for i, l := range s.opts.Listeners {
		s.log.Info("listening", "listener", l.Name, "addr", p.Addr(i), "tls", l.TLS != nil)
	}
	return nil
}

// Addrs returns the bound traffic addresses, in configuration order (none
// before Serve).
func (s *Service) Addrs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proxy == nil {
		return nil
	}
	out := make([]string, len(s.opts.Listeners))
	for i := range out {
		out[i] = s.proxy.Addr(i)
	}
	return out
}

// Reload reloads the TLS certificates and CA bundles of https listeners:
// new handshakes use them. A listener whose files fail to load keeps its
// previous ones; the errors are returned.
func (s *Service) Reload() error {
	var errs config.Errors
	for i, ts := range s.tls {
		if ts == nil {
			continue
		}
		if err := ts.Reload(); err != nil {
			errs = append(errs, s.cfg.Errorf("listeners["+strconv.Itoa(i)+"].tls", "%v", err))
			continue
		}
		s.log.Info("tls reloaded", "listener", s.cfg.Listeners[i].Name, "subject", ts.Leaf().Subject.String())
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// ReloadBackends applies the backend sets (addresses and weights) of cfg's
// upstream groups to the running groups of the same names, at once:
// backends that stay keep their health and pooled connections, new ones
// in a health-checked group enter rotation after their first successful
// check, removed ones get no new requests and their idle connections are
// closed. Nothing else in cfg is applied (listeners, routes, policies and
// other settings need a restart); a group added, removed or changing
// policy is reported and left as it is.
func (s *Service) ReloadBackends(cfg *config.Config) error {
	var errs config.Errors
	seen := map[string]bool{}
	for i, u := range cfg.Upstreams {
		p := "upstreams[" + strconv.Itoa(i) + "]"
		bal := s.groups[u.Name]
		switch {
		case bal == nil:
			errs = append(errs, cfg.Errorf(p+".name", "new upstream group %q: adding a group needs a restart", u.Name))
			continue
		case string(bal.Policy()) != u.Policy:
			errs = append(errs, cfg.Errorf(p+".policy", "changing the policy of %q needs a restart", u.Name))
			seen[u.Name] = true
			continue
		}
		seen[u.Name] = true
		if err := bal.Update(targets(u)); err != nil {
			errs = append(errs, cfg.Errorf(p+".backends", "%v", err))
			continue
		}
		s.log.Info("backends updated", "upstream", u.Name, "backends", len(u.Backends))
	}
	for name := range s.groups {
		if !seen[name] {
			errs = append(errs, cfg.Errorf("upstreams", "upstream group %q is gone from the file: removing a group needs a restart", name))
		}
	}
	s.ready.Notify()
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// Shutdown drains: /readyz turns 503, the traffic listeners close,
// in-flight requests finish (their responses say Connection: close) until
// ctx is done, idle connections close; then health checks and the admin
// listener stop. It returns ctx's error if requests had to be cut.
func (s *Service) Shutdown(ctx context.Context) error {
	s.ready.Drain()
	s.mu.Lock()
	s.shutdown = true
	p, adm, stop := s.proxy, s.admin, s.stop
	s.mu.Unlock()
	var err error
	if p != nil {
		err = p.Shutdown(ctx)
	}
	if stop != nil {
		stop()
		s.checksWG.Wait()
	}
	if adm != nil {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), adminShutdown)
		defer cancel()
		adm.Shutdown(actx)
	}
	return err
}
