// Package runner runs corpus cases against a target proxy: each case gets its own nonce and its own
// client connections, the shared recording origin answers by the case's script, and every case is
// bounded in time. It produces transcripts; judging them is the judge's job.
package runner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/proxyspec/proxyspec/conformance/wire"
	"github.com/proxyspec/proxyspec/corpus"
)

// Target is the proxy under test.
type Target struct {
	Name string
	Addr string // host:port the harness client dials
	Host string // authority for {host}; "" = the dialed address
	// Caps maps each capability the target has to an address override ("" = Addr). Whether a case
	// runs at all (SKIP when a capability in Needs is absent) is decided by the caller.
	Caps map[string]string
}

// Config configures a run.
type Config struct {
	ReadDeadline time.Duration // how long to wait for bytes that are due; default 2s
	Parallel     int           // cases run at once by RunAll; default 16
	Origin       *wire.Origin  // the recording origin the target forwards to; required
}

const (
	DefaultReadDeadline = 2 * time.Second
	DefaultParallel     = 16
)

func (c Config) deadline() time.Duration {
	if c.ReadDeadline > 0 {
		return c.ReadDeadline
	}
	return DefaultReadDeadline
}

// NewNonce returns "ps" and 10 random lowercase hex digits (always 12 bytes).
func NewNonce() string {
	var b [5]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return "ps" + hex.EncodeToString(b[:])
}

// AddrFor returns the address a case is run against: the override of the first capability in c.Needs
// that has one in t.Caps, else t.Addr.
func (t Target) AddrFor(c *corpus.Case) string {
	for _, n := range c.Needs {
		if a := t.Caps[n]; a != "" {
			return a
		}
	}
	return t.Addr
}

// RunAll runs cases with at most cfg.Parallel at once and returns their transcripts, indexed like
// cases. done, if not nil, is called as each case finishes, with its index and transcript; it is
// called from the worker goroutines, so calls may be concurrent and in any order, and the run does
// not proceed on that worker until done returns. If ctx is cancelled the remaining cases still get
// a transcript (with an Errors entry) quickly.
func RunAll(ctx context.Context, cfg Config, target Target, cases []*corpus.Case, done func(i int, t *wire.Transcript)) []*wire.Transcript {
	out := make([]*wire.Transcript, len(cases))
	n := cfg.Parallel
	if n <= 0 {
		n = DefaultParallel
	}
	n = min(n, len(cases))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				t := RunCase(ctx, cfg, target, cases[i])
				out[i] = t
				if done != nil {
					done(i, t)
				}
			}
		}()
	}
	for i := range cases {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return out
}

// run is the state of one case run.
type run struct {
	cfg     Config
	c       *corpus.Case
	nonce   string
	vars    corpus.Vars
	addr    string
	labels  []string
	start   time.Time
	rd      time.Duration
	parent  context.Context
	ctx     context.Context // parent, bounded per case
	clients []*client
	t       *wire.Transcript
	stopped bool // the case cannot go on (connect failure, timeout)
}

type client struct {
	*wire.Client
	awaited int // final responses consumed by await steps
	probe   *wire.Probe
}

// RunCase runs one case and returns what both sides saw. It never panics on what the proxy does
// and never blocks longer than its own bound (about (awaits + sends + 3×connections + 2) ×
// ReadDeadline plus the pauses); a proxy that stays silent is recorded as TimedOut, not as an error.
func RunCase(ctx context.Context, cfg Config, target Target, c *corpus.Case) *wire.Transcript {
	r := &run{cfg: cfg, c: c, nonce: NewNonce(), rd: cfg.deadline(), start: time.Now()}
	r.t = &wire.Transcript{Nonce: r.nonce}
	defer func() { r.t.Duration = time.Since(r.start) }()
	if cfg.Origin == nil {
		r.t.Errors = append(r.t.Errors, "no origin configured")
		return r.t
	}
	if err := ctx.Err(); err != nil {
		r.t.Errors = append(r.t.Errors, "run cancelled: "+err.Error())
		return r.t
	}
	r.addr = target.AddrFor(c)
	host := target.Host
	if host == "" {
		host = r.addr
	}
	r.vars = corpus.Vars{Nonce: r.nonce, Host: host, Origin: cfg.Origin.Addr()}
	r.t.Host, r.t.OriginAt = host, r.vars.Origin
	r.labels = c.Requests
	if len(r.labels) == 0 {
		r.labels = []string{"a"}
	}

	var cancel context.CancelFunc
	r.parent = ctx
	r.ctx, cancel = context.WithTimeout(ctx, r.budget())
	defer cancel()

	cfg.Origin.RegisterAt(r.nonce, r.start, c.Origin, r.vars)
	r.steps()
	r.drain()
	r.closes()
	r.probes()
	for _, cl := range r.clients {
		cc := cl.Close()
		if cl.probe != nil {
			if i := slices.IndexFunc(cc.Requests, func(q wire.SentRequest) bool { return q.Label == cl.probe.Label }); i >= 0 && i < len(cc.Final) {
				cl.probe.Response = cc.Final[i]
			}
			cc.Probe = cl.probe
		}
		r.t.Client = append(r.t.Client, cc)
	}
	r.t.Origin = cfg.Origin.Finish(r.nonce)
	return r.t
}

// budget bounds the whole case: every wait may take a read deadline (per connection: drain,
// close, probe; plus each await, send and dial), plus the pauses.
func (r *run) budget() time.Duration {
	waits, conns := 0, 1
	var pauses time.Duration
	for _, s := range r.c.Client {
		switch s.Kind {
		case corpus.Await, corpus.Send: // a send may block until its write deadline
			waits++
		case corpus.Connect:
			conns++
		case corpus.Pause:
			pauses += s.Pause
		}
	}
	return time.Duration(waits+3*conns+2)*r.rd + pauses
}

// stop ends the case early because its context is done. If the run was cancelled, or the bound
// passed while the harness itself was busy (dialing, pausing), that is an error; if it passed while
// waiting for the proxy on cl (a proxy trickling bytes keeps each read deadline from passing), the
// connection is marked TimedOut instead: a slow proxy is a finding, not a harness failure.
func (r *run) stop(cl *client) {
	if r.stopped {
		return
	}
	r.stopped = true
	switch {
	case r.parent.Err() != nil:
		r.t.Errors = append(r.t.Errors, "run cancelled: "+r.parent.Err().Error())
	case cl != nil:
		cl.MarkTimedOut()
	default:
		r.t.Errors = append(r.t.Errors, "case timed out")
	}
}

// wait waits on cl until cond holds, it ended, or the read deadline passed since its last byte or
// action; with markIdle, the latter sets TimedOut.
func (r *run) wait(cl *client, markIdle bool, cond func(*wire.ClientConn) bool) {
	switch cl.Wait(r.ctx, r.rd, cond) {
	case wire.WaitIdle:
		if markIdle {
			cl.MarkTimedOut()
		}
	case wire.WaitCanceled:
		r.stop(cl)
	}
}

func (r *run) current() *client {
	if len(r.clients) == 0 {
		return nil
	}
	return r.clients[len(r.clients)-1]
}

// connect opens a new client connection; a failure stops the case with a target error.
func (r *run) connect() *client {
	dctx, cancel := context.WithTimeout(r.ctx, r.rd)
	defer cancel()
	wc, err := wire.Dial(dctx, r.addr, wire.DialOptions{
		ID:           len(r.clients) + 1,
		Start:        r.start,
		Nonce:        r.nonce,
		Labels:       r.labels,
		WriteTimeout: r.rd,
	})
	if err != nil {
		r.stopped = true
		r.t.Errors = append(r.t.Errors, fmt.Sprintf("cannot connect to target %s: %v", r.addr, err))
		return nil
	}
	cl := &client{Client: wc}
	r.clients = append(r.clients, cl)
	return cl
}

// conn returns the current connection, opening the first one implicitly.
func (r *run) conn() *client {
	if cl := r.current(); cl != nil {
		return cl
	}
	return r.connect()
}

func (r *run) steps() {
	for _, s := range r.c.Client {
		if r.stopped {
			return
		}
		if r.ctx.Err() != nil {
			r.stop(nil)
			return
		}
		switch s.Kind {
		case corpus.Send:
			cl := r.conn()
			if cl == nil {
				return
			}
			if err := cl.Send(s.Bytes.Expand(r.vars)); err != nil && isTimeout(err) {
				cl.MarkTimedOut() // the proxy stopped reading
			}
			// Other write errors (EPIPE, ECONNRESET) mean the proxy closed the connection; the
			// reader records that.
		case corpus.Pause:
			t := time.NewTimer(s.Pause)
			select {
			case <-t.C:
			case <-r.ctx.Done():
				t.Stop()
			}
		case corpus.Await:
			cl := r.conn()
			if cl == nil {
				return
			}
			cl.awaited++
			want := cl.awaited
			// An await that times out does not set TimedOut: later steps may still get the answer.
			r.wait(cl, false, func(cc *wire.ClientConn) bool { return len(cc.Final) >= want })
		case corpus.Shutdown:
			if cl := r.conn(); cl != nil {
				_ = cl.ShutdownWrite()
			}
		case corpus.Connect:
			// The first connection is opened lazily, so a leading connect opens connection 1.
			if r.connect() == nil {
				return
			}
		}
	}
}

// settled reports whether a connection has everything that is due: after a 101, the tunnel echo of
// what was sent into it; otherwise one final response per intended request found in Sent.
func settled(cc *wire.ClientConn) bool {
	if n := len(cc.Final); n > 0 && cc.Final[n-1].Status == 101 {
		return len(cc.Tunnel) >= len(cc.TunnelSent)+pipelinedIntoTunnel(cc, n-1)
	}
	return len(cc.Final) >= len(cc.Requests)
}

// pipelinedIntoTunnel counts the bytes the client sent, before the 101 to request k arrived, from
// the start of the request after k on: once the tunnel opens they are tunnel data, and an echoing
// origin sends them back.
func pipelinedIntoTunnel(cc *wire.ClientConn, k int) int {
	if k+1 >= len(cc.Requests) {
		return 0
	}
	n := len(cc.Sent) - len(cc.TunnelSent) - cc.Requests[k+1].Offset
	return max(n, 0)
}

// drain reads every connection until it has what is due, or it closed, or the read deadline passed
// since its last byte or action (TimedOut).
func (r *run) drain() {
	for _, cl := range r.clients {
		if r.stopped {
			return
		}
		r.wait(cl, true, settled)
	}
}

// closes waits, on each connection that is due to close, until the proxy closes it (or the read
// deadline passes): the client shut down its write side, or the last response announced the close
// ("Connection: close", or HTTP/1.0 without keep-alive). Without this wait a close that follows its
// response by a moment would be missed whenever no probe is sent, and a probe sent into a closing
// connection would turn the close into a reset.
func (r *run) closes() {
	for _, cl := range r.clients {
		if r.stopped {
			return
		}
		ended, shut, tunnel := cl.State()
		if ended || tunnel {
			continue
		}
		due := shut
		cl.Peek(func(cc *wire.ClientConn) { due = due || !cc.TimedOut && announcesClose(cc) })
		if due {
			r.wait(cl, false, func(*wire.ClientConn) bool { return false })
		}
	}
}

// announcesClose reports whether the last final response on cc says the connection will close.
func announcesClose(cc *wire.ClientConn) bool {
	if len(cc.Final) == 0 {
		return false
	}
	rsp := cc.Final[len(cc.Final)-1]
	var close, keepAlive bool
	for _, f := range rsp.Fields {
		if !strings.EqualFold(f.Name, "Connection") {
			continue
		}
		for _, tok := range strings.Split(f.Value, ",") {
			switch strings.ToLower(strings.TrimSpace(tok)) {
			case "close":
				close = true
			case "keep-alive":
				keepAlive = true
			}
		}
	}
	return close || rsp.Version == "HTTP/1.0" && !keepAlive
}

// probes sends the follow-up probe on each connection that is still open, usable, and settled.
// A connection that timed out, was shut down for writing, switched to a tunnel, or whose response
// stream could not be parsed gets no probe: it could not tell anything more.
func (r *run) probes() {
	if !r.c.Probe || r.stopped {
		return
	}
	for _, cl := range r.clients {
		if r.stopped {
			return
		}
		ended, shut, tunnel := cl.State()
		skip := ended || shut || tunnel
		var id int
		cl.Peek(func(cc *wire.ClientConn) {
			// After a response that announced the close, a client MUST NOT send further
			// requests on the connection (RFC 9112 9.6); a proxy draining input before it
			// closes would swallow the probe.
			skip = skip || cc.TimedOut || cc.ParseError != "" || announcesClose(cc)
			id = cc.ID
		})
		if skip {
			continue
		}
		label := fmt.Sprintf("probe-%d", id)
		cl.AddLabel(label)
		cl.probe = &wire.Probe{Label: label}
		req := "GET /" + r.nonce + "/" + label + " HTTP/1.1\r\nHost: " + r.vars.Host + "\r\n\r\n"
		if err := cl.Send([]byte(req)); err != nil && isTimeout(err) {
			cl.MarkTimedOut()
			continue
		}
		r.wait(cl, true, settled)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
