package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// Bounds checked by validation (the proxy enforces the same).
const (
	maxHeadBytes = 1 << 20
	maxWeight    = 1000
	maxBackends  = 1000
)

// validator collects every problem of a Config and fills in defaults.
type validator struct {
	c    *Config
	errs Errors
}

func (v *validator) errorf(path, format string, args ...any) {
	v.errs = append(v.errs, v.c.Errorf(path, format, args...))
}

func (v *validator) validate() {
	c := v.c
	v.listeners()
	groups := v.upstreams()
	v.routes(groups)
	if c.Admin != nil {
		v.address("admin.address", c.Admin.Address, true)
	}
	if c.Readiness.GracePeriod == nil {
		d := Duration(DefaultGracePeriod)
		c.Readiness.GracePeriod = &d
	}
	v.nonNegative("readiness.grace-period", *c.Readiness.GracePeriod)
	if c.ShutdownTimeout == nil {
		d := Duration(DefaultShutdownTimeout)
		c.ShutdownTimeout = &d
	}
	v.nonNegative("shutdown-timeout", *c.ShutdownTimeout)
	switch c.LogLevel {
	case "":
		c.LogLevel = DefaultLogLevel
	case "debug", "info", "warn", "error":
	default:
		v.errorf("log-level", "must be one of debug, info, warn, error; got %q", c.LogLevel)
	}
}

func (v *validator) listeners() {
	ls := v.c.Listeners
	if len(ls) == 0 {
		v.errorf("listeners", "at least one listener is required")
	}
	names := map[string]int{}
	addrs := map[string]int{}
	for i := range ls {
		l := &ls[i]
		p := "listeners[" + strconv.Itoa(i) + "]"
		if l.Name == "" {
			l.Name = "listener-" + strconv.Itoa(i)
		}
		if j, dup := names[l.Name]; dup {
			v.errorf(p+".name", "duplicate name %q (also listeners[%d])", l.Name, j)
		}
		names[l.Name] = i
		if v.address(p+".address", l.Address, true) {
			if _, port, _ := net.SplitHostPort(l.Address); port != "0" {
				if j, dup := addrs[l.Address]; dup {
					v.errorf(p+".address", "duplicate address %q (also listeners[%d])", l.Address, j)
				}
				addrs[l.Address] = i
			}
		}
		switch l.Protocol {
		case "":
			l.Protocol = DefaultProtocol
		case "http", "https":
		default:
			v.errorf(p+".protocol", "must be http or https; got %q", l.Protocol)
		}
		if l.KeepAliveMaxRequests < 0 {
			v.errorf(p+".keepalive-max-requests", "must be >= 0 (0: unlimited); got %d", l.KeepAliveMaxRequests)
		}
		v.limits(p+".limits", &l.Limits)
		v.nonNegative(p+".timeouts.header-read", l.Timeouts.HeaderRead)
		v.nonNegative(p+".timeouts.idle", l.Timeouts.Idle)
		v.nonNegative(p+".timeouts.write", l.Timeouts.Write)
		v.tls(p, l)
	}
}

func (v *validator) limits(p string, l *Limits) {
	for _, f := range []struct {
		name string
		val  int64
	}{
		{"max-head-bytes", int64(l.MaxHeadBytes)},
		{"max-fields", int64(l.MaxFields)},
		{"max-target-bytes", int64(l.MaxTargetBytes)},
		{"max-body-bytes", l.MaxBodyBytes},
	} {
		if f.val < 0 {
			v.errorf(p+"."+f.name, "must be >= 0 (0: default); got %d", f.val)
		}
	}
	if l.MaxHeadBytes > maxHeadBytes {
		v.errorf(p+".max-head-bytes", "must be at most %d; got %d", maxHeadBytes, l.MaxHeadBytes)
	}
	head, target := l.MaxHeadBytes, l.MaxTargetBytes
	if head == 0 {
		head = 64 << 10
	}
	if target == 0 {
		target = 8 << 10
	}
	if target >= head && l.MaxHeadBytes >= 0 && l.MaxTargetBytes >= 0 {
		v.errorf(p+".max-target-bytes", "must be below max-head-bytes (%d); got %d", head, target)
	}
}

func (v *validator) tls(p string, l *Listener) {
	t := l.TLS
	if l.Protocol != "https" {
		if t != nil {
			v.errorf(p+".tls", "only for protocol https")
		}
		return
	}
	if t == nil {
		v.errorf(p+".tls", "required for protocol https (cert and key)")
		return
	}
	p += ".tls"
	if t.Cert == "" {
		v.errorf(p+".cert", "required")
	}
	if t.Key == "" {
		v.errorf(p+".key", "required")
	}
	switch t.ClientAuth {
	case "":
		t.ClientAuth = ClientAuthNone
		if t.ClientCA != "" {
			t.ClientAuth = ClientAuthRequired
		}
	case ClientAuthNone:
		if t.ClientCA != "" {
			v.errorf(p+".client-ca", "set, but client-auth is none")
		}
	case ClientAuthOptional, ClientAuthRequired:
		if t.ClientCA == "" {
			v.errorf(p+".client-ca", "required with client-auth %s", t.ClientAuth)
		}
	default:
		v.errorf(p+".client-auth", "must be none, optional or required; got %q", t.ClientAuth)
	}
}

// upstreams validates the groups and returns their indexes by name.
func (v *validator) upstreams() map[string]int {
	us := v.c.Upstreams
	if len(us) == 0 {
		v.errorf("upstreams", "at least one upstream group is required")
	}
	names := map[string]int{}
	for i := range us {
		u := &us[i]
		p := "upstreams[" + strconv.Itoa(i) + "]"
		switch {
		case u.Name == "":
			v.errorf(p+".name", "required")
		case !isName(u.Name):
			v.errorf(p+".name", "%q: use letters, digits, '.', '_' and '-'", u.Name)
		default:
			if j, dup := names[u.Name]; dup {
				v.errorf(p+".name", "duplicate name %q (also upstreams[%d])", u.Name, j)
			}
			names[u.Name] = i
		}
		switch u.Policy {
		case "":
			u.Policy = DefaultPolicy
		case PolicyRoundRobin, PolicyLeastConnections, PolicyKetama:
		default:
			v.errorf(p+".policy", "must be %s, %s or %s; got %q", PolicyRoundRobin, PolicyLeastConnections, PolicyKetama, u.Policy)
		}
		switch {
		case u.Policy == PolicyKetama && u.HashKey.IsZero():
			v.errorf(p+".hash-key", "required with policy ketama (header:NAME, cookie:NAME, client-address or path)")
		case u.Policy != PolicyKetama && !u.HashKey.IsZero():
			v.errorf(p+".hash-key", "only used by policy ketama")
		}
		v.backends(p, u)
		v.healthCheck(p+".health-check", u.HealthCheck)
		if u.Pool.MaxIdle == nil {
			n := DefaultMaxIdle
			u.Pool.MaxIdle = &n
		} else if *u.Pool.MaxIdle < 0 {
			v.errorf(p+".pool.max-idle", "must be >= 0 (0: no pooling); got %d", *u.Pool.MaxIdle)
		}
		if u.Pool.IdleTimeout == 0 {
			u.Pool.IdleTimeout = Duration(DefaultPoolIdleTimeout)
		}
		v.nonNegative(p+".pool.idle-timeout", u.Pool.IdleTimeout)
		v.nonNegative(p+".timeouts.connect", u.Timeouts.Connect)
		v.nonNegative(p+".timeouts.read", u.Timeouts.Read)
		v.nonNegative(p+".timeouts.write", u.Timeouts.Write)
	}
	return names
}

func (v *validator) backends(p string, u *Upstream) {
	if len(u.Backends) == 0 {
		v.errorf(p+".backends", "at least one backend is required")
	}
	if len(u.Backends) > maxBackends {
		v.errorf(p+".backends", "at most %d backends; got %d", maxBackends, len(u.Backends))
	}
	seen := map[string]int{}
	for j := range u.Backends {
		b := &u.Backends[j]
		bp := p + ".backends[" + strconv.Itoa(j) + "]"
		if v.address(bp+".address", b.Address, false) {
			if k, dup := seen[b.Address]; dup {
				v.errorf(bp+".address", "duplicate backend %q (also backends[%d])", b.Address, k)
			}
			seen[b.Address] = j
		}
		if b.Weight == nil {
			w := DefaultWeight
			b.Weight = &w
		} else if *b.Weight < 1 || *b.Weight > maxWeight {
			v.errorf(bp+".weight", "must be 1 to %d; got %d", maxWeight, *b.Weight)
		}
	}
}

func (v *validator) healthCheck(p string, h *HealthCheck) {
	if h == nil {
		return
	}
	if h.Path == "" {
		h.Path = DefaultHealthPath
	} else if h.Path[0] != '/' || strings.ContainsAny(h.Path, " \t\r\n#") {
		v.errorf(p+".path", "must be an origin-form path starting with '/'; got %q", h.Path)
	}
	if h.Interval == 0 {
		h.Interval = Duration(DefaultHealthInterval)
	}
	if h.Timeout == 0 {
		h.Timeout = Duration(DefaultHealthTimeout)
	}
	if h.Interval < 0 {
		v.errorf(p+".interval", "must be > 0; got %s", h.Interval.D())
	}
	if h.Timeout < 0 {
		v.errorf(p+".timeout", "must be > 0; got %s", h.Timeout.D())
	} else if h.Timeout > h.Interval && h.Interval > 0 {
		v.errorf(p+".timeout", "must be at most the interval (%s); got %s", h.Interval.D(), h.Timeout.D())
	}
	if h.HealthyThreshold == 0 {
		h.HealthyThreshold = DefaultHealthyThreshold
	}
	if h.UnhealthyThreshold == 0 {
		h.UnhealthyThreshold = DefaultUnhealthyThreshold
	}
	if h.HealthyThreshold < 0 {
		v.errorf(p+".healthy-threshold", "must be >= 1; got %d", h.HealthyThreshold)
	}
	if h.UnhealthyThreshold < 0 {
		v.errorf(p+".unhealthy-threshold", "must be >= 1; got %d", h.UnhealthyThreshold)
	}
}

func (v *validator) routes(groups map[string]int) {
	rs := v.c.Routes
	if len(rs) == 0 {
		v.errorf("routes", "at least one route is required (a route without host and path-prefix matches everything)")
	}
	names := map[string]int{}
	for i := range rs {
		r := &rs[i]
		p := "routes[" + strconv.Itoa(i) + "]"
		if r.Name == "" {
			r.Name = "route-" + strconv.Itoa(i)
		}
		if j, dup := names[r.Name]; dup {
			v.errorf(p+".name", "duplicate name %q (also routes[%d])", r.Name, j)
		}
		names[r.Name] = i
		if strings.ContainsAny(r.Host, " \t\r\n/,@") {
			v.errorf(p+".host", "invalid host %q", r.Host)
		}
		if r.PathPrefix != "" && r.PathPrefix[0] != '/' {
			v.errorf(p+".path-prefix", "must start with '/'; got %q", r.PathPrefix)
		}
		switch _, ok := groups[r.Upstream]; {
		case r.Upstream == "":
			v.errorf(p+".upstream", "required: the name of an upstream group")
		case !ok:
			v.errorf(p+".upstream", "no upstream group named %q", r.Upstream)
		}
	}
}

// address checks host:port; listen addresses may use port 0. It reports
// whether the address is valid.
func (v *validator) address(p, a string, listen bool) bool {
	if a == "" {
		v.errorf(p, "required (host:port)")
		return false
	}
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		v.errorf(p, "%q is not host:port: %v", a, unwrapAddrErr(err))
		return false
	}
	n, err := strconv.Atoi(port)
	min := 1
	if listen {
		min = 0
	}
	if err != nil || n < min || n > 65535 {
		v.errorf(p, "%q: port must be a number from %d to 65535", a, min)
		return false
	}
	if host == "" && !listen {
		v.errorf(p, "%q: host required", a)
		return false
	}
	return true
}

func (v *validator) nonNegative(p string, d Duration) {
	if d < 0 {
		v.errorf(p, "must be >= 0; got %s", time.Duration(d))
	}
}

func unwrapAddrErr(err error) string {
	if ae, ok := err.(*net.AddrError); ok {
		return ae.Err
	}
	return err.Error()
}

// isName reports a group name: letters, digits, '.', '_', '-'.
func isName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return s != ""
}

// String summarizes the configuration (for logs).
func (c *Config) String() string {
	return fmt.Sprintf("%d listeners, %d routes, %d upstream groups", len(c.Listeners), len(c.Routes), len(c.Upstreams))
}
