package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/proxyspec/proxyspec/proxy"
	"github.com/proxyspec/proxyspec/proxy/balance"
)

func TestRecording(t *testing.T) {
	m := New()
	for _, i := range []proxy.RequestInfo{
		{Listener: "pub", Route: "api", Status: 200, Duration: 3 * time.Millisecond, UpstreamWritePending: 2 * time.Millisecond, SentBody: true},
		{Listener: "pub", Route: "api", Status: 200, Duration: time.Millisecond},
		{Listener: "pub", Route: "", Status: 400},
	} {
		m.RequestDone(i)
	}
	m.ClientConnOpened("pub")
	m.ClientConnOpened("pub")
	m.ClientConnClosed("pub")
	m.UpstreamConnOpened("api", "127.0.0.1:1")
	m.PoolGet("api", "127.0.0.1:1", false)
	m.PoolGet("api", "127.0.0.1:1", true)
	m.PoolGet("api", "127.0.0.1:1", true)
	m.KeepAliveLimitClose("pub")
	m.Rejected("pub", proxy.RejectFraming)
	bal, _ := balance.New(balance.Config{StartDown: true}, []balance.Target{{Addr: "127.0.0.1:1", Weight: 3}})
	m.AddGroup("api", bal)
	m.AddReady(func() bool { return true })

	for _, tc := range []struct {
		name string
		got  float64
		want float64
	}{
		{"requests api 200", val(t, m.requests.WithLabelValues("pub", "api", "200")), 2},
		{"requests 400", val(t, m.requests.WithLabelValues("pub", "", "400")), 1},
		{"client conns", val(t, m.clientConns.WithLabelValues("pub")), 1},
		{"upstream conns", val(t, m.upstreamConns.WithLabelValues("api", "127.0.0.1:1")), 1},
		{"pool hits", val(t, m.poolHits.WithLabelValues("api", "127.0.0.1:1")), 2},
		{"pool misses", val(t, m.poolMisses.WithLabelValues("api", "127.0.0.1:1")), 1},
		{"keep-alive", val(t, m.keepAlive.WithLabelValues("pub")), 1},
		{"rejected", val(t, m.rejected.WithLabelValues("pub", "framing")), 1},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	// Only the request with a body observed write-pending time.
	ch := make(chan prometheus.Metric, 10)
	m.writePending.Collect(ch)
	if n := len(ch); n != 1 {
		t.Errorf("write-pending series: %d", n)
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`refproxy_upstream_write_pending_seconds_bucket{route="api",le="0.001"} 0`,
		`refproxy_upstream_write_pending_seconds_bucket{route="api",le="0.0025"} 1`,
		`refproxy_upstream_write_pending_seconds_bucket{route="api",le="10"} 1`,
		`refproxy_backend_healthy{backend="127.0.0.1:1",upstream="api"} 0`,
		`refproxy_backend_weight{backend="127.0.0.1:1",upstream="api"} 3`,
		`refproxy_ready 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
}

func TestHotPathDoesNotAllocate(t *testing.T) {
	m := New()
	info := proxy.RequestInfo{Listener: "pub", Route: "api", Status: 200, Duration: time.Millisecond, SentBody: true}
	m.RequestDone(info)
	m.PoolGet("api", "127.0.0.1:1", true)
	m.ClientConnOpened("pub")
	m.Rejected("pub", proxy.RejectLimit)
	n := testing.AllocsPerRun(200, func() {
		m.RequestDone(info)
		m.PoolGet("api", "127.0.0.1:1", true)
		m.ClientConnOpened("pub")
		m.ClientConnClosed("pub")
		m.Rejected("pub", proxy.RejectLimit)
	})
	if n != 0 {
		t.Errorf("%v allocations per request", n)
	}
}

// val reads a counter's or gauge's value.
func val(t *testing.T, m prometheus.Metric) float64 {
	t.Helper()
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		t.Fatal(err)
	}
	if d.Counter != nil {
		return d.Counter.GetValue()
	}
	return d.Gauge.GetValue()
}
