package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/proxyspec/proxyspec/proxy/internal/testpki"
)

// TestMain lets tests run this test binary as refproxy itself
// (REFPROXY_TEST_MAIN=1), so that signals reach a real process.
func TestMain(m *testing.M) {
	if os.Getenv("REFPROXY_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const timeout = 10 * time.Second

// proc is refproxy running as a child process.
type proc struct {
	cmd    *exec.Cmd
	lines  chan string
	stderr *syncBuffer
	done   chan error
}

// syncBuffer is a strings.Builder safe for a writer and readers at once.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startProc runs refproxy with args and waits for n "listening on" lines;
// it returns the admin address ("" if none) and the listener addresses.
func startProc(t *testing.T, n int, args ...string) (*proc, string, []string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "REFPROXY_TEST_MAIN=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, lines: make(chan string, 16), stderr: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		for range p.lines {
		}
	})
	var admin string
	var addrs []string
	deadline := time.After(timeout)
	for len(addrs) < n {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatalf("refproxy exited early; stderr:\n%s", p.stderr)
			}
			if a, ok := strings.CutPrefix(l, "listening on "); ok {
				addrs = append(addrs, a)
			} else if a, ok := strings.CutPrefix(l, "admin on "); ok {
				admin, _, _ = strings.Cut(a, " ")
			}
		case <-deadline:
			t.Fatalf("refproxy did not start; stderr:\n%s", p.stderr)
		}
	}
	return p, admin, addrs
}

// wait waits for the process to exit and returns its exit code.
func (p *proc) wait(t *testing.T) int {
	t.Helper()
	for range p.lines {
	}
	select {
	case err := <-p.done:
		if err != nil {
			if ee, ok := err.(*exec.ExitError); ok {
				return ee.ExitCode()
			}
			t.Fatal(err)
		}
		return 0
	case <-time.After(timeout):
		t.Fatal("refproxy did not exit")
		return -1
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// slowOrigin answers /slow only once release is closed; entered receives
// a value when a /slow request arrives.
func slowOrigin(t *testing.T) (addr string, entered chan struct{}, release chan struct{}) {
	t.Helper()
	entered, release = make(chan struct{}, 1), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			entered <- struct{}{}
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		}
		io.WriteString(w, "done "+r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	return strings.TrimPrefix(srv.URL, "http://"), entered, release
}

// TestSIGTERMGraceful: SIGTERM stops accepting; the request in flight
// finishes; the process exits 0.
func TestSIGTERMGraceful(t *testing.T) {
	origin, entered, release := slowOrigin(t)
	cfg := writeFile(t, "refproxy.yaml", fmt.Sprintf(`
admin: {address: "127.0.0.1:0"}
shutdown-timeout: 8s
listeners: [{address: "127.0.0.1:0"}]
routes: [{upstream: web}]
upstreams: [{name: web, backends: [{address: %q}]}]
`, origin))
	p, admin, addrs := startProc(t, 1, "-config", cfg)
	if admin == "" {
		t.Fatal("no admin address printed")
	}
	inflight := make(chan string, 1)
	go func() {
		c, err := net.DialTimeout("tcp", addrs[0], timeout)
		if err != nil {
			inflight <- err.Error()
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(timeout))
		io.WriteString(c, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
		b, _ := io.ReadAll(c)
		inflight <- string(b)
	}()
	select {
	case <-entered:
	case <-time.After(timeout):
		t.Fatal("slow request did not reach the origin")
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// New connections are refused once the listener is closed.
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addrs[0], timeout)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("listener still accepting after SIGTERM")
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	got := <-inflight
	if !strings.HasPrefix(got, "HTTP/1.1 200 OK\r\n") || !strings.HasSuffix(got, "done /slow") || !strings.Contains(got, "Connection: close\r\n") {
		t.Errorf("in-flight response lost or cut: %q", got)
	}
	if code := p.wait(t); code != 0 {
		t.Errorf("exit code %d, want 0; stderr:\n%s", code, p.stderr)
	}
}

// namedServer answers every request with its name.
func namedServer(t *testing.T, name string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, name) }))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// TestSIGHUPReloads: after SIGHUP new handshakes get the new certificate
// and the file's new backend set is in use; an invalid file changes
// nothing.
func TestSIGHUPReloads(t *testing.T) {
	dir := t.TempDir()
	ca := testpki.NewCA(t, "ca")
	cert, key := ca.Server(t, "first").Write(t, dir, "server")
	a, b := namedServer(t, "a"), namedServer(t, "b")
	file := func(backends string) string {
		return fmt.Sprintf(`
listeners:
  - address: 127.0.0.1:0
    protocol: https
    tls: {cert: %q, key: %q}
routes: [{upstream: web}]
upstreams: [{name: web, backends: [%s]}]
`, cert, key, backends)
	}
	cfg := writeFile(t, "refproxy.yaml", file(fmt.Sprintf("{address: %q}", a)))
	p, _, addrs := startProc(t, 1, "-config", cfg)
	tlsCfg := &tls.Config{RootCAs: ca.Pool(), ServerName: "127.0.0.1"}
	client := &http.Client{Timeout: timeout, Transport: &http.Transport{Proxy: nil, TLSClientConfig: tlsCfg, DisableKeepAlives: true}}
	// fetch returns the certificate name and the backend that answered.
	fetch := func() (string, string) {
		t.Helper()
		resp, err := client.Get("https://" + addrs[0] + "/")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.TLS.PeerCertificates[0].Subject.CommonName, string(body)
	}
	if cn, backend := fetch(); cn != "first" || backend != "a" {
		t.Fatalf("before reload: certificate %q, backend %q", cn, backend)
	}
	ca.Server(t, "second").Write(t, dir, "server")
	testpki.WriteFile(t, cfg, []byte(file(fmt.Sprintf("{address: %q}", b))))
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(timeout)
	for {
		cn, backend := fetch()
		if cn == "second" && backend == "b" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not reloaded after SIGHUP (certificate %q, backend %q); stderr:\n%s", cn, backend, p.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// An invalid file: logged, nothing changes.
	testpki.WriteFile(t, cfg, []byte("listeners: [{address: nope}]\n"))
	p.cmd.Process.Signal(syscall.SIGHUP)
	for !strings.Contains(p.stderr.String(), "configuration is invalid") {
		if time.Now().After(deadline) {
			t.Fatalf("invalid file not reported; stderr:\n%s", p.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if cn, backend := fetch(); cn != "second" || backend != "b" {
		t.Errorf("after an invalid reload: certificate %q, backend %q", cn, backend)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t); code != 0 {
		t.Errorf("exit code %d", code)
	}
	if !strings.Contains(p.stderr.String(), "tls reloaded") || !strings.Contains(p.stderr.String(), "backends updated") {
		t.Errorf("reload not logged:\n%s", p.stderr)
	}
}

func TestCheck(t *testing.T) {
	good := filepath.Join("..", "..", "examples", "refproxy.yaml")
	bad := writeFile(t, "bad.yaml", `
listeners:
  - address: 127.0.0.1:0
  - address: 127.0.0.1:0
    keepalive-max-requests: -1
routes: [{upstream: web}]
upstreams: [{name: web, backends: [{address: "127.0.0.1:9"}]}]
`)
	var out strings.Builder
	if err := serve(context.Background(), []string{"-check", good}, &out, io.Discard); err != nil {
		t.Fatalf("-check example: %v", err)
	}
	if !strings.Contains(out.String(), "ok") {
		t.Errorf("output %q", out.String())
	}
	err := serve(context.Background(), []string{"-check", bad}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "bad.yaml:5: listeners[1].keepalive-max-requests: must be >= 0") {
		t.Errorf("-check bad: %v", err)
	}
	// The binary exits non-zero.
	cmd := exec.Command(os.Args[0], "-check", bad)
	cmd.Env = append(os.Environ(), "REFPROXY_TEST_MAIN=1")
	msg, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() == 0 || !strings.Contains(string(msg), "listeners[1].keepalive-max-requests") {
		t.Errorf("refproxy -check bad: %v %q", err, msg)
	}
}

func TestConfigFlagErrors(t *testing.T) {
	cfg := writeFile(t, "c.yaml", `
listeners: [{address: "127.0.0.1:0"}]
routes: [{upstream: web}]
upstreams: [{name: web, backends: [{address: "127.0.0.1:9"}]}]
`)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-config", cfg, "-listen", "127.0.0.1:0"}, "-listen cannot be combined with -config"},
		{[]string{"-config", cfg, "-check", cfg}, "exclusive"},
		{[]string{"-config", filepath.Join(t.TempDir(), "none.yaml")}, "none.yaml"},
		{[]string{"-config", cfg, "-log-level", "loud"}, "-log-level"},
	} {
		err := serve(context.Background(), tc.args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err %v, want %q", tc.args, err, tc.want)
		}
	}
}

// TestConfigInProcess runs -config in this process until its context ends.
func TestConfigInProcess(t *testing.T) {
	origin, _, _ := slowOrigin(t)
	cfg := writeFile(t, "c.yaml", fmt.Sprintf(`
listeners:
  - {name: a, address: "127.0.0.1:0", keepalive-max-requests: 1}
  - {name: b, address: "127.0.0.1:0"}
routes: [{upstream: web}]
upstreams: [{name: web, backends: [{address: %q}]}]
`, origin))
	addrs, stop := startServe(t, 2, "-config", cfg, "-shutdown-timeout", "2s", "-log-level", "debug")
	for _, a := range addrs {
		if b := getBody(t, a, "/x"); b != "done /x" {
			t.Errorf("body %q", b)
		}
	}
	stop()
}
