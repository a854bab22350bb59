// Package config reads and validates refproxy's YAML configuration file.
//
// The file describes listeners, routes, upstream groups, the admin
// listener and readiness. [Load] decodes it strictly (unknown fields are
// errors), validates every value and fills in the defaults. Every error
// names the field path and, where the file gives it, the line:
//
//	refproxy.yaml:12: listeners[1].keepalive-max-requests: must be >= 0
//
// Zero limits and timeouts of listeners and upstream groups mean the
// proxy's own defaults (see proxy.Options); the defaults this package fills
// in are listed on each field.
package config

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is a whole configuration file.
type Config struct {
	Listeners []Listener `yaml:"listeners"` // at least one
	Routes    []Route    `yaml:"routes"`    // at least one; tried in order
	Upstreams []Upstream `yaml:"upstreams"` // at least one
	Admin     *Admin     `yaml:"admin"`     // optional
	Readiness Readiness  `yaml:"readiness"`
	// LogLevel is debug, info (default), warn or error.
	LogLevel string `yaml:"log-level"`
	// ShutdownTimeout bounds the graceful shutdown: in-flight requests get
	// this long to finish. Default 10s.
	ShutdownTimeout *Duration `yaml:"shutdown-timeout"`

	file  string
	lines map[string]int // field path → line
}

// Listener is a traffic listener.
type Listener struct {
	Name     string `yaml:"name"`     // default "listener-<index>"; unique
	Address  string `yaml:"address"`  // host:port, required; port 0 picks a free one
	Protocol string `yaml:"protocol"` // http (default) or https
	// KeepAliveMaxRequests is the number of requests served on one client
	// connection; the last response says Connection: close. 0 (default):
	// unlimited. Each listener keeps its own.
	KeepAliveMaxRequests int              `yaml:"keepalive-max-requests"`
	AllowConnect         bool             `yaml:"allow-connect"` // forward CONNECT instead of 405
	Limits               Limits           `yaml:"limits"`
	Timeouts             ListenerTimeouts `yaml:"timeouts"`
	TLS                  *TLS             `yaml:"tls"` // required with https, refused with http
}

// Limits bound requests. 0 means the proxy's default.
type Limits struct {
	MaxHeadBytes   int   `yaml:"max-head-bytes"`   // default 64 KiB, at most 1 MiB
	MaxFields      int   `yaml:"max-fields"`       // default 100
	MaxTargetBytes int   `yaml:"max-target-bytes"` // default 8 KiB; below max-head-bytes
	MaxBodyBytes   int64 `yaml:"max-body-bytes"`   // default unlimited
}

// ListenerTimeouts bound client I/O. 0 means the proxy's default.
type ListenerTimeouts struct {
	HeaderRead Duration `yaml:"header-read"` // whole request head; default 10s
	Idle       Duration `yaml:"idle"`        // between requests, body reads, tunnels; default 60s
	Write      Duration `yaml:"write"`       // each write to the client; default 30s
}

// Client authentication modes.
const (
	ClientAuthNone     = "none"
	ClientAuthOptional = "optional" // verify a certificate if the client sends one
	ClientAuthRequired = "required" // require and verify a certificate
)

// TLS configures an https listener.
type TLS struct {
	Cert string `yaml:"cert"` // PEM certificate chain file; required
	Key  string `yaml:"key"`  // PEM private key file; required
	// ClientCA is a PEM bundle of CAs that client certificates must chain
	// to. Required with client-auth optional or required.
	ClientCA string `yaml:"client-ca"`
	// ClientAuth is none, optional or required. Default: required when
	// client-ca is set, else none.
	ClientAuth string `yaml:"client-auth"`
}

// Route sends matching requests to an upstream group.
type Route struct {
	Name string `yaml:"name"` // default "route-<index>"; unique
	// Host matches the request host case-insensitively (ignoring the port
	// unless given); empty matches any.
	Host       string `yaml:"host"`
	PathPrefix string `yaml:"path-prefix"` // starts with "/"; empty matches any
	Upstream   string `yaml:"upstream"`    // name of an upstream group; required
	// RangeFilter serves Range requests from full 200 responses.
	RangeFilter bool `yaml:"range-filter"`
}

// Balancing policies.
const (
	PolicyRoundRobin       = "round-robin"
	PolicyLeastConnections = "least-connections"
	PolicyKetama           = "ketama"
)

// Upstream is a group of backends behind one balancing policy.
type Upstream struct {
	Name string `yaml:"name"` // required, unique; letters, digits, '.', '_', '-'
	// Policy is round-robin (default, weighted), least-connections or
	// ketama (consistent hashing of HashKey).
	Policy string `yaml:"policy"`
	// HashKey is what ketama hashes: header:NAME, cookie:NAME,
	// client-address or path. Required with ketama, refused otherwise.
	// Requests without the key are spread round-robin.
	HashKey     HashKey          `yaml:"hash-key"`
	Backends    []Backend        `yaml:"backends"` // at least one
	HealthCheck *HealthCheck     `yaml:"health-check"`
	Pool        Pool             `yaml:"pool"`
	Timeouts    UpstreamTimeouts `yaml:"timeouts"`
}

// Backend is one server of an upstream group.
type Backend struct {
	Address string `yaml:"address"` // host:port, required, unique in the group
	Weight  *int   `yaml:"weight"`  // 1 to 1000; default 1
}

// HealthCheck configures active HTTP health checks: GET Path on every
// backend each Interval; a 2xx answer within Timeout is a success. A
// backend starts unhealthy and enters rotation after its first success;
// later it leaves after UnhealthyThreshold consecutive failures and comes
// back after HealthyThreshold consecutive successes.
type HealthCheck struct {
	Path               string   `yaml:"path"`                // default "/"
	Interval           Duration `yaml:"interval"`            // default 5s
	Timeout            Duration `yaml:"timeout"`             // default 1s, at most interval
	HealthyThreshold   int      `yaml:"healthy-threshold"`   // default 2
	UnhealthyThreshold int      `yaml:"unhealthy-threshold"` // default 3
}

// Pool configures each backend's keep-alive connection pool.
type Pool struct {
	// MaxIdle is the number of idle connections kept per backend; 0
	// disables pooling. Default 32.
	MaxIdle *int `yaml:"max-idle"`
	// IdleTimeout closes a pooled connection idle this long. Default 50s.
	IdleTimeout Duration `yaml:"idle-timeout"`
}

// UpstreamTimeouts bound upstream I/O. 0 means the proxy's default.
type UpstreamTimeouts struct {
	Connect Duration `yaml:"connect"` // default 5s
	Read    Duration `yaml:"read"`    // response head and each body read; default 60s
	Write   Duration `yaml:"write"`   // each request write; default 30s
}

// Admin is the admin listener: /healthz, /readyz and /metrics.
type Admin struct {
	Address string `yaml:"address"` // host:port, required
}

// Readiness gates the traffic listeners: they open once every upstream
// group has a healthy backend, or once GracePeriod has passed.
type Readiness struct {
	GracePeriod *Duration `yaml:"grace-period"` // default 30s; 0: do not wait
}

// Defaults filled in by Load.
const (
	DefaultProtocol           = "http"
	DefaultPolicy             = PolicyRoundRobin
	DefaultWeight             = 1
	DefaultHealthPath         = "/"
	DefaultHealthInterval     = 5 * time.Second
	DefaultHealthTimeout      = time.Second
	DefaultHealthyThreshold   = 2
	DefaultUnhealthyThreshold = 3
	DefaultMaxIdle            = 32
	DefaultPoolIdleTimeout    = 50 * time.Second
	DefaultGracePeriod        = 30 * time.Second
	DefaultShutdownTimeout    = 10 * time.Second
	DefaultLogLevel           = "info"
)

// Duration is a time.Duration written as a Go duration string ("500ms",
// "10s", "2m").
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// UnmarshalYAML parses a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		return typeError(n, "invalid duration %q: want a number with a unit, e.g. 500ms, 10s, 2m", n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes d as a duration string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// Hash key kinds.
const (
	HashHeader        = "header"
	HashCookie        = "cookie"
	HashClientAddress = "client-address"
	HashPath          = "path"
)

// HashKey is what ketama hashes: Kind is header, cookie (both with a Name),
// client-address or path. The zero value means none.
type HashKey struct {
	Kind string
	Name string
}

// String returns the key as written in the file ("header:X-User").
func (k HashKey) String() string {
	if k.Name != "" {
		return k.Kind + ":" + k.Name
	}
	return k.Kind
}

// IsZero reports whether no key is set.
func (k HashKey) IsZero() bool { return k.Kind == "" }

// ParseHashKey parses header:NAME, cookie:NAME, client-address or path.
func ParseHashKey(s string) (HashKey, error) {
	kind, name, hasName := strings.Cut(s, ":")
	switch kind {
	case HashHeader, HashCookie:
		if !hasName || !isToken(name) {
			return HashKey{}, fmt.Errorf("%s needs a name: %s:NAME, NAME a token", kind, kind)
		}
		return HashKey{Kind: kind, Name: name}, nil
	case HashClientAddress, HashPath:
		if hasName {
			return HashKey{}, fmt.Errorf("%s takes no name", kind)
		}
		return HashKey{Kind: kind}, nil
	}
	return HashKey{}, fmt.Errorf("unknown hash key %q: want header:NAME, cookie:NAME, client-address or path", s)
}

// UnmarshalYAML parses a hash key.
func (k *HashKey) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return typeError(n, "hash key must be a string")
	}
	v, err := ParseHashKey(n.Value)
	if err != nil {
		return typeError(n, "%v", err)
	}
	*k = v
	return nil
}

// MarshalYAML writes the key as a string.
func (k HashKey) MarshalYAML() (any, error) { return k.String(), nil }

// typeError reports a bad value the way yaml reports type errors, so that
// decoding goes on and every error is collected with its line.
func typeError(n *yaml.Node, format string, args ...any) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: ", n.Line) + fmt.Sprintf(format, args...)}}
}

// isToken reports a non-empty RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
