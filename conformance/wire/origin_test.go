package wire

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/proxyspec/proxyspec/corpus"
)

const (
	nA = "ps00000000aa"
	nB = "ps00000000bb"
)

func TestOriginPipelined(t *testing.T) {
	o := newOrigin(t)
	o.Register(nA, []corpus.Action{
		{Kind: corpus.Echo},
		{Kind: corpus.Echo},
		{Kind: corpus.Respond, Bytes: tpl("HTTP/1.1 201 Created\r\nX-Proxyspec-Label: {label}\r\nX-N: {nonce}\r\nContent-Length: 0\r\n\r\n")},
	}, corpus.Vars{Host: "h"})
	c := dial(t, o.Addr(), nA, "a", "b", "c")
	req := "GET /" + nA + "/a HTTP/1.1\r\nHost: h\r\n\r\n" +
		"HEAD /" + nA + "/b HTTP/1.1\r\nHost: h\r\n\r\n" +
		"POST /" + nA + "/c HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
	send(t, c, req)
	waitFinal(t, c, 3)
	views := o.Finish(nA)
	cc := c.Close()

	if diff := cmp.Diff([]int{200, 200, 201}, statuses(cc.Final)); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	equalBytes(t, "body of a", cc.Final[0].Body, []byte("echo "+nA+"/a\n"))
	equalBytes(t, "body of HEAD b", cc.Final[1].Body, nil)
	if cc.Final[1].Label != "b" || cc.Final[2].Label != "c" {
		t.Errorf("labels = %q, %q", cc.Final[1].Label, cc.Final[2].Label)
	}
	if v, _ := firstField(cc.Final[2].Fields, "X-N"); v != nA {
		t.Errorf("respond did not expand {nonce}: %q", v)
	}

	if len(views) != 1 {
		t.Fatalf("got %d origin connections, want 1", len(views))
	}
	v := views[0]
	if diff := cmp.Diff([]string{"a", "b", "c"}, labels(v.Requests)); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	for i, r := range v.Requests {
		if r.Index != i || r.Conn != v.ID {
			t.Errorf("request %d: Index %d Conn %d (conn ID %d)", i, r.Index, r.Conn, v.ID)
		}
	}
	c3 := v.Requests[2]
	if c3.Method != "POST" || c3.Framing != "length" || string(c3.Body) != "hello" || c3.BodyError != "" {
		t.Errorf("request c = %+v", c3)
	}
	if got, _ := firstField(c3.Fields, "content-length"); got != "5" {
		t.Errorf("Fields: Content-Length = %q", got)
	}
	equalBytes(t, "proxy>origin chunks", joined(v.Chunks, ProxyToOrigin), []byte(req))
	equalBytes(t, "origin>proxy chunks", joined(v.Chunks, OriginToProxy), cc.Received)
	var answers []byte
	for _, r := range v.Requests {
		answers = append(answers, r.Answer...)
	}
	equalBytes(t, "answers", answers, cc.Received)
}

func TestOriginBodies(t *testing.T) {
	tests := []struct {
		name      string
		body      string // after a head with Transfer-Encoding: chunked
		shutdown  bool   // half-close after sending: the body is cut short
		wantBody  string
		wantErr   string // prefix of BodyError, "" for none
		wantClose bool   // the origin closes after answering
	}{
		{name: "well-formed", body: "5\r\nhello\r\n0\r\n\r\n", wantBody: "hello"},
		{name: "bare LF tolerated", body: "5\nhello\n0\n\n", wantBody: "hello", wantErr: "malformed chunked body (tolerated)"},
		{name: "malformed", body: "5\r\nhelloXY0\r\n\r\n", wantBody: "hello", wantErr: "malformed chunked body (decoding stopped)", wantClose: true},
		{name: "cut short", body: "5\r\nhel", shutdown: true, wantBody: "hel", wantErr: "chunked body cut short"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrigin(t)
			o.Register(nA, nil, corpus.Vars{})
			c := dial(t, o.Addr(), nA, "a")
			send(t, c, "POST /"+nA+"/a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"+tt.body)
			switch {
			case tt.shutdown:
				if err := c.ShutdownWrite(); err != nil {
					t.Fatal(err)
				}
				waitEOF(t, c)
			case tt.wantClose:
				waitFinal(t, c, 1)
				waitEOF(t, c)
			default:
				waitFinal(t, c, 1)
			}
			views := o.Finish(nA)
			if len(views) != 1 || len(views[0].Requests) != 1 {
				t.Fatalf("views = %+v", views)
			}
			r := views[0].Requests[0]
			if string(r.Body) != tt.wantBody || !strings.HasPrefix(r.BodyError, tt.wantErr) || (tt.wantErr == "") != (r.BodyError == "") {
				t.Errorf("Body %q BodyError %q; want %q, %q", r.Body, r.BodyError, tt.wantBody, tt.wantErr)
			}
			if r.Framing != "chunked" || string(r.RawBody) != tt.body {
				t.Errorf("Framing %q RawBody %q", r.Framing, r.RawBody)
			}
			if tt.shutdown && !views[0].Closed {
				t.Errorf("Closed = false after the proxy closed")
			}
		})
	}
}

func TestOriginActions(t *testing.T) {
	const switching = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n"
	tests := []struct {
		name   string
		action corpus.Action
		check  func(t *testing.T, o *Origin, c *Client)
	}{
		{
			name:   "respond close",
			action: corpus.Action{Kind: corpus.Respond, CloseAfter: true, Bytes: tpl("HTTP/1.1 200 OK\r\n\r\nclose-delimited {label}")},
			check: func(t *testing.T, o *Origin, c *Client) {
				waitEOF(t, c)
				cc := c.Close()
				if len(cc.Final) != 1 || string(cc.Final[0].Body) != "close-delimited a" || !cc.Final[0].Complete {
					t.Errorf("Final = %+v", summarize(cc.Final))
				}
			},
		},
		{
			name:   "close",
			action: corpus.Action{Kind: corpus.Close},
			check: func(t *testing.T, o *Origin, c *Client) {
				waitEOF(t, c)
				if cc := c.Close(); len(cc.Received) != 0 {
					t.Errorf("Received %q, want nothing", cc.Received)
				}
			},
		},
		{
			name:   "hold",
			action: corpus.Action{Kind: corpus.Hold},
			check: func(t *testing.T, o *Origin, c *Client) {
				eventually(t, "the held request", func() bool {
					o.mu.Lock()
					defer o.mu.Unlock()
					return len(o.cases[nA].held) == 1
				})
				// A pipelined request on a held connection is recorded, not answered.
				send(t, c, "GET /"+nA+"/b HTTP/1.1\r\n\r\n")
				eventually(t, "the second request", func() bool {
					o.mu.Lock()
					defer o.mu.Unlock()
					for _, v := range o.cases[nA].views {
						return len(v.Requests) == 2
					}
					return false
				})
				views := o.Finish(nA) // releases the held connection
				waitEOF(t, c)
				if cc := c.Close(); len(cc.Received) != 0 {
					t.Errorf("Received %q, want nothing", cc.Received)
				}
				if len(views) != 1 || len(views[0].Requests) != 2 || views[0].Requests[0].Answer != nil {
					t.Errorf("views = %+v", views)
				}
			},
		},
		{
			name:   "tunnel",
			action: corpus.Action{Kind: corpus.Respond, Tunnel: true, Bytes: tpl(switching)},
			check: func(t *testing.T, o *Origin, c *Client) {
				waitFinal(t, c, 1)
				send(t, c, "ping\x00\xff")
				if r := c.Wait(t.Context(), testWait, func(cc *ClientConn) bool { return len(cc.Tunnel) == 6 }); r != WaitDone {
					t.Fatalf("tunnel echo: %v", r)
				}
				views := o.Finish(nA)
				cc := c.Close()
				equalBytes(t, "client Tunnel", cc.Tunnel, []byte("ping\x00\xff"))
				equalBytes(t, "client TunnelSent", cc.TunnelSent, []byte("ping\x00\xff"))
				equalBytes(t, "origin Tunnel", views[0].Tunnel, []byte("ping\x00\xff"))
				equalBytes(t, "origin>proxy", joined(views[0].Chunks, OriginToProxy), []byte(switching+"ping\x00\xff"))
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrigin(t)
			o.Register(nA, []corpus.Action{tt.action}, corpus.Vars{})
			c := dial(t, o.Addr(), nA, "a", "b")
			send(t, c, "GET /"+nA+"/a HTTP/1.1\r\nHost: h\r\n\r\n")
			tt.check(t, o, c)
		})
	}
}

func TestOriginStray(t *testing.T) {
	tests := []struct {
		name, send, stray string
	}{
		// Content-Length 3 but 5 body bytes: "lo" and what follows is not a request.
		{name: "leftover body", send: "POST /" + nA + "/a HTTP/1.1\r\nContent-Length: 3\r\n\r\nhello\r\n\r\n", stray: "lo\r\n\r\n"},
		{name: "leftover chunk", send: "GET /" + nA + "/a HTTP/1.1\r\n\r\n0\r\n\r\nGET /x HTTP/1.1\r\n\r\n", stray: "0\r\n\r\nGET /x HTTP/1.1\r\n\r\n"},
		{name: "binary", send: "GET /" + nA + "/a HTTP/1.1\r\n\r\n\x00\x01", stray: "\x00\x01"},
		{name: "not a request line", send: "GET /" + nA + "/a HTTP/1.1\r\n\r\nGET /y\r\n\r\n", stray: "GET /y\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrigin(t)
			o.Register(nA, nil, corpus.Vars{})
			c := dial(t, o.Addr(), nA, "a")
			send(t, c, tt.send)
			waitFinal(t, c, 1)
			waitEOF(t, c) // the origin closes after stray bytes
			views := o.Finish(nA)
			if len(views) != 1 {
				t.Fatalf("views = %+v", views)
			}
			equalBytes(t, "Stray", views[0].Stray, []byte(tt.stray))
			equalBytes(t, "proxy>origin", joined(views[0].Chunks, ProxyToOrigin), []byte(tt.send))
		})
	}
}

func TestOriginPendingAtFinish(t *testing.T) {
	o := newOrigin(t)
	o.Register(nA, nil, corpus.Vars{})
	c := dial(t, o.Addr(), nA, "a")
	send(t, c, "GET /"+nA+"/a HTTP/1.1\r\n\r\nGARB")
	waitFinal(t, c, 1)
	eventually(t, "the pending bytes", func() bool {
		o.mu.Lock()
		defer o.mu.Unlock()
		for cn := range o.cases[nA].views {
			return string(cn.in) == "GARB"
		}
		return false
	})
	views := o.Finish(nA)
	equalBytes(t, "Stray", views[0].Stray, []byte("GARB"))

	// A body still arriving when the case ends.
	o.Register(nB, nil, corpus.Vars{})
	send(t, c, "POST /"+nB+"/a HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc")
	eventually(t, "the partial body", func() bool {
		o.mu.Lock()
		defer o.mu.Unlock()
		for cn := range o.cases[nB].views {
			return string(cn.in) == "abc"
		}
		return false
	})
	views = o.Finish(nB)
	r := views[0].Requests[0]
	if string(r.Body) != "abc" || !strings.HasPrefix(r.BodyError, "body cut short (the case ended): 3 of 10") {
		t.Errorf("Body %q BodyError %q", r.Body, r.BodyError)
	}
}

// Two cases share one upstream connection; requests without a nonce are the last user's.
func TestOriginSharedConnection(t *testing.T) {
	o := newOrigin(t)
	o.Register(nA, []corpus.Action{{Kind: corpus.Respond, Bytes: tpl("HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")}}, corpus.Vars{})
	o.Register(nB, nil, corpus.Vars{})
	c := dial(t, o.Addr(), "")
	send(t, c, "GET /"+nA+"/probe-1 HTTP/1.1\r\n\r\n"+ // a probe consumes no action
		"GET /"+nA+"/a HTTP/1.1\r\n\r\n"+
		"GET /"+nB+"/a HTTP/1.1\r\n\r\n"+
		"GET /smuggled HTTP/1.1\r\n\r\n"+ // B used the connection last
		"GET /"+nA+"/b HTTP/1.1\r\n\r\n"+
		"GET /ps99999999ff/x HTTP/1.1\r\n\r\n"+ // unknown nonce
		"GET /nobody HTTP/1.1\r\n\r\n")
	waitFinal(t, c, 7)
	cc := c.Close()
	var wg sync.WaitGroup
	var va, vb []*OriginConn
	wg.Go(func() { va = o.Finish(nA) })
	wg.Go(func() { vb = o.Finish(nB) })
	wg.Wait()

	if diff := cmp.Diff([]int{200, 202, 200, 200, 200, 200, 200}, statuses(cc.Final)); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	wantLabels := []string{"probe-1", "", "a", "-", "b", "-", "-"}
	for i, r := range cc.Final {
		if i != 1 && r.Label != wantLabels[i] {
			t.Errorf("response %d label %q, want %q", i, r.Label, wantLabels[i])
		}
	}
	if len(va) != 1 || len(vb) != 1 {
		t.Fatalf("views: %d for A, %d for B", len(va), len(vb))
	}
	if diff := cmp.Diff([]string{"probe-1", "a", "b"}, labels(va[0].Requests)); diff != "" {
		t.Errorf("A labels (-want +got):\n%s", diff)
	}
	if !va[0].Requests[0].Probe {
		t.Errorf("probe-1 not marked Probe")
	}
	if diff := cmp.Diff([]string{"a", ""}, labels(vb[0].Requests)); diff != "" {
		t.Errorf("B labels (-want +got):\n%s", diff)
	}
	if got := vb[0].Requests[1].Target; got != "/smuggled" {
		t.Errorf("B's unlabeled request target %q", got)
	}
	var idx []int
	for _, r := range append(va[0].Requests, vb[0].Requests...) {
		idx = append(idx, r.Index)
	}
	if diff := cmp.Diff([]int{0, 1, 4, 2, 3}, idx); diff != "" {
		t.Errorf("indexes (-want +got):\n%s", diff)
	}
}

// Many cases run in parallel over a few shared connections; each sees only its own traffic.
func TestOriginParallelCases(t *testing.T) {
	o := newOrigin(t)
	const conns, cases = 4, 64
	pool := make(chan *Client, conns)
	for range conns {
		pool <- dial(t, o.Addr(), "")
	}
	var wg sync.WaitGroup
	for i := range cases {
		wg.Go(func() {
			nonce := fmt.Sprintf("ps%010x", i)
			o.Register(nonce, []corpus.Action{{Kind: corpus.Respond, Bytes: tpl("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n{nonce}")}}, corpus.Vars{})
			for _, label := range []string{"a", "b"} {
				c := <-pool
				var before int
				c.Peek(func(cc *ClientConn) { before = len(cc.Final) })
				if err := c.Send([]byte("POST /" + nonce + "/" + label + " HTTP/1.1\r\nContent-Length: 12\r\n\r\n" + nonce)); err != nil {
					t.Error(err)
				}
				waitFinal(t, c, before+1)
				c.Peek(func(cc *ClientConn) {
					want := nonce
					if label == "b" {
						want = "echo " + nonce + "/b\n"
					}
					if got := string(cc.Final[before].Body); got != want {
						t.Errorf("%s/%s got %q, want %q", nonce, label, got, want)
					}
				})
				pool <- c
			}
			views := o.Finish(nonce)
			var got []string
			for _, v := range views {
				for _, r := range v.Requests {
					got = append(got, r.Label)
					if string(r.Body) != nonce {
						t.Errorf("%s: body %q", nonce, r.Body)
					}
				}
				if len(v.Stray) != 0 {
					t.Errorf("%s: stray %q", nonce, v.Stray)
				}
			}
			if len(got) != 2 || got[0] == got[1] {
				t.Errorf("%s: labels %q", nonce, got)
			}
		})
	}
	wg.Wait()
}

func TestOriginCloseEndsEverything(t *testing.T) {
	o, err := NewOrigin("")
	if err != nil {
		t.Fatal(err)
	}
	o.Register(nA, []corpus.Action{{Kind: corpus.Hold}}, corpus.Vars{})
	c := dial(t, o.Addr(), nA, "a")
	send(t, c, "GET /"+nA+"/a HTTP/1.1\r\n\r\nGET /partial")
	eventually(t, "the held request", func() bool {
		o.mu.Lock()
		defer o.mu.Unlock()
		return len(o.cases[nA].held) == 1
	})
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	waitEOF(t, c)
	if views := o.Finish(nA); len(views) != 1 {
		t.Errorf("views after Close = %+v", views)
	}
}

// TestOriginContinue: a proxy that forwards "Expect: 100-continue" and holds the body back until
// it sees the 100 gets one, before the body; a scripted answer that starts with its own 100 is
// split, so the 100 is sent once.
func TestOriginContinue(t *testing.T) {
	tests := []struct {
		name    string
		actions []corpus.Action
		interim []int
		final   int
	}{
		{"echo", nil, []int{100}, 200},
		{"scripted 100 then final", []corpus.Action{{Kind: corpus.Respond, Bytes: tpl(
			"HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\nHTTP/1.1 201 Created\r\nX-Proxyspec-Label: {label}\r\nContent-Length: 0\r\n\r\n")}},
			[]int{100}, 201},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrigin(t)
			o.Register(nA, tt.actions, corpus.Vars{Host: "h"})
			c := dial(t, o.Addr(), nA, "a")
			send(t, c, "POST /"+nA+"/a HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
			// The body is held back until the 100 has arrived.
			eventually(t, "a 100 Continue before the body", func() bool {
				var got bool
				c.Peek(func(cc *ClientConn) { got = strings.HasPrefix(string(cc.Received), "HTTP/1.1 100 ") })
				return got
			})
			send(t, c, "hello")
			waitFinal(t, c, 1)
			views := o.Finish(nA)
			cc := c.Close()
			var interim []int
			for _, r := range cc.Final[0].Interim {
				interim = append(interim, r.Status)
			}
			if diff := cmp.Diff(tt.interim, interim); diff != "" {
				t.Errorf("interim statuses (-want +got):\n%s", diff)
			}
			if cc.Final[0].Status != tt.final {
				t.Errorf("final status %d, want %d", cc.Final[0].Status, tt.final)
			}
			if len(views) != 1 || string(views[0].Requests[0].Body) != "hello" {
				t.Fatalf("origin views %+v", views)
			}
			equalBytes(t, "answer = what was sent", views[0].Requests[0].Answer, cc.Received)
		})
	}
}
