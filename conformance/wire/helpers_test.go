package wire

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

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

func newOrigin(t *testing.T) *Origin {
	t.Helper()
	o, err := NewOrigin("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = o.Close() })
	return o
}

// dial connects a Client to addr (in the origin tests the Client plays the proxy).
func dial(t *testing.T, addr, nonce string, labels ...string) *Client {
	t.Helper()
	c, err := Dial(context.Background(), addr, DialOptions{ID: 1, Nonce: nonce, Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

const testWait = 5 * time.Second // an upper bound, never reached when the code works

// waitFinal waits until c has read n final responses.
func waitFinal(t *testing.T, c *Client, n int) {
	t.Helper()
	if r := c.Wait(context.Background(), testWait, func(cc *ClientConn) bool { return len(cc.Final) >= n }); r != WaitDone {
		var got int
		c.Peek(func(cc *ClientConn) { got = len(cc.Final) })
		t.Fatalf("waiting for %d responses: %v after %d", n, r, got)
	}
}

// waitEOF waits until the peer closed c.
func waitEOF(t *testing.T, c *Client) {
	t.Helper()
	if r := c.Wait(context.Background(), testWait, func(*ClientConn) bool { return false }); r != WaitClosed {
		t.Fatalf("waiting for the peer to close: %v", r)
	}
}

// eventually polls cond until it holds (for states that have no observable signal on the wire).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func send(t *testing.T, c *Client, s string) {
	t.Helper()
	if err := c.Send([]byte(s)); err != nil {
		t.Fatal(err)
	}
}

// joined concatenates the data of the chunks going in dir.
func joined(chunks []Chunk, dir Dir) []byte {
	var b []byte
	for _, c := range chunks {
		if c.Dir == dir {
			b = append(b, c.Data...)
		}
	}
	return b
}

func labels(rs []*OriginRequest) []string {
	var l []string
	for _, r := range rs {
		l = append(l, r.Label)
	}
	return l
}

func statuses(rs []*Response) []int {
	var s []int
	for _, r := range rs {
		s = append(s, r.Status)
	}
	return s
}

func equalBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}
