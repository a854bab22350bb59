package proxy

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/proxyspec/proxyspec/proxy/balance"
	"github.com/proxyspec/proxyspec/proxy/internal/fault"
)

// Options configure a Proxy.
type Options struct {
	Listeners []ListenerOptions
	// Upstream is the default upstream, for requests no route matches.
	// It may be left empty when Routes are given; unmatched requests then
	// get 404.
	Upstream UpstreamOptions
	// Routes are tried in order; the first match wins.
	Routes []Route
	// RangeFilter enables the range filter for the default upstream.
	RangeFilter bool
	// Logger receives logs; nil discards them. "request completed" is
	// logged at debug level for every request.
	Logger *slog.Logger
	// OnRequestDone, if set, is called synchronously when a request
	// completes, with the same values as the "request completed" log.
	OnRequestDone func(RequestInfo)
	// Observer, if set, receives connection, pool and rejection events
	// (metrics).
	Observer Observer
	// Faults names deliberate rule violations to inject, so that tests can
	// prove each conformance case able to fail (see `refproxy -list-faults`).
	// Only builds with the proxyspec_faults tag accept them; a default build
	// fails to start with ErrFaultsDisabled if any is given.
	Faults []string
}

// ListenerOptions configure one listener. Zero values mean the defaults.
type ListenerOptions struct {
	Name string // used in errors and logs; default "listener-<i>"
	Addr string // "127.0.0.1:0" picks a free port

	// KeepAliveMaxRequests: 0 = unlimited; N = exactly N requests per
	// connection, the Nth response says Connection: close.
	KeepAliveMaxRequests int
	// AllowConnect forwards CONNECT to the upstream; by default it gets 405.
	AllowConnect bool

	MaxHeadBytes   int   // default 64 KiB, at most 1 MiB
	MaxFields      int   // default 100
	MaxTargetBytes int   // default 8 KiB
	MaxBodyBytes   int64 // default unlimited

	// HeaderReadTimeout bounds the arrival of a whole request head (from
	// the connection's start or the request's first byte). Default 10s.
	HeaderReadTimeout time.Duration
	// IdleTimeout bounds the wait between requests, each read of a request
	// body, and inactivity of a tunnel. Default 60s.
	IdleTimeout time.Duration
	// WriteTimeout bounds each write to the client. Default 30s.
	WriteTimeout time.Duration

	// TLS, if set, makes the listener https: connections are TLS servers
	// with this configuration (see package proxy/tlsconf for reloadable
	// certificates and client-certificate verification).
	TLS *tls.Config
}

// UpstreamOptions configure an upstream (an origin server). Zero values mean
// the defaults.
type UpstreamOptions struct {
	Addr string // host:port; ignored when Balancer is set
	// Name names the upstream group in logs and metrics; default Addr.
	Name string
	// Balancer, if set, spreads requests over its backends (each with its
	// own connection pool, with the options below); its backend set may
	// change at runtime. Routes given the same Balancer share its pools.
	Balancer *balance.Balancer
	// HashKey is the request key a ketama Balancer hashes.
	HashKey HashKey

	ConnectTimeout time.Duration // default 5s
	// ReadTimeout bounds the wait for the response head after the request
	// was sent, and each read of the response body. Default 60s.
	ReadTimeout  time.Duration
	WriteTimeout time.Duration // each write of the request; default 30s
	MaxIdle      int           // idle pooled connections per backend; default 32, <0 disables pooling
	// IdleTimeout closes a pooled connection idle for this long. Default 50s.
	IdleTimeout time.Duration
}

// Route sends matching requests to their own upstream.
type Route struct {
	// Host matches the request's host case-insensitively; "" matches any.
	// Without a port it matches any port.
	Host string
	// PathPrefix matches the start of the request path; "" matches any.
	PathPrefix  string
	Upstream    UpstreamOptions
	RangeFilter bool
	Name        string // used in logs; default "route-<i>"
}

// RequestInfo describes a completed request.
type RequestInfo struct {
	TraceID  string
	Listener string
	Route    string
	Upstream string // upstream address; "" if none was used
	Method   string
	Status   int // status sent to the client; 0 if none
	Duration time.Duration
	// UpstreamWritePending is the time spent writing the request body to
	// the upstream, blocked on it (Pingora's upstream_write_pending_time).
	UpstreamWritePending time.Duration
	// SentBody reports that a request body was forwarded upstream (what
	// UpstreamWritePending measured).
	SentBody bool
}

// Defaults.
const (
	DefaultMaxHeadBytes      = 64 << 10
	DefaultMaxFields         = 100
	DefaultMaxTargetBytes    = 8 << 10
	DefaultHeaderReadTimeout = 10 * time.Second
	DefaultIdleTimeout       = 60 * time.Second
	DefaultWriteTimeout      = 30 * time.Second
	DefaultConnectTimeout    = 5 * time.Second
	DefaultUpstreamRead      = 60 * time.Second
	DefaultUpstreamWrite     = 30 * time.Second
	DefaultMaxIdle           = 32
	DefaultPoolIdleTimeout   = 50 * time.Second
	maxHeadBytesLimit        = 1 << 20
)

var errInvalid = errors.New("invalid option")

// ErrFaultsDisabled is returned by Start when Options.Faults is not empty in
// a build without fault injection (the default).
var ErrFaultsDisabled = fault.ErrDisabled

// FaultInjection reports whether this build accepts Options.Faults.
const FaultInjection = fault.Enabled

// normalize validates o and fills in defaults; it returns a copy.
func (o Options) normalize() (Options, error) {
	if len(o.Listeners) == 0 {
		return o, fmt.Errorf("no listeners: %w", errInvalid)
	}
	ls := make([]ListenerOptions, len(o.Listeners))
	names := map[string]bool{}
	for i, l := range o.Listeners {
		if l.Name == "" {
			l.Name = fmt.Sprintf("listener-%d", i)
		}
		if names[l.Name] {
			return o, fmt.Errorf("listener %q: duplicate name: %w", l.Name, errInvalid)
		}
		names[l.Name] = true
		if err := l.normalize(); err != nil {
			return o, fmt.Errorf("listener %q: %w", l.Name, err)
		}
		ls[i] = l
	}
	o.Listeners = ls

	if o.Upstream.Addr == "" && o.Upstream.Balancer == nil && len(o.Routes) == 0 {
		return o, fmt.Errorf("upstream: no address and no routes: %w", errInvalid)
	}
	if o.Upstream.Addr != "" || o.Upstream.Balancer != nil {
		if err := o.Upstream.normalize(); err != nil {
			return o, fmt.Errorf("upstream: %w", err)
		}
	}
	rs := make([]Route, len(o.Routes))
	for i, r := range o.Routes {
		if r.Name == "" {
			r.Name = fmt.Sprintf("route-%d", i)
		}
		if r.PathPrefix != "" && r.PathPrefix[0] != '/' {
			return o, fmt.Errorf("route %q: path prefix %q does not start with '/': %w", r.Name, r.PathPrefix, errInvalid)
		}
		if strings.ContainsAny(r.Host, " \t\r\n/,@") {
			return o, fmt.Errorf("route %q: invalid host %q: %w", r.Name, r.Host, errInvalid)
		}
		if err := r.Upstream.normalize(); err != nil {
			return o, fmt.Errorf("route %q: upstream: %w", r.Name, err)
		}
		rs[i] = r
	}
	o.Routes = rs
	return o, nil
}

func (l *ListenerOptions) normalize() error {
	if l.Addr == "" {
		return fmt.Errorf("empty address: %w", errInvalid)
	}
	if _, _, err := net.SplitHostPort(l.Addr); err != nil {
		return fmt.Errorf("address %q: %w", l.Addr, err)
	}
	switch {
	case l.KeepAliveMaxRequests < 0:
		return fmt.Errorf("negative keep-alive request limit: %w", errInvalid)
	case l.MaxHeadBytes < 0, l.MaxFields < 0, l.MaxTargetBytes < 0, l.MaxBodyBytes < 0:
		return fmt.Errorf("negative limit: %w", errInvalid)
	case l.HeaderReadTimeout < 0, l.IdleTimeout < 0, l.WriteTimeout < 0:
		return fmt.Errorf("negative timeout: %w", errInvalid)
	case l.MaxHeadBytes > maxHeadBytesLimit:
		return fmt.Errorf("head limit %d above %d: %w", l.MaxHeadBytes, maxHeadBytesLimit, errInvalid)
	}
	setDefault(&l.MaxHeadBytes, DefaultMaxHeadBytes)
	setDefault(&l.MaxFields, DefaultMaxFields)
	setDefault(&l.MaxTargetBytes, DefaultMaxTargetBytes)
	setDefault(&l.HeaderReadTimeout, DefaultHeaderReadTimeout)
	setDefault(&l.IdleTimeout, DefaultIdleTimeout)
	setDefault(&l.WriteTimeout, DefaultWriteTimeout)
	if l.MaxTargetBytes >= l.MaxHeadBytes {
		return fmt.Errorf("target limit %d not below head limit %d: %w", l.MaxTargetBytes, l.MaxHeadBytes, errInvalid)
	}
	return nil
}

func (u *UpstreamOptions) normalize() error {
	if u.Balancer == nil {
		if u.Addr == "" {
			return fmt.Errorf("empty address: %w", errInvalid)
		}
		if _, _, err := net.SplitHostPort(u.Addr); err != nil {
			return fmt.Errorf("address %q: %w", u.Addr, err)
		}
	}
	if u.ConnectTimeout < 0 || u.ReadTimeout < 0 || u.WriteTimeout < 0 || u.IdleTimeout < 0 {
		return fmt.Errorf("negative timeout: %w", errInvalid)
	}
	if err := u.HashKey.validate(); err != nil {
		return err
	}
	setDefault(&u.ConnectTimeout, DefaultConnectTimeout)
	setDefault(&u.ReadTimeout, DefaultUpstreamRead)
	setDefault(&u.WriteTimeout, DefaultUpstreamWrite)
	setDefault(&u.MaxIdle, DefaultMaxIdle)
	setDefault(&u.IdleTimeout, DefaultPoolIdleTimeout)
	return nil
}

func setDefault[T int | int64 | time.Duration](v *T, d T) {
	if *v == 0 {
		*v = d
	}
}
