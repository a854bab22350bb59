// Package metrics exports the reference proxy's Prometheus metrics with
// client_golang: it implements proxy.Observer, consumes
// proxy.RequestInfo (Options.OnRequestDone), and reports the backends of
// upstream groups at scrape time. Serve Handler on the admin listener.
//
// Label values come from the configuration (listener, route, upstream and
// backend names) and from status codes, so cardinality stays bounded. Hot
// paths look metrics up in small caches and do not allocate once warm.
package metrics

import (
	"net/http"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/proxyspec/proxyspec/proxy"
	"github.com/proxyspec/proxyspec/proxy/balance"
)

// Namespace prefixes every metric name.
const Namespace = "refproxy"

// WritePendingBuckets are the upstream_write_pending_seconds buckets: 1 ms
// to 10 s (as Pingora 0.8's histogram).
var WritePendingBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// DurationBuckets are the request_duration_seconds buckets.
var DurationBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// Metrics holds the proxy's collectors and registry.
type Metrics struct {
	reg *prometheus.Registry

	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	writePending  *prometheus.HistogramVec
	clientConns   *prometheus.GaugeVec
	upstreamConns *prometheus.GaugeVec
	keepAlive     *prometheus.CounterVec
	rejected      *prometheus.CounterVec
	poolHits      *prometheus.CounterVec
	poolMisses    *prometheus.CounterVec

	reqs     cache[reqKey, reqMetrics]
	byLn     cache[string, lnMetrics]
	byRoute  cache[string, prometheus.Observer]
	byUp     cache[[2]string, upMetrics]
	rejectBy cache[[2]string, prometheus.Counter]

	backends *backendCollector
}

type reqKey struct {
	listener, route string
	status          int
}

type reqMetrics struct {
	count    prometheus.Counter
	duration prometheus.Observer
}

type lnMetrics struct {
	conns     prometheus.Gauge
	keepAlive prometheus.Counter
}

type upMetrics struct {
	conns        prometheus.Gauge
	hits, misses prometheus.Counter
}

// New makes the collectors and registers them, with the Go runtime and
// process collectors, on a new registry.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "requests_total",
		Help: "Requests read, by listener, route and status sent to the client (0: none sent).",
	}, []string{"listener", "route", "status"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "request_duration_seconds",
		Help:    "Time from a request's head to the end of its response.",
		Buckets: DurationBuckets,
	}, []string{"listener", "route"})
	m.writePending = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "upstream_write_pending_seconds",
		Help:    "Time spent blocked writing a request body upstream, per request with a body (Pingora's upstream_write_pending_time).",
		Buckets: WritePendingBuckets,
	}, []string{"route"})
	m.clientConns = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "client_connections",
		Help: "Open downstream (client) connections.",
	}, []string{"listener"})
	m.upstreamConns = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "upstream_connections",
		Help: "Open upstream connections, in use or pooled.",
	}, []string{"upstream", "backend"})
	m.keepAlive = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "keepalive_limit_closes_total",
		Help: "Client connections closed because they reached the listener's keep-alive request limit.",
	}, []string{"listener"})
	m.rejected = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "rejected_requests_total",
		Help: "Requests the proxy answered itself with an error, by reason: malformed, framing, connect, limit, timeout, no_route, no_backend.",
	}, []string{"listener", "reason"})
	m.poolHits = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "upstream_pool_hits_total",
		Help: "Upstream requests sent on a pooled keep-alive connection.",
	}, []string{"upstream", "backend"})
	m.poolMisses = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "upstream_pool_misses_total",
		Help: "Upstream requests that found no usable pooled connection and dialed.",
	}, []string{"upstream", "backend"})
	m.backends = &backendCollector{
		healthy: prometheus.NewDesc(Namespace+"_backend_healthy", "1 if the backend is in rotation, else 0.", []string{"upstream", "backend"}, nil),
		active:  prometheus.NewDesc(Namespace+"_backend_active_requests", "Requests in flight to the backend.", []string{"upstream", "backend"}, nil),
		weight:  prometheus.NewDesc(Namespace+"_backend_weight", "The backend's balancing weight.", []string{"upstream", "backend"}, nil),
	}
	m.reg.MustRegister(m.requests, m.duration, m.writePending, m.clientConns, m.upstreamConns,
		m.keepAlive, m.rejected, m.poolHits, m.poolMisses, m.backends,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	m.reqs.make = func(k reqKey) reqMetrics {
		return reqMetrics{
			count:    m.requests.WithLabelValues(k.listener, k.route, statusText(k.status)),
			duration: m.duration.WithLabelValues(k.listener, k.route),
		}
	}
	m.byLn.make = func(l string) lnMetrics {
		return lnMetrics{conns: m.clientConns.WithLabelValues(l), keepAlive: m.keepAlive.WithLabelValues(l)}
	}
	m.byRoute.make = func(r string) prometheus.Observer { return m.writePending.WithLabelValues(r) }
	m.byUp.make = func(k [2]string) upMetrics {
		return upMetrics{
			conns:  m.upstreamConns.WithLabelValues(k[0], k[1]),
			hits:   m.poolHits.WithLabelValues(k[0], k[1]),
			misses: m.poolMisses.WithLabelValues(k[0], k[1]),
		}
	}
	m.rejectBy.make = func(k [2]string) prometheus.Counter { return m.rejected.WithLabelValues(k[0], k[1]) }
	return m
}

// Registry returns the registry, to add collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// AddGroup reports the backends of an upstream group at scrape time.
func (m *Metrics) AddGroup(name string, bal *balance.Balancer) {
	m.backends.mu.Lock()
	m.backends.groups = append(m.backends.groups, group{name, bal})
	m.backends.mu.Unlock()
}

// AddReady exports readiness as refproxy_ready (1 or 0).
func (m *Metrics) AddReady(ready func() bool) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "ready",
		Help: "1 once the proxy is ready for traffic (see /readyz), else 0.",
	}, func() float64 {
		if ready() {
			return 1
		}
		return 0
	}))
}

// RequestDone records a completed request; use it as (or call it from)
// proxy.Options.OnRequestDone.
func (m *Metrics) RequestDone(i proxy.RequestInfo) {
	r := m.reqs.get(reqKey{i.Listener, i.Route, i.Status})
	r.count.Inc()
	r.duration.Observe(i.Duration.Seconds())
	if i.SentBody {
		m.byRoute.get(i.Route).Observe(i.UpstreamWritePending.Seconds())
	}
}

// Metrics implements proxy.Observer.
var _ proxy.Observer = (*Metrics)(nil)

// ClientConnOpened counts an open downstream connection.
func (m *Metrics) ClientConnOpened(l string) { m.byLn.get(l).conns.Inc() }

// ClientConnClosed uncounts a downstream connection.
func (m *Metrics) ClientConnClosed(l string) { m.byLn.get(l).conns.Dec() }

// UpstreamConnOpened counts an open upstream connection.

func (m *Metrics) UpstreamConnOpened(up, backend string) {
	m.byUp.get([2]string{up, backend}).conns.Inc()
}

// UpstreamConnClosed uncounts an upstream connection.
func (m *Metrics) UpstreamConnClosed(up, backend string) {
	m.byUp.get([2]string{up, backend}).conns.Dec()
}

// PoolGet counts a pool hit or miss.
func (m *Metrics) PoolGet(up, backend string, hit bool) {
	u := m.byUp.get([2]string{up, backend})
	if hit {
		u.hits.Inc()
	} else {
		u.misses.Inc()
	}
}

// KeepAliveLimitClose counts a connection closed by the keep-alive limit.
func (m *Metrics) KeepAliveLimitClose(l string) { m.byLn.get(l).keepAlive.Inc() }

// Rejected counts a request the proxy refused.
func (m *Metrics) Rejected(l string, r proxy.RejectReason) {
	m.rejectBy.get([2]string{l, string(r)}).Inc()
}

// cache memoizes labelled children, so that a warm lookup is a map read
// under a read lock, without allocation.
type cache[K comparable, V any] struct {
	mu   sync.RWMutex
	m    map[K]V
	make func(K) V
}

func (c *cache[K, V]) get(k K) V {
	c.mu.RLock()
	v, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return v
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok = c.m[k]; ok {
		return v
	}
	if c.m == nil {
		c.m = map[K]V{}
	}
	v = c.make(k)
	c.m[k] = v
	return v
}

var statusTexts = func() (s [600]string) {
	for i := range s {
		s[i] = strconv.Itoa(i)
	}
	return s
}()

func statusText(code int) string {
	if code >= 0 && code < len(statusTexts) {
		return statusTexts[code]
	}
	return strconv.Itoa(code)
}

// backendCollector reports each group's backends when scraped.
type backendCollector struct {
	healthy, active, weight *prometheus.Desc

	mu     sync.Mutex
	groups []group
}

type group struct {
	name string
	bal  *balance.Balancer
}

func (c *backendCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.healthy
	ch <- c.active
	ch <- c.weight
}

func (c *backendCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	groups := c.groups
	c.mu.Unlock()
	for _, g := range groups {
		for _, s := range g.bal.Status() {
			h := 0.0
			if s.Healthy {
				h = 1
			}
			ch <- prometheus.MustNewConstMetric(c.healthy, prometheus.GaugeValue, h, g.name, s.Addr)
			ch <- prometheus.MustNewConstMetric(c.active, prometheus.GaugeValue, float64(s.Active), g.name, s.Addr)
			ch <- prometheus.MustNewConstMetric(c.weight, prometheus.GaugeValue, float64(s.Weight), g.name, s.Addr)
		}
	}
}
