package admin

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestEndpoints(t *testing.T) {
	var ready atomic.Bool
	status := func() (bool, string) {
		if ready.Load() {
			return true, "ready\n"
		}
		return false, "not ready: waiting\n"
	}
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "m 1\n") })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := Start(ctx, "127.0.0.1:0", Handler(status, metrics), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	cl := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil}}
	get := func(method, path string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+s.Addr()+path, nil)
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, tc := range []struct {
		method, path string
		setReady     bool
		code         int
		body         string
	}{
		{"GET", "/healthz", false, 200, "ok\n"},
		{"GET", "/readyz", false, 503, "not ready: waiting\n"},
		{"GET", "/readyz", true, 200, "ready\n"},
		{"GET", "/metrics", true, 200, "m 1\n"},
		{"POST", "/healthz", true, 405, ""},
		{"GET", "/nothing", true, 404, ""},
	} {
		ready.Store(tc.setReady)
		code, body := get(tc.method, tc.path)
		if code != tc.code || tc.body != "" && body != tc.body {
			t.Errorf("%s %s: %d %q, want %d %q", tc.method, tc.path, code, body, tc.code, tc.body)
		}
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Get("http://" + s.Addr() + "/healthz"); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("after shutdown: %v", err)
	}
}

func TestStartError(t *testing.T) {
	if _, err := Start(context.Background(), "127.0.0.1:bad", Handler(nil, nil), nil); err == nil {
		t.Error("bad address accepted")
	}
}
