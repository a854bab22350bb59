package proxy

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/proxyspec/proxyspec/proxy/balance"
	"github.com/proxyspec/proxyspec/proxy/h1"
	"github.com/proxyspec/proxyspec/proxy/internal/fault"
)

// upstreamLimits bound response heads from origins.
var upstreamLimits = h1.Limits{MaxHeadBytes: 64 << 10, MaxFields: 256, MaxTargetBytes: 8 << 10}

// joinGrace is how long a finished exchange waits for the last write of
// the request body before aborting it.
const joinGrace = 100 * time.Millisecond

// maxInterim bounds the 1xx responses relayed before a final one.
const maxInterim = 32

// exchange is the state of one request/response exchange.
type exchange struct {
	c            *clientConn
	rt           *route
	f            h1.Framing // request framing
	up           *upConn
	pool         *upstreamPool    // the chosen backend's pool
	backend      *balance.Backend // the chosen backend (released in done)
	usedUpstream bool
	status       int  // status sent to the client
	closeClient  bool // the response says Connection: close
	upgrade      bool // the request asked to upgrade (HTTP/1.1 only)
	pending      time.Duration

	// Request body goroutine.
	bodyRunning bool
	bodyRead    atomic.Bool // the whole request body was read from the client
	bodyEnded   atomic.Bool // the goroutine finished (its result is on the way)
	abortedBody bool        // we aborted the goroutine
	headMu      sync.Mutex
	gotHead     bool // a response head arrived (no more wake-ups)
	bodyRes     bodyResult
}

type bodyResult struct {
	readErr, writeErr error
	pending           time.Duration
}

func (ex *exchange) reset(c *clientConn) {
	ex.c, ex.rt, ex.f, ex.up = c, nil, h1.Framing{}, nil
	ex.usedUpstream, ex.status, ex.closeClient, ex.upgrade = false, 0, false, false
	ex.pending, ex.bodyRunning, ex.abortedBody, ex.gotHead = 0, false, false, false
	ex.bodyRead.Store(false)
	ex.bodyEnded.Store(false)
	ex.bodyRes = bodyResult{}
}

// idempotent methods may be retried automatically (RFC 9110 §9.2.2).
func idempotent(m []byte) bool {
	switch string(m) {
	case "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE":
		return true
	}
	return false
}

// errStaleConn marks a failure on a reused connection before any response
// byte arrived: the origin probably closed it while it was idle.
func staleConnError(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// forward sends the request upstream and relays the response. It reports
// whether the client connection stays open.
func (c *clientConn) forward(ex *exchange) bool {
	req := &c.req
	lo := &c.l.opts
	faults := c.p.faults
	limit := lo.KeepAliveMaxRequests
	switch {
	case limit > 0 && faults.Has(fault.KeepAliveLimitOffByOne):
		limit++
	case limit > 1 && faults.Has(fault.KeepAliveLimitOneShort):
		limit--
	}
	// RFC 9112 §9.3: a proxy MUST NOT keep a persistent connection with an
	// HTTP/1.0 client; §9.6: after "close" nothing more is processed.
	ex.closeClient = req.Version == h1.HTTP10 && !faults.Has(fault.HTTP10KeepAlive) ||
		faults.Has(fault.NoPersistentConnections) ||
		h1.HasToken(req.Fields, h1.KeyConnection, "close") ||
		(limit > 0 && c.served >= limit) ||
		c.p.shutting.Load()
	if ex.closeClient && lo.KeepAliveMaxRequests > 0 && c.served == lo.KeepAliveMaxRequests {
		c.p.obs.KeepAliveLimitClose(lo.Name)
	}
	// RFC 9110 §7.8: Upgrade is ignored in HTTP/1.0, and only counts when
	// Connection lists it.
	ex.upgrade = (req.Version == h1.HTTP11 || faults.Has(fault.UpgradeHTTP10Honoured)) &&
		h1.Count(req.Fields, h1.KeyUpgrade) > 0 && h1.HasToken(req.Fields, h1.KeyConnection, "upgrade")
	if ex.upgrade && faults.Has(fault.UpgradeBodyAsTunnel) || faults.Has(fault.ExpectBodySkipped) && expectsContinue(req) {
		ex.f = h1.Framing{} // no body: its bytes stay for the tunnel or the next request
	}
	// A body delimited by close (never produced by h1.RequestFraming, except
	// under fault HTTP10BodyUntilClose) is streamed like a chunked one.
	hasBody := ex.f.Kind == h1.BodyChunked || ex.f.Kind == h1.BodyClose ||
		ex.f.Kind == h1.BodyLength && ex.f.Length > 0
	c.body.Reset(&c.rd, ex.f, lo.MaxBodyBytes, lo.MaxFields)

	// Only an idempotent request without content is retried, and only once,
	// when a reused connection failed before any response byte.
	retryable := !hasBody && idempotent(req.Method)

	if !c.pickBackend(ex) {
		return c.rejectEx(ex, 503, "no healthy upstream")
	}
	var err error
	for attempt := 0; ; attempt++ {
		up, gerr := ex.pool.get(c.p.ctx, attempt > 0)
		if gerr != nil {
			c.p.log.Debug("upstream connect failed", "upstream", ex.pool.opts.Addr, "err", gerr)
			ex.usedUpstream = true
			return c.rejectEx(ex, 502, "upstream connect failed")
		}
		ex.up, ex.usedUpstream = up, true
		c.setUpstream(up)
		head := appendRequestHead(c.scratch[:0], req, ex.f, ex.upgrade, c.ip, c.l.proto(), faults)
		c.scratch = head[:0]
		_, err = up.bw.Write(head)
		if err == nil && hasBody {
			c.startBody(ex)
		} else if err == nil {
			err = up.bw.Flush()
		}
		if err == nil {
			err = c.readResponseHead(ex)
		}
		if err != nil && attempt == 0 && up.reused && retryable && ex.status == 0 &&
			len(up.rd.Buffered()) == 0 && staleConnError(err) {
			up.close()
			continue
		}
		break
	}
	if err != nil {
		return c.upstreamFailed(ex, err)
	}
	ex.headMu.Lock()
	ex.gotHead = true
	ex.headMu.Unlock()
	up := ex.up
	up.tc.setReadTimeout(up.pool.opts.ReadTimeout)

	resp := &c.resp
	if resp.Status == 101 {
		return c.switchProtocols(ex)
	}
	rf, err := h1.ResponseFraming(req.Method, resp)
	if err != nil {
		c.p.log.Debug("invalid upstream response", "upstream", up.pool.opts.Addr, "err", err)
		return c.badGateway(ex, "invalid response from upstream")
	}
	if rf.Kind == h1.BodyTunnel {
		return c.connectTunnel(ex)
	}
	if ex.bodyRunning && !ex.bodyRead.Load() {
		// The origin answered before the request body was read: answer,
		// then close (the rest of the body is not read).
		ex.closeClient = true
	}

	h := respHead{status: resp.Status, reason: resp.Reason, length: -1}
	switch rf.Kind {
	case h1.BodyNone:
		h.out, h.length = outNone, rf.Length
	case h1.BodyLength:
		h.out, h.length = outLength, rf.Length
	case h1.BodyChunked, h1.BodyClose:
		h.codings = rf.OtherCodings
		switch {
		case rf.OtherCodings && req.Version == h1.HTTP10:
			// Transfer codings cannot be expressed to an HTTP/1.0 client
			// and we do not decode them.
			return c.badGateway(ex, "unsupported transfer coding from upstream")
		case (req.Version == h1.HTTP11 || faults.Has(fault.ChunkedToHTTP10)) && !(rf.OtherCodings && rf.Kind == h1.BodyClose):
			h.out = outChunked
		default:
			h.out = outClose
			ex.closeClient = true
		}
	}
	c.rbody.Reset(&up.rd, rf, 0, c.p.upLim.MaxFields)

	if ex.rt.rangeFilter && rf.Kind == h1.BodyLength {
		if handled, keep := c.serveRange(ex, &h, rf); handled {
			return keep
		}
	}
	if c.p.shutting.Load() {
		ex.closeClient = true
	}
	h.close = ex.closeClient && !faults.Has(fault.CloseNotAnnounced)
	ex.status = h.status
	sent := c.tc.written
	b := appendResponseHead(c.scratch[:0], resp, &h, faults)
	c.scratch = b[:0]
	if _, err := c.bw.Write(b); err != nil {
		return c.abandon(ex)
	}
	rerr, werr := copyBody(c.bw, &c.rbody, h.out == outChunked, &c.respCW, &c.respTrailer, nil)
	if werr == nil && rerr == nil {
		werr = c.bw.Flush()
	}
	if rerr != nil || werr != nil {
		c.p.log.Debug("response body relay failed", "read_err", rerr, "write_err", werr)
		if werr == nil && c.tc.written == sent {
			// Nothing of this response reached the client yet: drop
			// what is buffered and answer 502 instead.
			c.bw.Reset(&c.tc)
			return c.badGateway(ex, "invalid response body from upstream")
		}
		// A response cut short cannot be repaired: close the client
		// connection without completing the message (RFC 9112 §6.3 step 6;
		// for chunked, no last-chunk is sent).
		return c.abandon(ex)
	}
	return c.finish(ex, rf)
}

// expectsContinue reports whether Expect mentions 100-continue, however
// garbled (for fault ExpectBodySkipped).
func expectsContinue(req *h1.Request) bool {
	v, ok := h1.Get(req.Fields, h1.KeyExpect)
	return ok && bytes.Contains(bytes.ToLower(v), []byte("100-continue"))
}

// finish ends a relayed exchange: joins the body goroutine, pools or drops
// the upstream connection, and decides the client connection's fate.
func (c *clientConn) finish(ex *exchange, rf h1.Framing) bool {
	res := c.joinBody(ex)
	up := ex.up
	resp := &c.resp
	// Reuse only after a clean exchange: request fully written, response
	// fully read with a known delimitation, nothing extra buffered, and the
	// origin did not ask to close.
	faults := c.p.faults
	clean := res.readErr == nil && res.writeErr == nil && !ex.abortedBody &&
		c.rbody.Done() && rf.Kind != h1.BodyClose && !rf.Announced &&
		(resp.Version == h1.HTTP11 || faults.Has(fault.UpstreamHTTP10Reused)) &&
		(!h1.HasToken(resp.Fields, h1.KeyConnection, "close") || faults.Has(fault.UpstreamCloseIgnored))
	if ex.upgrade && faults.Has(fault.UpgradeTunnelAnyStatus) {
		return c.runTunnel(ex)
	}
	c.setUpstream(nil)
	if clean {
		up.pool.put(up)
	} else {
		up.close()
	}
	if ex.closeClient && !faults.Has(fault.ServedAfterClose) || !c.body.Done() {
		c.lingeringClose()
		return false
	}
	if faults.Has(fault.PipelinedDiscarded) {
		c.rd.Discard(len(c.rd.Buffered()))
	}
	return true
}

// abandon closes both connections at once (the client's response is
// incomplete or the client is gone).
func (c *clientConn) abandon(ex *exchange) bool {
	c.joinBody(ex)
	if ex.up != nil {
		c.setUpstream(nil)
		ex.up.close()
	}
	c.nc.Close()
	return false
}

// badGateway answers 502 to a response the proxy will not relay and drops
// the upstream connection (RFC 9112 §6.3 step 5).
func (c *clientConn) badGateway(ex *exchange, reason string) bool {
	c.joinBody(ex)
	c.setUpstream(nil)
	ex.up.close()
	return c.rejectEx(ex, 502, reason)
}

// upstreamFailed answers a failure before a final response head arrived.
func (c *clientConn) upstreamFailed(ex *exchange, err error) bool {
	res := c.joinBody(ex)
	c.setUpstream(nil)
	ex.up.close()
	if ex.status != 0 {
		// An interim response was already sent; the final one cannot follow.
		c.nc.Close()
		return false
	}
	// A fault on the client's side of the body comes first: it caused the
	// upstream read to be interrupted.
	if rerr := res.readErr; rerr != nil && !ex.abortedBody {
		var he *h1.Error
		switch {
		case errors.As(rerr, &he):
			if he.Status == 400 {
				c.rejectKind = RejectFraming // a bad chunked body
			}
			return c.rejectEx(ex, he.Status, he.Reason)
		case isTimeout(rerr):
			return c.rejectEx(ex, 408, "request body timeout")
		}
		c.nc.Close() // the client went away
		return false
	}
	if res.writeErr != nil && !ex.abortedBody {
		c.p.log.Debug("upstream write failed", "err", res.writeErr)
		return c.rejectEx(ex, 502, "upstream write failed")
	}
	c.p.log.Debug("upstream failed", "err", err)
	var he *h1.Error
	switch {
	case errors.As(err, &he):
		return c.rejectEx(ex, 502, "invalid response from upstream")
	case isTimeout(err):
		return c.rejectEx(ex, 504, "upstream timeout")
	}
	return c.rejectEx(ex, 502, "upstream failed")
}

// readResponseHead reads response heads until a final one or a 101,
// relaying interim 1xx responses to HTTP/1.1 clients (RFC 9110 §15.2: a
// proxy MUST forward 1xx, and a server MUST NOT send them to HTTP/1.0
// clients).
func (c *clientConn) readResponseHead(ex *exchange) error {
	up := ex.up
	faults := c.p.faults
	for n := 0; ; n++ {
		if err := up.rd.ReadResponse(&c.resp, c.p.upLim); err != nil {
			return err
		}
		st := c.resp.Status
		if st >= 200 || st == 101 {
			return nil
		}
		if n >= maxInterim {
			return &h1.Error{Status: 502, Reason: "too many interim responses"}
		}
		if faults.Has(fault.InterimBodyRead) && h1.Count(c.resp.Fields, h1.KeyContentLength) > 0 {
			// Read the 1xx's "body" as if it were a final response's.
			v, _ := h1.Get(c.resp.Fields, h1.KeyContentLength)
			n, _ := h1.ParseContentLength(v)
			c.rbody.Reset(&up.rd, h1.Framing{Kind: h1.BodyLength, Length: n}, 0, 0)
			if _, err := io.Copy(io.Discard, &c.rbody); err != nil {
				return err
			}
		}
		if c.req.Version != h1.HTTP11 && !faults.Has(fault.InterimToHTTP10) || faults.Has(fault.InterimDropped) {
			continue
		}
		h := respHead{status: st, reason: c.resp.Reason, out: outNone, length: -1}
		b := appendResponseHead(c.scratch[:0], &c.resp, &h, faults)
		c.scratch = b[:0]
		ex.status = st
		if _, err := c.bw.Write(b); err != nil {
			return err
		}
		if err := c.bw.Flush(); err != nil {
			return err
		}
	}
}

// startBody copies the request body upstream in its own goroutine, so that
// the response can be read concurrently: an origin may answer early (or
// send 100 Continue) while the body is still arriving.
func (c *clientConn) startBody(ex *exchange) {
	up := ex.up
	// The response head timeout starts once the request is sent; until
	// then the goroutine wakes the reader if it fails.
	up.tc.setReadTimeout(0)
	ex.bodyRunning = true
	go func() {
		up.tc.measure = true
		rerr, werr := copyBody(up.bw, &c.body, ex.f.Kind != h1.BodyLength, &c.reqCW, &c.reqTrailers, &ex.bodyRead)
		if rerr == nil && werr == nil {
			werr = up.bw.Flush()
		}
		up.tc.measure = false
		res := bodyResult{readErr: rerr, writeErr: werr, pending: up.tc.pending}
		// bodyEnded tells joinBody the result is coming: a head reader
		// woken below must wait for it rather than abort us.
		ex.bodyEnded.Store(true)
		ex.headMu.Lock()
		if !ex.gotHead {
			if rerr == nil && werr == nil {
				up.tc.Conn.SetReadDeadline(time.Now().Add(up.pool.opts.ReadTimeout))
			} else {
				up.tc.Conn.SetReadDeadline(aLongTimeAgo) // wake the head reader
			}
		}
		ex.headMu.Unlock()
		c.bodyCh <- res // last: the exchange may be reused right after
	}()
}

// joinBody waits for the body goroutine. If it is still reading from the
// client, the read is aborted (the client connection will be closed); if it
// is still writing upstream, the write is aborted (the upstream connection
// will not be reused).
func (c *clientConn) joinBody(ex *exchange) bodyResult {
	if !ex.bodyRunning {
		return ex.bodyRes
	}
	ex.bodyRunning = false
	select {
	case ex.bodyRes = <-c.bodyCh:
	default:
		if ex.bodyEnded.Load() {
			ex.bodyRes = <-c.bodyCh // finished on its own
			break
		}
		if ex.bodyRead.Load() {
			// Only the last write upstream may be pending: usually it is
			// just completing. Give it a moment before aborting.
			t := time.NewTimer(joinGrace)
			select {
			case ex.bodyRes = <-c.bodyCh:
				t.Stop()
				ex.pending = ex.bodyRes.pending
				return ex.bodyRes
			case <-t.C:
			}
		}
		ex.abortedBody = true
		if !ex.bodyRead.Load() {
			c.tc.abortRead()
		}
		ex.up.tc.abortWrite()
		ex.bodyRes = <-c.bodyCh
	}
	ex.pending = ex.bodyRes.pending
	return ex.bodyRes
}

// waitBody waits for the body goroutine to finish on its own.
func (c *clientConn) waitBody(ex *exchange) bodyResult {
	if !ex.bodyRunning {
		return ex.bodyRes
	}
	ex.bodyRunning = false
	ex.bodyRes = <-c.bodyCh
	ex.pending = ex.bodyRes.pending
	return ex.bodyRes
}

// copyBody copies a body from src to w, chunk-encoding it when chunked. It
// flushes w before any read that may block, so bytes already received are
// never held back. done, if set, is marked once the whole body was read.
func copyBody(w *bufio.Writer, src *h1.BodyReader, chunked bool, cw *h1.ChunkedWriter, trailers *[]h1.Field, done *atomic.Bool) (rerr, werr error) {
	cw.W = w
	for {
		if !src.Ready() {
			if err := w.Flush(); err != nil {
				return nil, err
			}
		}
		p, err := src.Next()
		if done != nil && src.Done() {
			// Mark before the last write: once it is out, the origin may
			// answer at once, and the answer must find the body read.
			done.Store(true)
		}
		if len(p) > 0 {
			if chunked {
				_, werr = cw.Write(p)
			} else {
				_, werr = w.Write(p)
			}
			if werr != nil {
				return nil, werr
			}
		}
		if err == io.EOF {
			if chunked {
				t := (*trailers)[:0]
				for _, f := range src.Trailers() {
					if trailerAllowed(f.Key) {
						t = append(t, f)
					}
				}
				*trailers = t[:0]
				return nil, cw.Close(t)
			}
			return nil, nil
		}
		if err != nil {
			return err, nil
		}
	}
}
