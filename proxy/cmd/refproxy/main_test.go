package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestServe(t *testing.T) {
	origin := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hi "+r.Header.Get("Via"))
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go origin.Serve(ln)
	defer origin.Close()

	addrs, stop := startServe(t, 2, "-listen", "127.0.0.1:0", "-listen", "127.0.0.1:0", "-upstream", ln.Addr().String(),
		"-log-level", "debug", "-keepalive-max-requests", "10", "-range-filter")
	for _, a := range addrs {
		if b := getBody(t, a, "/"); b != "hi 1.1 refproxy" {
			t.Errorf("body %q", b)
		}
	}
	stop()
}

// startServe runs serve with args in the background, waits for its n "listening on ADDR" lines,
// and returns the addresses and a stop function that cancels serve and waits for it to return.
func startServe(t *testing.T, n int, args ...string) ([]string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, args, outW, io.Discard)
		outW.Close()
	}()
	sc := bufio.NewScanner(outR)
	var addrs []string
	for len(addrs) < n && sc.Scan() {
		addr, ok := strings.CutPrefix(sc.Text(), "listening on ")
		if !ok {
			cancel()
			t.Fatalf("unexpected output %q", sc.Text())
		}
		addrs = append(addrs, addr)
	}
	go io.Copy(io.Discard, outR)
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("serve did not stop")
		}
	}
	t.Cleanup(stop)
	return addrs, stop
}

// getBody GETs path from addr on a fresh connection and returns the body.
func getBody(t *testing.T, addr, path string) string {
	t.Helper()
	cl := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil}}
	defer cl.CloseIdleConnections()
	resp, err := cl.Get("http://" + addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestVersion(t *testing.T) {
	var out strings.Builder
	if err := serve(context.Background(), []string{"-version"}, &out, io.Discard); err != nil || out.Len() == 0 {
		t.Errorf("version: %q %v", out.String(), err)
	}
}

func TestServeErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-listen", "127.0.0.1:0"},
		{"-upstream", "127.0.0.1:1"},
		{"-listen", "127.0.0.1:0", "-upstream", "127.0.0.1:1", "extra"},
		{"-listen", "127.0.0.1:0", "-upstream", "127.0.0.1:1", "-log-level", "loud"},
		{"-listen", "nope", "-upstream", "127.0.0.1:1"},
		{"-no-such-flag"},
	} {
		if err := serve(context.Background(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}
