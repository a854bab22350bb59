package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const minimal = `
listeners:
  - address: 127.0.0.1:0
routes:
  - upstream: web
upstreams:
  - name: web
    backends:
      - address: 127.0.0.1:9000
`

func TestExampleConfig(t *testing.T) {
	c, err := Load(filepath.Join("..", "examples", "refproxy.yaml"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(c.Listeners) != 2 || c.Listeners[0].KeepAliveMaxRequests != 1000 || c.Listeners[1].KeepAliveMaxRequests != 100 {
		t.Errorf("listeners: %+v", c.Listeners)
	}
	if c.Listeners[1].Protocol != "http" || c.Listeners[0].Timeouts.HeaderRead.D() != 10*time.Second {
		t.Errorf("listener defaults/values: %+v", c.Listeners)
	}
	if len(c.Upstreams) != 2 {
		t.Fatalf("upstreams: %+v", c.Upstreams)
	}
	web, api := c.Upstreams[0], c.Upstreams[1]
	if web.Policy == api.Policy {
		t.Errorf("the example's two groups share policy %q", web.Policy)
	}
	if api.Policy != PolicyKetama || api.HashKey != (HashKey{Kind: HashHeader, Name: "X-User-ID"}) {
		t.Errorf("api group: %+v", api)
	}
	if *web.Backends[0].Weight != 3 || *web.Backends[1].Weight != 1 {
		t.Errorf("weights: %d %d", *web.Backends[0].Weight, *web.Backends[1].Weight)
	}
	if web.HealthCheck == nil || web.HealthCheck.Path != "/healthz" || web.HealthCheck.UnhealthyThreshold != 3 {
		t.Errorf("health check: %+v", web.HealthCheck)
	}
	if *api.Pool.MaxIdle != 16 || api.Pool.IdleTimeout.D() != DefaultPoolIdleTimeout {
		t.Errorf("api pool: %+v", api.Pool)
	}
	if c.Admin == nil || c.Admin.Address != "127.0.0.1:9901" || c.Readiness.GracePeriod.D() != 30*time.Second {
		t.Errorf("admin/readiness: %+v %+v", c.Admin, c.Readiness)
	}
	if len(c.Routes) != 3 || c.Routes[1].Host != "static.example" || !c.Routes[1].RangeFilter {
		t.Errorf("routes: %+v", c.Routes)
	}
}

// TestAllExamplesLoad loads every file in proxy/examples.
func TestAllExamplesLoad(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "examples", "*.yaml"))
	if err != nil || len(files) < 2 {
		t.Fatalf("examples: %v %v", files, err)
	}
	for _, f := range files {
		if _, err := Load(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestDefaults(t *testing.T) {
	c, err := Parse("min.yaml", []byte(minimal+`
    health-check: {}
`))
	if err != nil {
		t.Fatal(err)
	}
	l, u := c.Listeners[0], c.Upstreams[0]
	if l.Name != "listener-0" || l.Protocol != "http" || c.Routes[0].Name != "route-0" {
		t.Errorf("names/protocol: %+v %+v", l, c.Routes[0])
	}
	if u.Policy != PolicyRoundRobin || *u.Backends[0].Weight != 1 || *u.Pool.MaxIdle != DefaultMaxIdle {
		t.Errorf("upstream defaults: %+v", u)
	}
	h := u.HealthCheck
	if h.Path != "/" || h.Interval.D() != 5*time.Second || h.Timeout.D() != time.Second || h.HealthyThreshold != 2 || h.UnhealthyThreshold != 3 {
		t.Errorf("health defaults: %+v", h)
	}
	if c.Readiness.GracePeriod.D() != DefaultGracePeriod || c.ShutdownTimeout.D() != DefaultShutdownTimeout || c.LogLevel != "info" {
		t.Errorf("top-level defaults: %+v", c)
	}
}

func TestExplicitZeroes(t *testing.T) {
	c, err := Parse("z.yaml", []byte(`
readiness: {grace-period: 0s}
listeners: [{address: "127.0.0.1:0"}]
routes: [{upstream: web}]
upstreams:
  - name: web
    backends: [{address: "127.0.0.1:9000"}]
    pool: {max-idle: 0}
`))
	if err != nil {
		t.Fatal(err)
	}
	if *c.Upstreams[0].Pool.MaxIdle != 0 || *c.Readiness.GracePeriod != 0 {
		t.Errorf("explicit zeroes lost: max-idle %d, grace %v", *c.Upstreams[0].Pool.MaxIdle, *c.Readiness.GracePeriod)
	}
}

func TestTLSClientAuthDefault(t *testing.T) {
	c, err := Parse("t.yaml", []byte(`
listeners:
  - address: 127.0.0.1:0
    protocol: https
    tls: {cert: c.pem, key: k.pem, client-ca: ca.pem}
  - address: 127.0.0.1:0
    protocol: https
    tls: {cert: c.pem, key: k.pem}
routes: [{upstream: web}]
upstreams: [{name: web, backends: [{address: "127.0.0.1:9000"}]}]
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Listeners[0].TLS.ClientAuth; got != ClientAuthRequired {
		t.Errorf("client-auth with a CA: %q", got)
	}
	if got := c.Listeners[1].TLS.ClientAuth; got != ClientAuthNone {
		t.Errorf("client-auth without a CA: %q", got)
	}
}

// TestErrors checks that every invalid value is reported with its field
// path and line.
func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		want []string // substrings, one per expected error, in order
	}{
		{"negative keep-alive", `
listeners:
  - address: 127.0.0.1:0
  - address: 127.0.0.1:0
    keepalive-max-requests: -1
routes: [{upstream: web}]
upstreams: [{name: web, backends: [{address: "127.0.0.1:9000"}]}]
`, []string{"x.yaml:5: listeners[1].keepalive-max-requests: must be >= 0"}},
		{"unknown field", `
listeners:
  - address: 127.0.0.1:0
    keepalive: 3
routes: [{upstream: web}]
upstreams: [{name: web, backends: [{address: "127.0.0.1:9000"}]}]
`, []string{"x.yaml:4: listeners[0].keepalive: unknown field"}},
		{"wrong type", `
listeners:
  - address: 127.0.0.1:0
    keepalive-max-requests: lots
routes: [{upstream: web}]
upstreams: [{name: web, backends: [{address: "127.0.0.1:9000"}]}]
`, []string{`x.yaml:4: listeners[0].keepalive-max-requests: want an integer, got str "lots"`}},
		{"bad duration", `
listeners:
  - address: 127.0.0.1:0
    timeouts:
      idle: 5
routes: [{upstream: web}]
upstreams: [{name: web, backends: [{address: "127.0.0.1:9000"}]}]
`, []string{`x.yaml:5: listeners[0].timeouts.idle: invalid duration "5"`}},
		{"syntax", "listeners:\n  - address: [\n", []string{"x.yaml:2: did not find expected node content"}},
		{"empty", "", []string{"empty configuration"}},
		{"nothing", "log-level: debug\n", []string{
			"listeners: at least one listener",
			"routes: at least one route",
			"upstreams: at least one upstream group",
		}},
		{"listener problems", `
listeners:
  - name: a
    address: 127.0.0.1
    protocol: h2
    limits: {max-head-bytes: 2000000, max-fields: -1}
    timeouts: {write: -1s}
  - name: a
    address: 127.0.0.1:8080
    protocol: https
  - address: 127.0.0.1:8080
    tls: {cert: c, key: k}
routes: [{upstream: web}]
upstreams: [{name: web, backends: [{address: "127.0.0.1:9000"}]}]
`, []string{
			`x.yaml:4: listeners[0].address: "127.0.0.1" is not host:port`,
			`x.yaml:5: listeners[0].protocol: must be http or https`,
			`x.yaml:6: listeners[0].limits.max-head-bytes: must be at most 1048576`,
			`x.yaml:6: listeners[0].limits.max-fields: must be >= 0`,
			`x.yaml:7: listeners[0].timeouts.write: must be >= 0`,
			`x.yaml:8: listeners[1].name: duplicate name "a"`,
			`x.yaml:8: listeners[1].tls: required for protocol https`,
			`x.yaml:11: listeners[2].address: duplicate address`,
			`x.yaml:12: listeners[2].tls: only for protocol https`,
		}},
		{"target over head", `
listeners: [{address: "127.0.0.1:0", limits: {max-head-bytes: 4096}}]
routes: [{upstream: web}]
upstreams: [{name: web, backends: [{address: "127.0.0.1:9000"}]}]
`, []string{"listeners[0].limits.max-target-bytes: must be below max-head-bytes (4096)"}},
		{"tls problems", `
listeners:
  - address: 127.0.0.1:0
    protocol: https
    tls:
      client-auth: sometimes
  - address: 127.0.0.1:0
    protocol: https
    tls: {cert: c, key: k, client-auth: required}
routes: [{upstream: web}]
upstreams: [{name: web, backends: [{address: "127.0.0.1:9000"}]}]
`, []string{
			"listeners[0].tls.cert: required",
			"listeners[0].tls.key: required",
			"x.yaml:6: listeners[0].tls.client-auth: must be none, optional or required",
			"x.yaml:9: listeners[1].tls.client-ca: required with client-auth required",
		}},
		{"upstream problems", `
listeners: [{address: "127.0.0.1:0"}]
routes: [{upstream: web}]
upstreams:
  - name: web
    policy: random
    backends: []
  - name: web
    policy: ketama
    backends:
      - address: 127.0.0.1:0
      - address: 127.0.0.1:9000
        weight: 0
      - address: 127.0.0.1:9000
    pool: {max-idle: -2}
  - name: "a b"
    hash-key: path
    backends: [{address: "127.0.0.1:9000"}]
    health-check: {path: healthz, interval: 1s, timeout: 2s}
`, []string{
			"x.yaml:6: upstreams[0].policy: must be round-robin, least-connections or ketama",
			"x.yaml:7: upstreams[0].backends: at least one backend",
			`x.yaml:8: upstreams[1].name: duplicate name "web"`,
			"x.yaml:8: upstreams[1].hash-key: required with policy ketama",
			`x.yaml:11: upstreams[1].backends[0].address: "127.0.0.1:0": port must be a number from 1 to 65535`,
			"x.yaml:13: upstreams[1].backends[1].weight: must be 1 to 1000",
			`x.yaml:14: upstreams[1].backends[2].address: duplicate backend "127.0.0.1:9000"`,
			"x.yaml:15: upstreams[1].pool.max-idle: must be >= 0",
			`x.yaml:16: upstreams[2].name: "a b": use letters`,
			"x.yaml:17: upstreams[2].hash-key: only used by policy ketama",
			"x.yaml:19: upstreams[2].health-check.path: must be an origin-form path",
			"x.yaml:19: upstreams[2].health-check.timeout: must be at most the interval (1s)",
		}},
		{"bad hash key", `
listeners: [{address: "127.0.0.1:0"}]
routes: [{upstream: web}]
upstreams:
  - name: web
    policy: ketama
    hash-key: header
    backends: [{address: "127.0.0.1:9000"}]
`, []string{"x.yaml:7: upstreams[0].hash-key: header needs a name"}},
		{"route problems", `
listeners: [{address: "127.0.0.1:0"}]
routes:
  - name: r
    upstream: nope
  - name: r
    host: "a/b"
    path-prefix: api
upstreams: [{name: web, backends: [{address: "127.0.0.1:9000"}]}]
`, []string{
			`x.yaml:5: routes[0].upstream: no upstream group named "nope"`,
			`x.yaml:6: routes[1].name: duplicate name "r"`,
			`x.yaml:7: routes[1].host: invalid host "a/b"`,
			`x.yaml:8: routes[1].path-prefix: must start with '/'`,
			`x.yaml:6: routes[1].upstream: required`,
		}},
		{"top level", minimal + `
admin: {address: "localhost"}
readiness: {grace-period: -1s}
log-level: loud
`, []string{
			"admin.address:",
			"readiness.grace-period: must be >= 0",
			`log-level: must be one of debug, info, warn, error; got "loud"`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(tc.yaml))
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("err %v (%T), want Errors", err, err)
			}
			msgs := make([]string, len(es))
			for i, e := range es {
				msgs[i] = e.Error()
			}
			for _, w := range tc.want {
				if !containsAny(msgs, w) {
					t.Errorf("missing error %q in:\n%s", w, strings.Join(msgs, "\n"))
				}
			}
			if len(es) != len(tc.want) {
				t.Errorf("%d errors, want %d:\n%s", len(es), len(tc.want), strings.Join(msgs, "\n"))
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "none.yaml"))
	if err == nil || !strings.Contains(err.Error(), "none.yaml") {
		t.Errorf("err %v", err)
	}
}

func TestLoadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, []byte(minimal), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.File() != path || c.Line("upstreams[0].backends[0].address") != 9 {
		t.Errorf("file %q, line %d", c.File(), c.Line("upstreams[0].backends[0].address"))
	}
	if e := c.Errorf("upstreams[0].backends[0].nothing", "boom"); e.Line != 9 || !strings.HasSuffix(e.Error(), "upstreams[0].backends[0].nothing: boom") {
		t.Errorf("Errorf: %v (line %d)", e, e.Line)
	}
}

func TestParseHashKey(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want HashKey
		ok   bool
	}{
		{"header:X-User", HashKey{HashHeader, "X-User"}, true},
		{"cookie:sid", HashKey{HashCookie, "sid"}, true},
		{"client-address", HashKey{Kind: HashClientAddress}, true},
		{"path", HashKey{Kind: HashPath}, true},
		{"header:", HashKey{}, false},
		{"header:a b", HashKey{}, false},
		{"path:x", HashKey{}, false},
		{"query", HashKey{}, false},
	} {
		got, err := ParseHashKey(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("%q: %+v %v", tc.in, got, err)
		}
		if tc.ok && got.String() != tc.in {
			t.Errorf("%q: String %q", tc.in, got.String())
		}
	}
}

func containsAny(msgs []string, w string) bool {
	for _, m := range msgs {
		if strings.Contains(m, w) {
			return true
		}
	}
	return false
}
