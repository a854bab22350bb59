package fuzz

import (
	"bytes"
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/proxyspec/proxyspec/conformance/judge"
	"github.com/proxyspec/proxyspec/conformance/runner"
	"github.com/proxyspec/proxyspec/conformance/targets"
	"github.com/proxyspec/proxyspec/conformance/wire"
	"github.com/proxyspec/proxyspec/corpus"
	"github.com/proxyspec/proxyspec/reports"
)

// target is the reference proxy (a process, as for any proxy) and the harness origin behind it,
// started once per fuzzing process. PROXYSPEC_FUZZ_TARGET and PROXYSPEC_FUZZ_ORIGIN point the
// fuzzer at another proxy instead.
var (
	setupOnce sync.Once
	setupErr  error
	origin    *wire.Origin
	tgt       runner.Target
)

func setup(tb testing.TB) {
	tb.Helper()
	setupOnce.Do(func() {
		addr := os.Getenv("PROXYSPEC_FUZZ_ORIGIN")
		if addr == "" {
			addr = "127.0.0.1:0"
		}
		origin, setupErr = wire.NewOrigin(addr)
		if setupErr != nil {
			return
		}
		if t := os.Getenv("PROXYSPEC_FUZZ_TARGET"); t != "" {
			tgt = runner.Target{Name: "external", Addr: t}
			return
		}
		var l *targets.Launched
		l, setupErr = targets.Launch(context.Background(), "refproxy", origin.Addr(), targets.Options{})
		if setupErr == nil {
			tgt = l.Target
		}
		// The process lives as long as the fuzzing worker; the OS reaps it with its group.
	})
	if setupErr != nil {
		tb.Fatalf("fuzz setup: %v", setupErr)
	}
}

// labelsIn finds the request labels /seedNonce/LABEL that data names, at most 6.
func labelsIn(data []byte) []string {
	var out []string
	marker := []byte("/" + seedNonce + "/")
	for rest := data; len(out) < 6; {
		i := bytes.Index(rest, marker)
		if i < 0 {
			break
		}
		rest = rest[i+len(marker):]
		n := 0
		for n < len(rest) && n < 16 && (rest[n] >= 'a' && rest[n] <= 'z' || n > 0 && (rest[n] >= '0' && rest[n] <= '9' || rest[n] == '_')) {
			n++
		}
		l := string(rest[:n])
		if n == 0 || len(l) >= 5 && l[:5] == "probe" {
			continue
		}
		dup := false
		for _, x := range out {
			dup = dup || x == l
		}
		if !dup {
			out = append(out, l)
		}
	}
	return out
}

// template turns fuzz bytes into a send template, the seed nonce becoming the run's nonce.
func template(data []byte) corpus.Template {
	var t corpus.Template
	for {
		i := bytes.Index(data, []byte(seedNonce))
		if i < 0 {
			t = append(t, corpus.Segment{Lit: data})
			return t
		}
		t = append(t, corpus.Segment{Lit: data[:i]}, corpus.Segment{Var: "nonce"})
		data = data[i+len(seedNonce):]
	}
}

// FuzzProxyNoDesync sends arbitrary bytes through the proxy and checks what holds for any input:
// every request reaching the origin is cleanly framed, every response is unambiguous, and the
// requests the origin saw are answered to the client one for one and in order. A proxy that
// disagrees with a clean re-framing of its own output, or leaves a response in the upstream
// connection, breaks the last property.
func FuzzProxyNoDesync(f *testing.F) {
	setup(f)
	for _, s := range clientSeeds(f, tgt.Addr) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 || len(data) > 8<<10 {
			return
		}
		labels := labelsIn(data)
		if len(labels) == 0 {
			return // nothing the origin could attribute; the proxy's own answers are not judged here
		}
		c := &corpus.Case{ID: "fuzz/input", Title: "fuzz input", Level: corpus.MAY, Requests: labels,
			Client: []corpus.Step{{Kind: corpus.Send, Bytes: template(data)}, {Kind: corpus.Shutdown}}}
		cfg := runner.Config{ReadDeadline: 150 * time.Millisecond, Origin: origin}
		tr := runner.RunCase(context.Background(), cfg, tgt, c)
		r := judge.Judge(c, tr)
		if r.Verdict == reports.Error {
			return
		}
		// The no-desync oracle pairs responses with the requests a case means to send; random
		// bytes mean nothing, so it is replaced below by the one-for-one label check, which needs
		// no intent. The framing oracles need none either.
		for _, fd := range r.Findings {
			if fd.Verdict == reports.Fail && fd.Oracle != judge.OracleDesync {
				t.Fatalf("%s: %s\n%s", fd.Oracle, fd.Message, evidence(r))
			}
		}
		// One for one, in order: the labels the client got back are the labels the origin saw.
		// Requests without the nonce cannot always be attributed (a fresh upstream connection
		// belongs to no case yet), so unlabelled ones are left out on both sides.
		var atOrigin, atClient []string
		for _, oc := range tr.Origin {
			for _, rq := range oc.Requests {
				if !rq.Probe && rq.Label != "" {
					atOrigin = append(atOrigin, rq.Label)
				}
			}
		}
		for _, cc := range tr.Client {
			for _, rsp := range cc.Final {
				if rsp.Label != "" && rsp.Label != "-" {
					atClient = append(atClient, rsp.Label)
				}
			}
		}
		if len(atClient) > len(atOrigin) || !equalPrefix(atOrigin, atClient) ||
			len(atOrigin) > len(atClient) && !tr.Client[0].Closed {
			t.Fatalf("origin saw %q, client got answers for %q\n%s", atOrigin, atClient, evidence(r))
		}
	})
}

func equalPrefix(long, short []string) bool {
	if len(short) > len(long) {
		return false
	}
	for i := range short {
		if long[i] != short[i] {
			return false
		}
	}
	return true
}

func evidence(r reports.CaseResult) string {
	var b bytes.Buffer
	for _, s := range r.Evidence.Streams {
		b.WriteString("== " + s.Conn + " " + s.Dir + " " + s.Note + "\n" + s.Data + "\n")
	}
	return b.String()
}
