package proxy

import (
	"bufio"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/proxyspec/proxyspec/proxy/h1"
	"github.com/proxyspec/proxyspec/proxy/internal/fault"
)

// Lingering close bounds (see lingeringClose).
const (
	lingerTimeout = 500 * time.Millisecond
	lingerMax     = 256 << 10
)

// clientConn is one downstream connection. Its goroutine reads requests in
// order and answers each before reading the next (pipelined requests stay
// buffered meanwhile).
type clientConn struct {
	p     *Proxy
	l     *listener
	nc    net.Conn
	tc    timedConn
	rd    h1.Reader
	bw    *bufio.Writer
	ip    string
	start time.Time

	served  int // requests read so far on this connection
	req     h1.Request
	resp    h1.Response
	body    h1.BodyReader // request body, from the client
	rbody   h1.BodyReader // response body, from the upstream
	ex      exchange
	scratch []byte // head being built
	bodyCh  chan bodyResult

	// Request-body goroutine state (separate from the response side's).
	reqCW       h1.ChunkedWriter
	reqTrailers []h1.Field
	respCW      h1.ChunkedWriter
	respTrailer []h1.Field

	linger    bool   // close with a lingering close (after an answer)
	firstHost []byte // the first request's Host (fault HostFromFirstRequest only)
	// rejectKind is set by a call site that knows why it rejects a request
	// (see observeReject).
	rejectKind RejectReason

	mu   sync.Mutex // guards idle and up, for Shutdown and Close
	idle bool
	up   *upConn
	dead bool
}

func newClientConn(p *Proxy, l *listener, nc net.Conn) *clientConn {
	c := &clientConn{p: p, l: l, nc: nc, start: time.Now(), bodyCh: make(chan bodyResult, 1)}
	if tcp, ok := nc.(*net.TCPConn); ok {
		tcp.SetNoDelay(true)
	}
	if a, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		c.ip = a.IP.String()
	}
	c.tc.reset(nc, 0, l.opts.WriteTimeout)
	c.rd.Reset(&c.tc, l.lim.MaxHeadBytes+8<<10)
	c.bw = bufWriterPool.Get().(*bufio.Writer)
	c.bw.Reset(&c.tc)
	c.scratch = make([]byte, 0, 1024)
	return c
}

func (c *clientConn) serve() {
	defer c.p.wg.Done()
	defer c.p.obs.ClientConnClosed(c.l.opts.Name)
	defer c.p.forget(c)
	defer c.release()
	for c.readRequest() && c.handle() {
	}
	if c.linger {
		c.closeLingering()
	}
}

func (c *clientConn) release() {
	c.nc.Close()
	c.setUpstream(nil)
	c.rd.Release()
	c.bw.Reset(nil)
	bufWriterPool.Put(c.bw)
}

// abort closes the connection and its current upstream connection now
// (Proxy.Close).
func (c *clientConn) abort() {
	c.mu.Lock()
	c.dead = true
	c.nc.Close()
	if c.up != nil {
		c.up.tc.Conn.Close()
	}
	c.mu.Unlock()
}

// setUpstream records the upstream connection in use, so abort can close it.
func (c *clientConn) setUpstream(u *upConn) {
	c.mu.Lock()
	c.up = u
	if u != nil && c.dead {
		u.tc.Conn.Close()
	}
	c.mu.Unlock()
}

// enterIdle marks the connection as waiting for a request and sets the
// deadline for its first byte. It fails when the proxy is shutting down.
func (c *clientConn) enterIdle(deadline time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.p.shutting.Load() {
		return false
	}
	c.idle = true
	c.tc.readDeadline(deadline)
	return true
}

func (c *clientConn) leaveIdle() {
	c.mu.Lock()
	c.idle = false
	c.mu.Unlock()
}

// wakeIfIdle ends the wait of an idle connection (Shutdown).
func (c *clientConn) wakeIfIdle() {
	c.mu.Lock()
	if c.idle {
		c.nc.SetReadDeadline(aLongTimeAgo)
	}
	c.mu.Unlock()
}

// readRequest reads the next request head. On failure it has answered (if
// there is anything to answer) and the connection is to be closed.
func (c *clientConn) readRequest() bool {
	lo := &c.l.opts
	c.rd.Unpin()
	now := time.Now()
	headDeadline := now.Add(lo.HeaderReadTimeout)
	if c.served == 0 {
		// Slowloris: the whole first head must arrive within
		// HeaderReadTimeout of the connection's start.
		headDeadline = c.start.Add(lo.HeaderReadTimeout)
	}
	if len(c.rd.Buffered()) == 0 {
		wait := now.Add(lo.IdleTimeout)
		if c.served == 0 {
			wait = headDeadline
		}
		if !c.enterIdle(wait) {
			return false
		}
		err := c.rd.Fill()
		c.leaveIdle()
		if err != nil {
			return false // idle timeout, client closed, or shutdown: just close
		}
		if c.served > 0 {
			headDeadline = time.Now().Add(lo.HeaderReadTimeout)
		}
	}
	c.tc.readDeadline(headDeadline)
	err := c.rd.ReadRequest(&c.req, c.l.lim)
	if err == nil {
		return true
	}
	var he *h1.Error
	switch {
	case (errors.As(err, &he) && (he.Status == 414 || he.Status == 431) || err == h1.ErrBufferFull) &&
		c.p.faults.Has(fault.LimitSilentClose):
		// close without an answer
	case errors.As(err, &he):
		c.reject(he.Status, he.Reason)
	case err == h1.ErrBufferFull:
		c.reject(431, "request head too large")
	case isTimeout(err) && len(c.rd.Buffered()) > 0 && !c.p.shutting.Load():
		c.reject(408, "request head timeout")
	}
	return false
}

// handle serves one request; it reports whether the connection stays open.
func (c *clientConn) handle() bool {
	start := time.Now()
	c.served++
	req := &c.req
	lo := &c.l.opts
	ex := &c.ex
	ex.reset(c)
	defer c.done(ex, start)
	if c.p.faults.Has(fault.HostFromFirstRequest) {
		if c.served == 1 {
			c.firstHost = append(c.firstHost[:0], req.Host...)
		} else {
			req.Host = c.firstHost
		}
	}
	// Request bodies are read with a per-read timeout.
	c.tc.setReadTimeout(lo.IdleTimeout)

	f, err := h1.RequestFraming(req)
	if err != nil {
		var he *h1.Error
		errors.As(err, &he)
		if c.p.faults.Has(fault.FramingErrorKeepsConnection) {
			// Answer, and read what follows the head as the next request.
			ex.status = he.Status
			c.writeError(he.Status, he.Reason, false)
			return true
		}
		c.rejectKind = RejectFraming
		return c.rejectEx(ex, he.Status, he.Reason)
	}
	ex.f = f
	if req.IsMethod("CONNECT") {
		if !lo.AllowConnect {
			// Pingora 0.8 policy: CONNECT is disabled by default.
			return c.rejectEx(ex, 405, "CONNECT is not allowed")
		}
		// RFC 9110 §9.3.6: a CONNECT request has no content.
		if f.Kind != h1.BodyNone && !(f.Kind == h1.BodyLength && f.Length == 0) {
			c.rejectKind = RejectFraming
			return c.rejectEx(ex, 400, "CONNECT with content")
		}
	}
	if lo.MaxBodyBytes > 0 && f.Kind == h1.BodyLength && f.Length > lo.MaxBodyBytes {
		return c.rejectEx(ex, 413, "content too large")
	}
	if answered, keep := c.checkMaxForwards(ex); answered {
		return keep
	}
	ex.rt = c.p.match(req)
	if ex.rt == nil {
		return c.rejectEx(ex, 404, "no route")
	}
	return c.forward(ex)
}

// done logs the completed request and reports it to the observer.
func (c *clientConn) done(ex *exchange, start time.Time) {
	defer ex.releaseBackend()
	p := c.p
	debug := p.log.Enabled(p.ctx, slog.LevelDebug)
	if !debug && p.opts.OnRequestDone == nil {
		return
	}
	info := RequestInfo{
		TraceID:              traceID(),
		Listener:             c.l.opts.Name,
		Method:               string(c.req.Method),
		Status:               ex.status,
		Duration:             time.Since(start),
		UpstreamWritePending: ex.pending,
	}
	if ex.rt != nil {
		info.Route = ex.rt.name
		if ex.usedUpstream && ex.pool != nil {
			info.Upstream = ex.pool.opts.Addr
			info.SentBody = ex.f.Kind == h1.BodyChunked || ex.f.Kind == h1.BodyLength && ex.f.Length > 0
		}
	}
	if debug {
		p.log.LogAttrs(p.ctx, slog.LevelDebug, "request completed",
			slog.String("trace_id", info.TraceID),
			slog.String("listener", info.Listener),
			slog.String("route", info.Route),
			slog.String("upstream", info.Upstream),
			slog.String("method", info.Method),
			slog.Int("status", info.Status),
			slog.Int64("duration_ms", info.Duration.Milliseconds()),
			slog.Int64("upstream_write_pending_ms", info.UpstreamWritePending.Milliseconds()),
		)
	}
	if p.opts.OnRequestDone != nil {
		p.opts.OnRequestDone(info)
	}
}

// traceID returns a random 64-bit id in hex.
func traceID() string {
	var b [16]byte
	return string(strconv.AppendUint(b[:0], rand.Uint64()|1<<63, 16))
}

// rejectEx answers an error for the current request and closes.
func (c *clientConn) rejectEx(ex *exchange, status int, reason string) bool {
	ex.status = status
	c.reject(status, reason)
	return false
}

// reject sends a complete minimal error response with Connection: close;
// the connection is then closed with a lingering close.
func (c *clientConn) reject(status int, reason string) {
	c.p.log.Debug("request rejected", "listener", c.l.opts.Name, "client", c.ip, "status", status, "reason", reason)
	c.observeReject(status)
	c.writeError(status, reason, true)
	c.lingeringClose()
}

// lingeringClose asks serve to end the connection with closeLingering once
// the current request is accounted for.
func (c *clientConn) lingeringClose() {
	c.bw.Flush()
	c.linger = true
}

// writeError writes a minimal error response; with close it says
// Connection: close.
func (c *clientConn) writeError(status int, reason string, close bool) {
	b := h1.AppendStatusLine(c.scratch[:0], status, nil)
	var body string
	if status == 405 && !c.p.faults.Has(fault.Connect405WithoutAllow) {
		b = append(b, "Allow: "+allowedMethods+"\r\nContent-Length: 0\r\n"...)
	} else {
		body = reason + "\n"
		b = append(b, "Content-Type: text/plain; charset=utf-8\r\n"...)
		b = h1.AppendContentLength(b, int64(len(body)))
	}
	if close {
		b = append(b, "Connection: close\r\n"...)
	}
	b = append(b, "\r\n"...)
	if !c.req.IsMethod("HEAD") {
		b = append(b, body...)
	}
	c.scratch = b[:0]
	c.bw.Write(b)
	c.bw.Flush()
}

// closeLingering closes the connection so that the client still reads what
// was sent: closing with unread input would make the kernel send a RST that
// may destroy the response in flight. We half-close, discard input for a
// short while (bounded in time and bytes), then close.
func (c *clientConn) closeLingering() {
	// TCP: FIN; TLS: close_notify (the TCP connection stays open for
	// reading).
	if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
		c.nc.SetReadDeadline(time.Now().Add(lingerTimeout))
		var buf [4096]byte
		for n := 0; n < lingerMax; {
			m, err := c.nc.Read(buf[:])
			n += m
			if err != nil {
				break
			}
		}
	}
	c.nc.Close()
}
