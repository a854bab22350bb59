package service_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/proxyspec/proxyspec/proxy/config"
	"github.com/proxyspec/proxyspec/proxy/internal/testpki"
	"github.com/proxyspec/proxyspec/proxy/service"
)

const ioTimeout = 5 * time.Second

// backend is an origin on 127.0.0.1 that answers with its name; /healthz
// answers healthStatus; /slow waits for release; a body is read whole.
type backend struct {
	name         string
	srv          *httptest.Server
	healthStatus atomic.Int32
	hits         atomic.Int32
	release      chan struct{}
}

func newBackend(t *testing.T, name string) *backend {
	t.Helper()
	b := &backend{name: name, release: make(chan struct{})}
	b.healthStatus.Store(200)
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			w.WriteHeader(int(b.healthStatus.Load()))
			return
		case "/slow":
			select {
			case <-b.release:
			case <-r.Context().Done():
				return
			}
		}
		b.hits.Add(1)
		n, _ := io.Copy(io.Discard, r.Body)
		fmt.Fprintf(w, "%s %d %s", b.name, n, r.Header.Get("X-Forwarded-Proto"))
	}))
	t.Cleanup(func() {
		select {
		case <-b.release:
		default:
			close(b.release)
		}
		b.srv.Close()
	})
	return b
}

func (b *backend) addr() string { return strings.TrimPrefix(b.srv.URL, "http://") }

// start loads a configuration, starts the service and (unless serve is
// false) waits until it serves.
func start(t *testing.T, yaml string, serve bool) *service.Service {
	t.Helper()
	path := filepath.Join(t.TempDir(), "refproxy.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	s, err := service.New(cfg, service.Options{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
		defer cancel()
		s.Shutdown(ctx)
	})
	if serve {
		if err := s.Serve(ctx); err != nil {
			t.Fatalf("Serve: %v", err)
		}
	}
	return s
}

// httpClient never reuses connections unless asked, never uses a proxy
// from the environment.
func httpClient(keepAlive bool) *http.Client {
	return &http.Client{Timeout: ioTimeout, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: !keepAlive}}
}

func fetch(t *testing.T, c *http.Client, method, url, body string, hdr ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// raw sends raw bytes on a new connection and reads until close.
func raw(t *testing.T, addr, req string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(ioTimeout))
	io.WriteString(c, req)
	b, _ := io.ReadAll(c)
	return string(b)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(ioTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// metrics scrapes /metrics and parses the text exposition.
type metrics map[string]*dto.MetricFamily

func scrape(t *testing.T, admin string) metrics {
	t.Helper()
	resp, err := httpClient(false).Get("http://" + admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// value returns the sample of name whose labels include want ("k=v"
// pairs): a counter's or gauge's value, a histogram's count. -1 if absent.
func (m metrics) value(name string, want ...string) float64 {
	f := m[name]
	if f == nil {
		return -1
	}
next:
	for _, s := range f.Metric {
		labels := map[string]string{}
		for _, l := range s.Label {
			labels[l.GetName()] = l.GetValue()
		}
		for _, w := range want {
			k, v, _ := strings.Cut(w, "=")
			if labels[k] != v {
				continue next
			}
		}
		switch {
		case s.Counter != nil:
			return s.Counter.GetValue()
		case s.Gauge != nil:
			return s.Gauge.GetValue()
		case s.Histogram != nil:
			return float64(s.Histogram.GetSampleCount())
		}
	}
	return -1
}

func (m metrics) buckets(name string) []float64 {
	f := m[name]
	if f == nil || len(f.Metric) == 0 || f.Metric[0].Histogram == nil {
		return nil
	}
	var out []float64
	for _, b := range f.Metric[0].Histogram.Bucket {
		out = append(out, b.GetUpperBound())
	}
	return out
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	return fetch(t, httpClient(false), "GET", url, "")
}

func TestEndToEnd(t *testing.T) {
	web1, web2 := newBackend(t, "web1"), newBackend(t, "web2")
	api := []*backend{newBackend(t, "api1"), newBackend(t, "api2"), newBackend(t, "api3")}
	web1.healthStatus.Store(503)
	web2.healthStatus.Store(503)
	s := start(t, fmt.Sprintf(`
admin: {address: "127.0.0.1:0"}
readiness: {grace-period: 1h}
listeners:
  - name: public
    address: 127.0.0.1:0
    keepalive-max-requests: 2
  - name: internal
    address: 127.0.0.1:0
    keepalive-max-requests: 3
routes:
  - {name: api, path-prefix: /api/, upstream: api}
  - {name: web, upstream: web}
upstreams:
  - name: web
    policy: round-robin
    backends: [{address: %q}, {address: %q, weight: 1}]
    health-check: {path: /healthz, interval: 30ms, timeout: 30ms, healthy-threshold: 1, unhealthy-threshold: 1}
  - name: api
    policy: ketama
    hash-key: header:X-User
    backends: [{address: %q}, {address: %q}, {address: %q}]
`, web1.addr(), web2.addr(), api[0].addr(), api[1].addr(), api[2].addr()), false)
	admin := s.AdminAddr()

	// Liveness at once; readiness only once web has a healthy backend, and
	// the traffic listeners open only then.
	if code, _ := get(t, "http://"+admin+"/healthz"); code != 200 {
		t.Fatalf("/healthz %d", code)
	}
	if code, body := get(t, "http://"+admin+"/readyz"); code != 503 || !strings.Contains(body, "upstream web: 0/2 backends healthy") {
		t.Fatalf("/readyz before health: %d %q", code, body)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(context.Background()) }()
	select {
	case err := <-served:
		t.Fatalf("Serve returned before the proxy was ready: %v", err)
	case <-time.After(100 * time.Millisecond): // a few health rounds: still not ready
	}
	if s.Addrs() != nil {
		t.Fatal("listeners bound before readiness")
	}
	web1.healthStatus.Store(200)
	select {
	case err := <-served:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(ioTimeout):
		t.Fatal("Serve did not return once web1 was healthy")
	}
	if code, body := get(t, "http://"+admin+"/readyz"); code != 200 || !strings.HasPrefix(body, "ready\n") {
		t.Fatalf("/readyz after health: %d %q", code, body)
	}
	addrs := s.Addrs()
	public, internal := "http://"+addrs[0], "http://"+addrs[1]

	// Only web1 is healthy: every web request goes there.
	for range 4 {
		if _, body := get(t, public+"/"); !strings.HasPrefix(body, "web1 ") {
			t.Fatalf("web request served by %q while web2 is unhealthy", body)
		}
	}
	web2.healthStatus.Store(200)
	waitFor(t, "web2 healthy", func() bool { return scrape(t, admin).value("refproxy_backend_healthy", "backend="+web2.addr()) == 1 })
	seen := map[string]bool{}
	for range 4 {
		_, body := get(t, public+"/")
		seen[strings.Fields(body)[0]] = true
	}
	if !seen["web1"] || !seen["web2"] {
		t.Errorf("round-robin over two healthy backends served %v", seen)
	}
	web1.healthStatus.Store(500)
	waitFor(t, "web1 out of rotation", func() bool { return scrape(t, admin).value("refproxy_backend_healthy", "backend="+web1.addr()) == 0 })
	for range 3 {
		if _, body := get(t, public+"/"); !strings.HasPrefix(body, "web2 ") {
			t.Fatalf("served by %q after web1 failed its checks", body)
		}
	}
	web1.healthStatus.Store(200)
	waitFor(t, "web1 back", func() bool { return scrape(t, admin).value("refproxy_backend_healthy", "backend="+web1.addr()) == 1 })

	// Ketama: a user sticks to one api backend; uploads measure write-pending.
	owner := map[string]string{}
	uploads := 0
	for i := range 6 {
		user := fmt.Sprintf("user-%d", i)
		for range 3 {
			_, body := fetch(t, httpClient(false), "POST", internal+"/api/x", strings.Repeat("z", 1000), "X-User", user)
			uploads++
			name := strings.Fields(body)[0]
			if owner[user] == "" {
				owner[user] = name
			} else if owner[user] != name {
				t.Fatalf("%s moved from %s to %s", user, owner[user], name)
			}
			if !strings.HasPrefix(body, name+" 1000 http") {
				t.Fatalf("upload answer %q", body)
			}
		}
	}

	// Keep-alive limits per listener: 2 on public, 3 on internal.
	for _, tc := range []struct {
		addr, listener string
		limit          int
	}{{addrs[0], "public", 2}, {addrs[1], "internal", 3}} {
		got := raw(t, tc.addr, strings.Repeat("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 6))
		if n := strings.Count(got, "HTTP/1.1 200"); n != tc.limit {
			t.Errorf("%s: %d responses on one connection, want %d", tc.listener, n, tc.limit)
		}
	}

	// Rejections.
	if got := raw(t, addrs[0], "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n"); !strings.HasPrefix(got, "HTTP/1.1 405") {
		t.Errorf("CONNECT: %q", got)
	}
	if got := raw(t, addrs[0], "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"); !strings.HasPrefix(got, "HTTP/1.1 400") {
		t.Errorf("CL+TE: %q", got)
	}

	// Pool reuse: keep-alive client, several requests to one backend.
	ka := httpClient(true)
	for range 5 {
		fetch(t, ka, "GET", internal+"/api/pool", "", "X-User", "user-0")
	}
	ka.CloseIdleConnections()

	// Metrics after the traffic.
	var m metrics
	waitFor(t, "client connections closed", func() bool {
		m = scrape(t, admin)
		return m.value("refproxy_client_connections", "listener=public") == 0 && m.value("refproxy_client_connections", "listener=internal") == 0
	})
	checks := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"refproxy_requests_total", []string{"listener=internal", "route=api", "status=200"}, float64(uploads + 5)},
		{"refproxy_requests_total", []string{"listener=internal", "route=web", "status=200"}, 3},
		{"refproxy_upstream_write_pending_seconds", []string{"route=api"}, float64(uploads)},
		{"refproxy_rejected_requests_total", []string{"listener=public", "reason=connect"}, 1},
		{"refproxy_rejected_requests_total", []string{"listener=public", "reason=framing"}, 1},
		{"refproxy_keepalive_limit_closes_total", []string{"listener=public"}, 1},
		{"refproxy_keepalive_limit_closes_total", []string{"listener=internal"}, 2}, // raw, then the pooled client's 3rd
		{"refproxy_ready", nil, 1},
		{"refproxy_backend_healthy", []string{"upstream=api", "backend=" + api[0].addr()}, 1},
	}
	for _, c := range checks {
		if got := m.value(c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if got := m.value("refproxy_request_duration_seconds", "listener=public", "route=web"); got < 11 {
		t.Errorf("request_duration_seconds count %v, want >= 11", got)
	}
	b := m.buckets("refproxy_upstream_write_pending_seconds")
	if len(b) != 14 || b[0] != 0.001 || b[12] != 10 { // and +Inf
		t.Errorf("write-pending buckets %v, want 1ms … 10s", b)
	}
	// The pooled user-0 requests: one backend, hits after the first miss.
	pooled := owner["user-0"]
	for _, a := range api {
		if a.name != pooled {
			continue
		}
		hits := m.value("refproxy_upstream_pool_hits_total", "upstream=api", "backend="+a.addr())
		misses := m.value("refproxy_upstream_pool_misses_total", "upstream=api", "backend="+a.addr())
		if hits < 4 || misses < 1 {
			t.Errorf("pool of %s: %v hits, %v misses", a.name, hits, misses)
		}
		if open := m.value("refproxy_upstream_connections", "upstream=api", "backend="+a.addr()); open < 1 {
			t.Errorf("upstream connections of %s: %v", a.name, open)
		}
	}
}

// TestListenersClosedUntilReady: before readiness nothing listens on the
// traffic port (connections are refused); the grace period opens it even
// with no healthy backend.
func TestListenersClosedUntilReady(t *testing.T) {
	dead := newBackend(t, "dead")
	dead.healthStatus.Store(500)
	port := freePort(t)
	s := start(t, fmt.Sprintf(`
admin: {address: "127.0.0.1:0"}
readiness: {grace-period: 1500ms}
listeners: [{address: %q}]
routes: [{upstream: web}]
upstreams:
  - name: web
    backends: [{address: %q}]
    health-check: {path: /healthz, interval: 50ms, timeout: 50ms}
`, port, dead.addr()), false)
	served := make(chan error, 1)
	go func() { served <- s.Serve(context.Background()) }()
	if _, err := net.DialTimeout("tcp", port, ioTimeout); err == nil {
		t.Fatal("traffic port accepted a connection before readiness")
	} else if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial before readiness: %v", err)
	}
	if code, _ := get(t, "http://"+s.AdminAddr()+"/readyz"); code != 503 {
		t.Errorf("/readyz %d before grace", code)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(ioTimeout):
		t.Fatal("grace period did not open the listeners")
	}
	if code, body := get(t, "http://"+s.AdminAddr()+"/readyz"); code != 200 || !strings.Contains(body, "grace period") {
		t.Errorf("/readyz after grace: %d %q", code, body)
	}
	// No healthy backend: 503 from the proxy itself.
	if code, _ := get(t, "http://"+port+"/"); code != 503 {
		t.Errorf("status %d with no healthy backend, want 503", code)
	}
}

func TestTLSListenerMTLSAndReload(t *testing.T) {
	dir := t.TempDir()
	ca := testpki.NewCA(t, "server CA")
	clientCA := testpki.NewCA(t, "client CA")
	cert, key := ca.Server(t, "first").Write(t, dir, "server")
	caFile := clientCA.WriteCA(t, dir, "clients")
	be := newBackend(t, "web")
	s := start(t, fmt.Sprintf(`
listeners:
  - name: tls
    address: 127.0.0.1:0
    protocol: https
    tls: {cert: %q, key: %q, client-ca: %q, client-auth: required}
routes: [{upstream: web}]
upstreams: [{name: web, backends: [{address: %q}]}]
`, cert, key, caFile, be.addr()), true)
	addr := s.Addrs()[0]
	alice := clientCA.Client(t, "alice").TLS
	client := func(cert *tls.Certificate) *http.Client {
		cfg := &tls.Config{RootCAs: ca.Pool(), ServerName: "127.0.0.1"}
		if cert != nil {
			cfg.Certificates = []tls.Certificate{*cert}
		}
		return &http.Client{Timeout: ioTimeout, Transport: &http.Transport{Proxy: nil, TLSClientConfig: cfg, DisableKeepAlives: true}}
	}
	serverName := func(c *http.Client) (string, error) {
		resp, err := c.Get("https://" + addr + "/")
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if string(b) != "web 0 https" {
			return "", fmt.Errorf("body %q", b)
		}
		return resp.TLS.PeerCertificates[0].Subject.CommonName, nil
	}
	if name, err := serverName(client(&alice)); err != nil || name != "first" {
		t.Fatalf("with a client cert: %q %v", name, err)
	}
	if _, err := serverName(client(nil)); err == nil {
		t.Fatal("no client certificate accepted with client-auth required")
	}
	ca.Server(t, "second").Write(t, dir, "server")
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if name, err := serverName(client(&alice)); err != nil || name != "second" {
		t.Fatalf("after reload: %q %v", name, err)
	}
	os.WriteFile(key, []byte("broken"), 0o600)
	if err := s.Reload(); err == nil || !strings.Contains(err.Error(), "listeners[0].tls") {
		t.Fatalf("broken reload: %v", err)
	}
	if name, err := serverName(client(&alice)); err != nil || name != "second" {
		t.Fatalf("after a failed reload: %q %v", name, err)
	}
}

// TestGracefulShutdown: a request in flight when shutdown starts
// completes; new connections are refused; idle keep-alive connections are
// closed.
func TestGracefulShutdown(t *testing.T) {
	be := newBackend(t, "web")
	s := start(t, fmt.Sprintf(`
admin: {address: "127.0.0.1:0"}
listeners: [{address: "127.0.0.1:0"}]
routes: [{upstream: web}]
upstreams: [{name: web, backends: [{address: %q}]}]
`, be.addr()), true)
	addr := s.Addrs()[0]
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	idleBR := bufio.NewReader(idle)
	io.WriteString(idle, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, err := http.ReadResponse(idleBR, nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("idle connection's request: %v", err)
	} else {
		io.Copy(io.Discard, resp.Body)
	}

	inflight := make(chan string, 1)
	go func() {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			inflight <- err.Error()
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(ioTimeout))
		io.WriteString(c, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
		b, _ := io.ReadAll(c)
		inflight <- string(b)
	}()
	waitFor(t, "slow request at the backend", func() bool {
		return scrape(t, s.AdminAddr()).value("refproxy_backend_active_requests", "upstream=web") == 1
	})
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
		defer cancel()
		shut <- s.Shutdown(ctx)
	}()
	// Shutting down: new connections are refused, idle ones closed.
	waitFor(t, "listener closed", func() bool {
		c, err := net.DialTimeout("tcp", addr, ioTimeout)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	idle.SetReadDeadline(time.Now().Add(ioTimeout))
	if n, err := idleBR.Read(make([]byte, 1)); err == nil {
		t.Errorf("idle keep-alive connection still open (read %d bytes)", n)
	}
	close(be.release)
	got := <-inflight
	if !strings.HasPrefix(got, "HTTP/1.1 200") || !strings.Contains(got, "Connection: close") || !strings.HasSuffix(got, "web 0 http") {
		t.Errorf("in-flight response: %q", got)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

func TestReloadBackends(t *testing.T) {
	a, b := newBackend(t, "a"), newBackend(t, "b")
	file := func(backends string) string {
		return fmt.Sprintf(`
listeners: [{address: "127.0.0.1:0"}]
routes: [{upstream: web}]
upstreams:
  - name: web
    backends: [%s]
`, backends)
	}
	s := start(t, file(fmt.Sprintf("{address: %q}", a.addr())), true)
	url := "http://" + s.Addrs()[0] + "/"
	load := func(yaml string) *config.Config {
		t.Helper()
		cfg, err := config.Parse("new.yaml", []byte(yaml))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	spread := func(n int) map[string]int {
		got := map[string]int{}
		for range n {
			_, body := get(t, url)
			got[strings.Fields(body)[0]]++
		}
		return got
	}
	if got := spread(3); got["a"] != 3 {
		t.Fatalf("before reload: %v", got)
	}
	if err := s.ReloadBackends(load(file(fmt.Sprintf("{address: %q}, {address: %q, weight: 2}", a.addr(), b.addr())))); err != nil {
		t.Fatal(err)
	}
	if got := spread(6); got["a"] != 2 || got["b"] != 4 {
		t.Errorf("after adding b (weight 2): %v", got)
	}
	if err := s.ReloadBackends(load(file(fmt.Sprintf("{address: %q}", b.addr())))); err != nil {
		t.Fatal(err)
	}
	if got := spread(3); got["b"] != 3 {
		t.Errorf("after removing a: %v", got)
	}
	// Changes that need a restart are reported and not applied.
	err := s.ReloadBackends(load(strings.Replace(file(fmt.Sprintf("{address: %q}", a.addr())), "- name: web", "- name: web\n    policy: least-connections", 1) + `
  - name: extra
    backends: [{address: "127.0.0.1:9"}]
`))
	if err == nil || !strings.Contains(err.Error(), "changing the policy") || !strings.Contains(err.Error(), `new upstream group "extra"`) {
		t.Errorf("err %v", err)
	}
	if got := spread(2); got["b"] != 2 {
		t.Errorf("a refused reload changed the backends: %v", got)
	}
}

func TestExampleConfigBuilds(t *testing.T) {
	cfg, err := config.Load(filepath.Join("..", "examples", "refproxy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := service.New(cfg, service.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Balancer("web") == nil || s.Balancer("api") == nil || s.Balancer("api").Policy() == s.Balancer("web").Policy() {
		t.Error("example groups missing or sharing a policy")
	}
}

func TestNewErrorsNameFields(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte(`
listeners:
  - address: 127.0.0.1:0
    protocol: https
    tls: {cert: /nonexistent.crt, key: /nonexistent.key}
routes: [{upstream: web}]
upstreams: [{name: web, backends: [{address: "127.0.0.1:9"}]}]
`), 0o600)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = service.New(cfg, service.Options{})
	if err == nil || !strings.Contains(err.Error(), "c.yaml:5: listeners[0].tls: tls: load certificate") {
		t.Errorf("err %v", err)
	}
}

// freePort returns a 127.0.0.1 address nothing listens on.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
