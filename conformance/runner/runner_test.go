package runner

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/proxyspec/proxyspec/conformance/wire"
	"github.com/proxyspec/proxyspec/corpus"
)

// tpl builds a template from s, where {nonce}, {host}, {origin} and {label} are placeholders.
func tpl(s string) corpus.Template {
	var t corpus.Template
	for s != "" {
		i := strings.IndexByte(s, '{')
		j := strings.IndexByte(s, '}')
		if i < 0 || j < i {
			t = append(t, corpus.Segment{Lit: []byte(s)})
			break
		}
		if i > 0 {
			t = append(t, corpus.Segment{Lit: []byte(s[:i])})
		}
		t = append(t, corpus.Segment{Var: s[i+1 : j]})
		s = s[j+1:]
	}
	return t
}

func sendStep(s string) corpus.Step { return corpus.Step{Kind: corpus.Send, Bytes: tpl(s)} }

func newOrigin(t *testing.T) *wire.Origin {
	t.Helper()
	o, err := wire.NewOrigin("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = o.Close() })
	return o
}

// serve runs handle on every connection accepted on a fresh listener until the test ends.
func serve(t *testing.T, handle func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				handle(c)
			})
		}
	})
	return ln.Addr().String()
}

// relay is a byte-relay "proxy": every client connection gets its own upstream connection, and
// bytes are copied both ways unchanged, half-closes included.
func relay(t *testing.T, origin string) string {
	t.Helper()
	return serve(t, func(c net.Conn) {
		u, err := net.Dial("tcp", origin)
		if err != nil {
			return
		}
		defer u.Close()
		var wg sync.WaitGroup
		wg.Go(func() {
			_, _ = io.Copy(u, c)
			_ = u.(*net.TCPConn).CloseWrite()
		})
		_, _ = io.Copy(c, u)
		_ = c.(*net.TCPConn).CloseWrite()
		wg.Wait()
	})
}

func originLabels(t *wire.Transcript) []string {
	var l []string
	for _, oc := range t.Origin {
		for _, r := range oc.Requests {
			l = append(l, r.Label)
		}
	}
	return l
}

func finalLabels(cc *wire.ClientConn) []string {
	var l []string
	for _, r := range cc.Final {
		l = append(l, r.Label)
	}
	return l
}

func TestRunCaseEndToEnd(t *testing.T) {
	const get = "GET /{nonce}/a HTTP/1.1\r\nHost: {host}\r\n\r\n"
	tests := []struct {
		name  string
		c     corpus.Case
		check func(t *testing.T, tr *wire.Transcript)
	}{
		{
			name: "one request and the probe",
			c:    corpus.Case{Probe: true, Client: []corpus.Step{sendStep(get)}},
			check: func(t *testing.T, tr *wire.Transcript) {
				cc := tr.Client[0]
				if diff := cmp.Diff([]string{"a", "probe-1"}, finalLabels(cc)); diff != "" {
					t.Errorf("client labels (-want +got):\n%s", diff)
				}
				if cc.Probe == nil || cc.Probe.Label != "probe-1" || cc.Probe.Response == nil || cc.Probe.Response.Label != "probe-1" {
					t.Errorf("Probe = %+v", cc.Probe)
				}
				if diff := cmp.Diff([]string{"a", "probe-1"}, originLabels(tr)); diff != "" {
					t.Errorf("origin labels (-want +got):\n%s", diff)
				}
				if cc.Closed || cc.TimedOut {
					t.Errorf("Closed %v TimedOut %v", cc.Closed, cc.TimedOut)
				}
				if got := string(cc.Final[0].Body); got != "echo "+tr.Nonce+"/a\n" {
					t.Errorf("body %q", got)
				}
			},
		},
		{
			name: "pipelined with bodies, HEAD and a scripted answer",
			c: corpus.Case{Requests: []string{"a", "b", "c"}, Probe: true,
				Client: []corpus.Step{sendStep(
					"POST /{nonce}/a HTTP/1.1\r\nHost: {host}\r\nContent-Length: 5\r\n\r\nhello" +
						"HEAD /{nonce}/b HTTP/1.1\r\nHost: {host}\r\n\r\n" +
						"POST /{nonce}/c HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")},
				Origin: []corpus.Action{{Kind: corpus.Respond, Bytes: tpl("HTTP/1.1 201 Created\r\nX-Proxyspec-Label: {label}\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")}},
			},
			check: func(t *testing.T, tr *wire.Transcript) {
				cc := tr.Client[0]
				if diff := cmp.Diff([]string{"a", "b", "c", "probe-1"}, finalLabels(cc)); diff != "" {
					t.Errorf("client labels (-want +got):\n%s", diff)
				}
				if cc.Final[0].Status != 201 || string(cc.Final[0].Body) != "ok" || len(cc.Final[1].Body) != 0 {
					t.Errorf("responses %+v %+v", cc.Final[0], cc.Final[1])
				}
				if got := cc.Requests[1]; got.Method != "HEAD" || got.Label != "b" {
					t.Errorf("request b = %+v", got)
				}
				o := tr.Origin[0].Requests
				if string(o[0].Body) != "hello" || string(o[2].Body) != "abc" || o[2].Framing != "chunked" {
					t.Errorf("origin bodies %q %q", o[0].Body, o[2].Body)
				}
			},
		},
		{
			name: "split across a pause, await, second connection",
			c: corpus.Case{Requests: []string{"a", "b"}, Probe: true, Client: []corpus.Step{
				sendStep("GET /{nonce}/a HTTP/1.1\r\n"),
				{Kind: corpus.Pause, Pause: 20 * time.Millisecond},
				sendStep("Host: {host}\r\n\r\n"),
				{Kind: corpus.Await},
				{Kind: corpus.Connect},
				sendStep("GET /{nonce}/b HTTP/1.1\r\nHost: {host}\r\n\r\n"),
			}},
			check: func(t *testing.T, tr *wire.Transcript) {
				if len(tr.Client) != 2 {
					t.Fatalf("%d client connections", len(tr.Client))
				}
				if diff := cmp.Diff([]string{"a", "probe-1"}, finalLabels(tr.Client[0])); diff != "" {
					t.Errorf("conn 1 (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff([]string{"b", "probe-2"}, finalLabels(tr.Client[1])); diff != "" {
					t.Errorf("conn 2 (-want +got):\n%s", diff)
				}
				if tr.Client[1].ID != 2 || tr.Client[1].Probe.Label != "probe-2" {
					t.Errorf("conn 2 ID %d probe %+v", tr.Client[1].ID, tr.Client[1].Probe)
				}
				var parts int
				for _, ch := range tr.Client[0].Chunks {
					if ch.Dir == wire.ClientToProxy {
						parts++
					}
				}
				if parts != 3 { // two halves and the probe
					t.Errorf("%d writes on conn 1", parts)
				}
			},
		},
		{
			name: "origin closes: no probe",
			c: corpus.Case{Probe: true, Client: []corpus.Step{sendStep(get)},
				Origin: []corpus.Action{{Kind: corpus.Respond, CloseAfter: true, Bytes: tpl("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nbye")}}},
			check: func(t *testing.T, tr *wire.Transcript) {
				cc := tr.Client[0]
				if !cc.Closed || cc.Probe != nil || len(cc.Final) != 1 || string(cc.Final[0].Body) != "bye" || !cc.Final[0].Complete {
					t.Errorf("Closed %v Probe %+v Final %d", cc.Closed, cc.Probe, len(cc.Final))
				}
			},
		},
		{
			name: "upgrade and tunnel",
			c: corpus.Case{Probe: true, Client: []corpus.Step{
				sendStep("GET /{nonce}/a HTTP/1.1\r\nHost: {host}\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n"),
				{Kind: corpus.Await},
				sendStep("raw \x00 bytes"),
			}, Origin: []corpus.Action{{Kind: corpus.Respond, Tunnel: true, Bytes: tpl("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n")}}},
			check: func(t *testing.T, tr *wire.Transcript) {
				cc := tr.Client[0]
				if string(cc.Tunnel) != "raw \x00 bytes" || string(cc.TunnelSent) != "raw \x00 bytes" || cc.Probe != nil || cc.TimedOut {
					t.Errorf("Tunnel %q TunnelSent %q Probe %+v TimedOut %v", cc.Tunnel, cc.TunnelSent, cc.Probe, cc.TimedOut)
				}
				if string(tr.Origin[0].Tunnel) != "raw \x00 bytes" {
					t.Errorf("origin Tunnel %q", tr.Origin[0].Tunnel)
				}
			},
		},
		{
			name: "shutdown: no probe",
			c:    corpus.Case{Probe: true, Client: []corpus.Step{sendStep(get), {Kind: corpus.Shutdown}}},
			check: func(t *testing.T, tr *wire.Transcript) {
				cc := tr.Client[0]
				if cc.Probe != nil || len(cc.Final) != 1 || cc.TimedOut {
					t.Errorf("Probe %+v Final %d TimedOut %v", cc.Probe, len(cc.Final), cc.TimedOut)
				}
			},
		},
		{
			name: "smuggled request in a body reaches the origin",
			c: corpus.Case{Probe: false, Client: []corpus.Step{sendStep(
				"POST /{nonce}/a HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\n\r\nGET /{nonce}/smuggled HTTP/1.1\r\nHost: {host}\r\n\r\n")}},
			check: func(t *testing.T, tr *wire.Transcript) {
				if diff := cmp.Diff([]string{"a", "smuggled"}, originLabels(tr)); diff != "" {
					t.Errorf("origin labels (-want +got):\n%s", diff)
				}
				if got := len(tr.Client[0].Requests); got != 1 {
					t.Errorf("%d intended requests", got)
				}
			},
		},
	}
	o := newOrigin(t)
	targets := map[string]string{"direct": o.Addr(), "relay": relay(t, o.Addr())}
	const rd = 2 * time.Second
	cfg := Config{ReadDeadline: rd, Origin: o}
	for tname, addr := range targets {
		for _, tt := range tests {
			t.Run(tname+"/"+tt.name, func(t *testing.T) {
				c := tt.c
				tr := RunCase(t.Context(), cfg, Target{Name: tname, Addr: addr}, &c)
				if len(tr.Errors) != 0 {
					t.Fatalf("Errors: %q", tr.Errors)
				}
				if len(tr.Nonce) != 12 || !strings.HasPrefix(tr.Nonce, "ps") {
					t.Errorf("Nonce %q", tr.Nonce)
				}
				// A prompt target must never cost a read deadline.
				if tr.Duration > rd/2 {
					t.Errorf("Duration %v with a prompt target", tr.Duration)
				}
				tt.check(t, tr)
			})
		}
	}
}

func TestRunCaseTargetDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	cfg := Config{ReadDeadline: 2 * time.Second, Origin: newOrigin(t)}
	c := &corpus.Case{Probe: true, Client: []corpus.Step{sendStep("GET /{nonce}/a HTTP/1.1\r\n\r\n")}}
	tr := RunCase(t.Context(), cfg, Target{Addr: addr}, c)
	if len(tr.Errors) != 1 || !strings.HasPrefix(tr.Errors[0], "cannot connect to target "+addr+": ") {
		t.Errorf("Errors = %q", tr.Errors)
	}
	if tr.Duration > time.Second {
		t.Errorf("Duration %v", tr.Duration)
	}
}

func TestRunCaseCapabilityAddress(t *testing.T) {
	o := newOrigin(t)
	cfg := Config{ReadDeadline: 2 * time.Second, Origin: o}
	// The default address is down; the capability's override is the origin itself.
	tgt := Target{Addr: "127.0.0.1:1", Caps: map[string]string{"keepalive-limit-2": o.Addr(), "upgrade": ""}}
	c := &corpus.Case{Needs: []string{"upgrade", "keepalive-limit-2"}, Client: []corpus.Step{sendStep("GET /{nonce}/a HTTP/1.1\r\n\r\n")}}
	tr := RunCase(t.Context(), cfg, tgt, c)
	if len(tr.Errors) != 0 || len(tr.Client) != 1 || len(tr.Client[0].Final) != 1 {
		t.Errorf("Errors %q, client %+v", tr.Errors, tr.Client)
	}
}

func TestRunCaseSilentProxy(t *testing.T) {
	addr := serve(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	const rd = 300 * time.Millisecond
	cfg := Config{ReadDeadline: rd, Origin: newOrigin(t)}
	c := &corpus.Case{Probe: true, Requests: []string{"a"}, Client: []corpus.Step{
		sendStep("GET /{nonce}/a HTTP/1.1\r\n\r\n"),
		{Kind: corpus.Await},
	}}
	tr := RunCase(t.Context(), cfg, Target{Addr: addr}, c)
	if len(tr.Errors) != 0 {
		t.Errorf("Errors = %q (a silent proxy is not a harness error)", tr.Errors)
	}
	cc := tr.Client[0]
	if !cc.TimedOut || cc.Closed || cc.Probe != nil || len(cc.Final) != 0 {
		t.Errorf("TimedOut %v Closed %v Probe %+v Final %d", cc.TimedOut, cc.Closed, cc.Probe, len(cc.Final))
	}
	// The await and the final read share the deadline since the last action.
	if tr.Duration < rd || tr.Duration > 2*rd {
		t.Errorf("Duration %v, want about %v", tr.Duration, rd)
	}
}

// A proxy that trickles bytes forever keeps every read deadline from passing; the case bound ends it.
func TestRunCaseTricklingProxy(t *testing.T) {
	addr := serve(t, func(c net.Conn) {
		go func() { _, _ = io.Copy(io.Discard, c) }()
		_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\n\r\n"))
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for range tick.C {
			if _, err := c.Write([]byte("x")); err != nil {
				return
			}
		}
	})
	const rd = 100 * time.Millisecond
	cfg := Config{ReadDeadline: rd, Origin: newOrigin(t)}
	c := &corpus.Case{Probe: true, Client: []corpus.Step{sendStep("GET /{nonce}/a HTTP/1.1\r\n\r\n")}}
	tr := RunCase(t.Context(), cfg, Target{Addr: addr}, c)
	cc := tr.Client[0]
	if len(tr.Errors) != 0 || !cc.TimedOut || len(cc.Final) != 1 || cc.Final[0].Complete || cc.Final[0].Framing != "close" {
		t.Errorf("Errors %q TimedOut %v Final %d", tr.Errors, cc.TimedOut, len(cc.Final))
	}
	if tr.Duration > 10*rd {
		t.Errorf("Duration %v", tr.Duration)
	}
}

func TestRunCaseCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	c := &corpus.Case{Client: []corpus.Step{sendStep("GET /{nonce}/a HTTP/1.1\r\n\r\n")}}
	tr := RunCase(ctx, Config{Origin: newOrigin(t)}, Target{Addr: "127.0.0.1:1"}, c)
	if len(tr.Errors) != 1 || !strings.HasPrefix(tr.Errors[0], "run cancelled") {
		t.Errorf("Errors = %q", tr.Errors)
	}
}

func TestRunAll(t *testing.T) {
	o := newOrigin(t)
	addr := relay(t, o.Addr())
	cases := make([]*corpus.Case, 200)
	for i := range cases {
		cases[i] = &corpus.Case{Requests: []string{"a", "b"}, Probe: true, Client: []corpus.Step{sendStep(
			"POST /{nonce}/a HTTP/1.1\r\nHost: {host}\r\nContent-Length: 12\r\n\r\n{nonce}" +
				"GET /{nonce}/b HTTP/1.1\r\nHost: {host}\r\n\r\n")}}
	}
	var calls atomic.Int32
	seen := make([]atomic.Bool, len(cases))
	start := time.Now()
	out := RunAll(t.Context(), Config{Parallel: 16, Origin: o}, Target{Addr: addr, Host: "example.test"}, cases, func(i int, tr *wire.Transcript) {
		calls.Add(1)
		if seen[i].Swap(true) {
			t.Errorf("done called twice for %d", i)
		}
	})
	if calls.Load() != int32(len(cases)) {
		t.Errorf("done called %d times", calls.Load())
	}
	nonces := map[string]bool{}
	for i, tr := range out {
		if nonces[tr.Nonce] {
			t.Errorf("nonce %s reused", tr.Nonce)
		}
		nonces[tr.Nonce] = true
		if len(tr.Errors) != 0 {
			t.Errorf("case %d: %q", i, tr.Errors)
			continue
		}
		if diff := cmp.Diff([]string{"a", "b", "probe-1"}, originLabels(tr)); diff != "" {
			t.Errorf("case %d origin labels (-want +got):\n%s", i, diff)
		}
		if diff := cmp.Diff([]string{"a", "b", "probe-1"}, finalLabels(tr.Client[0])); diff != "" {
			t.Errorf("case %d client labels (-want +got):\n%s", i, diff)
		}
		if h, _ := fieldValue(tr.Origin[0].Requests[0].Fields, "Host"); h != "example.test" {
			t.Errorf("case %d: Host %q", i, h)
		}
		if got := string(tr.Origin[0].Requests[0].Body); got != tr.Nonce {
			t.Errorf("case %d: body %q", i, got)
		}
	}
	t.Logf("%d cases in %v", len(cases), time.Since(start))
}

func fieldValue(fs []wire.Field, name string) (string, bool) {
	for _, f := range fs {
		if strings.EqualFold(f.Name, name) {
			return f.Value, true
		}
	}
	return "", false
}

// A proxy that announces "Connection: close" and closes a moment later: the close is recorded even
// though no probe is sent.
func TestRunCaseDelayedClose(t *testing.T) {
	addr := serve(t, func(c net.Conn) {
		buf := make([]byte, 4096)
		_, _ = c.Read(buf)
		_, _ = c.Write([]byte("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"))
		time.Sleep(50 * time.Millisecond) // part of the scenario, not an oracle
	})
	cfg := Config{ReadDeadline: 2 * time.Second, Origin: newOrigin(t)}
	for _, probe := range []bool{false, true} {
		c := &corpus.Case{Probe: probe, Client: []corpus.Step{sendStep("GET /{nonce}/a HTTP/1.1\r\n\r\n")}}
		tr := RunCase(t.Context(), cfg, Target{Addr: addr}, c)
		cc := tr.Client[0]
		if !cc.Closed || cc.Reset || cc.Probe != nil || cc.TimedOut || len(tr.Errors) != 0 {
			t.Errorf("probe %v: Closed %v Reset %v Probe %+v TimedOut %v Errors %q", probe, cc.Closed, cc.Reset, cc.Probe, cc.TimedOut, tr.Errors)
		}
		if tr.Duration > time.Second {
			t.Errorf("probe %v: Duration %v", probe, tr.Duration)
		}
	}
}
