package suite

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxyspec/proxyspec/conformance/runner"
	"github.com/proxyspec/proxyspec/conformance/wire"
	"github.com/proxyspec/proxyspec/corpus"
	"github.com/proxyspec/proxyspec/reports"
)

// The toy proxies below are deliberately broken, each the way a real proxy once was. The harness
// must report them FAIL with the evidence; if an oracle change stops that, these tests fail.

// toyProxy accepts client connections and hands each, with a fresh origin connection, to serve.
func toyProxy(t *testing.T, origin string, serve func(client, upstream net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", origin)
			if err != nil {
				c.Close()
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				defer u.Close()
				serve(c, u)
			}()
		}
	}()
	return ln.Addr().String()
}

// readHead reads a message head up to the empty line, returning the raw bytes.
func readHead(r *bufio.Reader) ([]byte, error) {
	var head []byte
	for {
		line, err := r.ReadBytes('\n')
		head = append(head, line...)
		if err != nil {
			return head, err
		}
		if len(line) <= 2 && strings.TrimSpace(string(line)) == "" {
			return head, nil
		}
	}
}

func headerValue(head []byte, name string) string {
	for _, l := range strings.Split(string(head), "\r\n") {
		if n, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(strings.TrimSpace(n), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// relayResponse copies one Content-Length-framed response from upstream to client.
func relayResponse(up *bufio.Reader, client net.Conn) error {
	head, err := readHead(up)
	if err != nil {
		return err
	}
	n, _ := strconv.Atoi(headerValue(head, "Content-Length"))
	body := make([]byte, n)
	if _, err := io.ReadFull(up, body); err != nil {
		return err
	}
	_, err = client.Write(append(head, body...))
	return err
}

// clOnlyProxy frames requests by Content-Length alone and relays the head as received, so a
// request with both Content-Length and Transfer-Encoding reaches the origin with both: CL.TE.
func clOnlyProxy(client, upstream net.Conn) {
	cr, ur := bufio.NewReader(client), bufio.NewReader(upstream)
	for {
		head, err := readHead(cr)
		if err != nil {
			return
		}
		n, _ := strconv.Atoi(headerValue(head, "Content-Length"))
		body := make([]byte, n)
		if _, err := io.ReadFull(cr, body); err != nil {
			return
		}
		if _, err := upstream.Write(append(head, body...)); err != nil {
			return
		}
		if relayResponse(ur, client) != nil {
			return
		}
	}
}

// upgradeTunnelProxy forwards requests and, once a request asks for an Upgrade, relays raw bytes
// both ways whatever the origin answers.
func upgradeTunnelProxy(client, upstream net.Conn) {
	cr, ur := bufio.NewReader(client), bufio.NewReader(upstream)
	for {
		head, err := readHead(cr)
		if err != nil {
			return
		}
		if _, err := upstream.Write(head); err != nil {
			return
		}
		if headerValue(head, "Upgrade") != "" {
			go io.Copy(client, ur)
			io.Copy(upstream, cr)
			return
		}
		if relayResponse(ur, client) != nil {
			return
		}
	}
}

const clteCase = `id: toy/cl-te
title: Content-Length and Transfer-Encoding disagree; a request hides in the body
rfc: RFC9112 6.1 "Regardless, the server MUST close the connection after responding to such a request"
level: MUST
expect reject: a=400 origin=none close
expect te-wins: a=2xx origin=a body.a="" close
-- client send --
POST /{nonce}/a HTTP/1.1
Host: {host}
Content-Length: 53
Transfer-Encoding: chunked

0

GET /{nonce}/smuggled HTTP/1.1
Host: x

-- origin echo --
`

const upgradeCase = `id: toy/upgrade-426
title: the origin refuses an upgrade with 426; the connection stays HTTP
rfc: RFC9110 7.8 "the server MUST send an Upgrade header field"
level: MUST
requests: a b
expect: a=426 b=400 origin=a
-- client send --
GET /{nonce}/a HTTP/1.1
Host: {host}
Upgrade: websocket
Connection: Upgrade

-- client await --
-- client send --
GET /{nonce}/b HTTP/1.1
Host: {host}
Bad-Name : 1

-- origin respond --
HTTP/1.1 426 Upgrade Required
Content-Length: 0
X-Proxyspec-Label: {label}

`

func TestToyProxiesAreCaught(t *testing.T) {
	tests := []struct {
		name     string
		proxy    func(client, upstream net.Conn)
		caseText string
		oracle   string
		evidence string // must appear in the evidence
	}{
		{"CL framing while forwarding TE", clOnlyProxy, clteCase, "no-desync", "/smuggled"},
		{"tunnel after any Upgrade request", upgradeTunnelProxy, upgradeCase, "expect", "Bad-Name : 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := corpus.Parse("cases/"+strings.SplitN(tt.caseText[4:], "\n", 2)[0]+".case", []byte(tt.caseText))
			require.NoError(t, err)
			origin, err := wire.NewOrigin("127.0.0.1:0")
			require.NoError(t, err)
			t.Cleanup(func() { origin.Close() })
			addr := toyProxy(t, origin.Addr(), tt.proxy)
			run, err := Run(context.Background(), Config{
				Cases:        []*corpus.Case{c},
				Target:       runner.Target{Name: "toy", Addr: addr},
				Origin:       origin,
				ReadDeadline: 500 * time.Millisecond,
			})
			require.NoError(t, err)
			require.Len(t, run.Cases, 1)
			r := run.Cases[0]
			t.Logf("%s: %s", r.Verdict, r.Reason)
			for _, f := range r.Findings {
				t.Logf("  %s [%s] %s", f.Verdict, f.Oracle, f.Message)
			}
			assert.Equal(t, reports.Fail, r.Verdict, "reason: %s", r.Reason)
			var oracles []string
			for _, f := range r.Findings {
				oracles = append(oracles, f.Oracle)
			}
			assert.Contains(t, oracles, tt.oracle)
			require.NotNil(t, r.Evidence)
			var all bytes.Buffer
			dirs := map[string]bool{}
			for _, s := range r.Evidence.Streams {
				all.WriteString(s.Data)
				dirs[s.Dir] = true
			}
			assert.Contains(t, all.String(), tt.evidence)
			assert.Len(t, dirs, 4, "all four byte streams are in the evidence")
		})
	}
}
