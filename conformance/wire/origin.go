package wire

import (
	"bytes"
	"errors"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/proxyspec/proxyspec/corpus"
)

const (
	// DefaultOriginIdle is how long an upstream connection may stay silent before the origin closes
	// it. It is long on purpose: a proxy's pool should time out first, so the origin never closes a
	// connection the proxy is about to reuse.
	DefaultOriginIdle = 2 * time.Minute
	originLinger      = 500 * time.Millisecond // after deciding to close: FIN, then drain this long
	originWriteLimit  = 10 * time.Second
)

// Origin is the recording origin behind the proxy under test, shared by every case of a run.
//
// Each case registers its nonce and origin script; the origin finds "/NONCE/LABEL" in each request
// target, answers by the case's script, and records the request in that case's view of the
// connection. Requests without a nonce, and bytes that are not a request at all, are attributed to
// the case that last used the connection: that is what a desynchronised proxy produces.
// All methods are safe for concurrent use.
type Origin struct {
	ln   net.Listener
	idle atomic.Int64 // time.Duration

	mu     sync.Mutex
	cases  map[string]*ocase
	conns  map[*oconn]struct{}
	nextID int
	closed bool
	wg     sync.WaitGroup
}

// NewOrigin listens on addr ("" or "127.0.0.1:0": any free port on 127.0.0.1) and starts serving.
func NewOrigin(addr string) (*Origin, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	o := &Origin{ln: ln, cases: map[string]*ocase{}, conns: map[*oconn]struct{}{}}
	o.idle.Store(int64(DefaultOriginIdle))
	o.wg.Add(1)
	go o.accept()
	return o, nil
}

// Addr is the origin's host:port.
func (o *Origin) Addr() string { return o.ln.Addr().String() }

// SetIdleTimeout sets how long a connection may stay silent before the origin closes it (applies
// from each connection's next read).
func (o *Origin) SetIdleTimeout(d time.Duration) {
	if d > 0 {
		o.idle.Store(int64(d))
	}
}

// Register makes the origin answer requests carrying nonce with actions, in arrival order; Vars are
// used to expand respond actions (Label is set per request). Times in the case's view are relative
// to now. Registering a nonce again replaces the earlier registration.
func (o *Origin) Register(nonce string, actions []corpus.Action, vars corpus.Vars) {
	o.RegisterAt(nonce, time.Now(), actions, vars)
}

// RegisterAt is Register with an explicit case start time.
func (o *Origin) RegisterAt(nonce string, start time.Time, actions []corpus.Action, vars corpus.Vars) {
	if vars.Nonce == "" {
		vars.Nonce = nonce
	}
	if vars.Origin == "" {
		vars.Origin = o.Addr()
	}
	cs := &ocase{nonce: nonce, start: start, actions: actions, vars: vars, views: map[*oconn]*OriginConn{}}
	o.mu.Lock()
	if old := o.cases[nonce]; old != nil {
		old.finished = true
	}
	o.cases[nonce] = cs
	o.mu.Unlock()
}

// Finish ends the case: it returns the case's view of every connection that carried any of its
// traffic (ordered by connection ID), closes the connections it holds, and forgets the nonce.
// A request whose body was still arriving is returned with what arrived and a BodyError; bytes
// still waiting to form a request head on a connection the case used last are returned as Stray.
func (o *Origin) Finish(nonce string) []*OriginConn {
	o.mu.Lock()
	cs := o.cases[nonce]
	if cs == nil {
		o.mu.Unlock()
		return nil
	}
	delete(o.cases, nonce)
	cs.finished = true
	out := make([]*OriginConn, 0, len(cs.views))
	for c, v := range cs.views {
		cp := copyConn(v)
		cp.Total = c.nreq
		if c.req != nil && c.reqCase == cs && len(cp.Requests) > 0 && v.Requests[len(v.Requests)-1] == c.req {
			c.partialBody(cp.Requests[len(cp.Requests)-1], "the case ended")
			cp.Chunks = append(cp.Chunks, c.rangeChunks(c.inOff, c.inOff+int64(len(c.in)), cs.start)...)
		}
		if c.mode == mHead && c.owner == nonce && len(c.in) > 0 && !onlyLineEnds(c.in) {
			if n := findNonce(c.in); n == "" || n == nonce {
				cp.Stray = append(cp.Stray, c.in...)
				cp.Chunks = append(cp.Chunks, c.rangeChunks(c.inOff, c.inOff+int64(len(c.in)), cs.start)...)
			}
		}
		sort.SliceStable(cp.Chunks, func(i, j int) bool { return cp.Chunks[i].At < cp.Chunks[j].At })
		out = append(out, cp)
	}
	held := cs.held
	cs.held = nil
	o.mu.Unlock()
	for _, c := range held {
		_ = c.nc.Close()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Close stops the origin: it closes the listener and every connection and waits for them.
func (o *Origin) Close() error {
	o.mu.Lock()
	o.closed = true
	conns := make([]*oconn, 0, len(o.conns))
	for c := range o.conns {
		conns = append(conns, c)
	}
	o.mu.Unlock()
	err := o.ln.Close()
	for _, c := range conns {
		_ = c.nc.Close()
	}
	o.wg.Wait()
	return err
}

func (o *Origin) accept() {
	defer o.wg.Done()
	for {
		nc, err := o.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			o.mu.Lock()
			closed := o.closed
			o.mu.Unlock()
			if closed {
				return
			}
			time.Sleep(5 * time.Millisecond) // e.g. EMFILE: back off a little
			continue
		}
		o.mu.Lock()
		if o.closed {
			o.mu.Unlock()
			_ = nc.Close()
			return
		}
		o.nextID++
		c := &oconn{o: o, id: o.nextID, nc: nc}
		o.conns[c] = struct{}{}
		o.wg.Add(1)
		o.mu.Unlock()
		go c.serve()
	}
}

// ocase is one registered case.
type ocase struct {
	nonce    string
	start    time.Time
	actions  []corpus.Action
	next     int
	vars     corpus.Vars
	views    map[*oconn]*OriginConn
	held     []*oconn
	finished bool
}

// view returns the case's view of c, creating it; o.mu must be held.
func (cs *ocase) view(c *oconn) *OriginConn {
	v := cs.views[c]
	if v == nil {
		v = &OriginConn{ID: c.id}
		cs.views[c] = v
		c.viewers = append(c.viewers, cs)
	}
	return v
}

type connMode int

const (
	mHead   connMode = iota // reading a request head
	mBody                   // reading the body of c.req
	mTunnel                 // raw echo after a respond-tunnel action
	mStop                   // closing: nothing more is processed
)

type rawRead struct {
	at   time.Time
	off  int64 // stream offset of data[0]
	data []byte
}

// oconn is one upstream connection. Everything but nc and the serve loop's locals is guarded by
// o.mu.
type oconn struct {
	o  *Origin
	id int
	nc net.Conn

	in      []byte    // received, not yet consumed
	inOff   int64     // stream offset of in[0]
	reads   []rawRead // reads not yet wholly consumed, for the views' chunks
	scan    int       // head-end scan resume point in in[lead:]
	mode    connMode
	nreq    int    // requests seen, every case
	owner   string // nonce of the case that used the connection last
	held    bool   // a hold action: record, never answer
	viewers []*ocase

	req      *OriginRequest // the request whose body is being read
	reqCase  *ocase
	reqNonce string // nonce in req's target, "" if none
	clen     int64

	tunnelCase *ocase
	closeAfter bool

	// continued: the interim answer to "Expect: 100-continue" went out for c.req; skip is how
	// many leading bytes of its scripted answer that interim answer already sent.
	continued bool
	skip      int
}

func (c *oconn) serve() {
	o := c.o
	defer o.wg.Done()
	defer func() {
		_ = c.nc.Close()
		o.mu.Lock()
		delete(o.conns, c)
		o.mu.Unlock()
	}()
	buf := make([]byte, 32<<10)
	var drainUntil time.Time
	for {
		if drainUntil.IsZero() {
			_ = c.nc.SetReadDeadline(time.Now().Add(time.Duration(o.idle.Load())))
		} else {
			_ = c.nc.SetReadDeadline(drainUntil)
		}
		n, err := c.nc.Read(buf)
		if !drainUntil.IsZero() {
			if err != nil {
				return
			}
			continue
		}
		now := time.Now()
		o.mu.Lock()
		out := c.feed(now, buf[:n])
		if err != nil {
			c.ended(now, err)
		}
		closeAfter := c.closeAfter
		o.mu.Unlock()
		for _, b := range out {
			_ = c.nc.SetWriteDeadline(time.Now().Add(originWriteLimit))
			if _, werr := c.nc.Write(b); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
		if closeAfter {
			if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
				_ = cw.CloseWrite()
				drainUntil = time.Now().Add(originLinger)
				continue
			}
			return
		}
	}
}

// live reports whether cs can still be written to; o.mu must be held.
func live(cs *ocase) bool { return cs != nil && !cs.finished }

// feed processes newly received bytes and returns the answers to write, in order; o.mu held.
func (c *oconn) feed(now time.Time, data []byte) [][]byte {
	if len(data) > 0 && c.mode != mStop {
		d := bytes.Clone(data)
		c.reads = append(c.reads, rawRead{at: now, off: c.inOff + int64(len(c.in)), data: d})
		c.in = append(c.in, d...)
	}
	var out [][]byte
	for progressed := true; progressed; {
		switch c.mode {
		case mHead:
			progressed = c.head(now)
		case mBody:
			progressed = c.body(now, &out)
		case mTunnel:
			progressed = false
			if len(c.in) > 0 {
				echo := bytes.Clone(c.in)
				if cs := c.tunnelCase; live(cs) {
					v := cs.view(c)
					v.Tunnel = append(v.Tunnel, c.in...)
					v.Chunks = append(v.Chunks, c.rangeChunks(c.inOff, c.inOff+int64(len(c.in)), cs.start)...)
					v.Chunks = append(v.Chunks, Chunk{At: now.Sub(cs.start), Dir: OriginToProxy, Data: echo})
				}
				out = append(out, echo)
				c.consume(len(c.in))
			}
		default:
			progressed = false
		}
	}
	// Forget reads that are wholly consumed.
	k := 0
	for k < len(c.reads) && c.reads[k].off+int64(len(c.reads[k].data)) <= c.inOff {
		k++
	}
	if k > 0 {
		c.reads = append(c.reads[:0:0], c.reads[k:]...)
	}
	return out
}

func (c *oconn) consume(n int) {
	c.in = c.in[n:]
	c.inOff += int64(n)
	c.scan = 0
	if len(c.in) == 0 {
		c.in = nil
	}
}

// rangeChunks returns the received bytes at stream offsets [s, e) as chunks, one per read.
func (c *oconn) rangeChunks(s, e int64, start time.Time) []Chunk {
	var out []Chunk
	for _, r := range c.reads {
		rs, re := r.off, r.off+int64(len(r.data))
		if re <= s {
			continue
		}
		if rs >= e {
			break
		}
		a, b := max(rs, s), min(re, e)
		out = append(out, Chunk{At: r.at.Sub(start), Dir: ProxyToOrigin, Data: r.data[a-rs : b-rs]})
	}
	return out
}

// head tries to read one request head; it reports whether it made progress.
func (c *oconn) head(now time.Time) bool {
	lead := leadingEmptyLines(c.in)
	rest := c.in[lead:]
	if len(rest) == 0 || len(rest) == 1 && rest[0] == '\r' {
		return false
	}
	if !requestLinePrefixOK(rest) {
		c.stray()
		return false
	}
	he := headEnd(rest, c.scan)
	if he < 0 {
		c.scan = resumeFrom(rest)
		if nl := bytes.IndexByte(rest, '\n'); nl >= 0 {
			if _, _, _, ok := splitRequestLine(strings.TrimSuffix(string(rest[:nl]), "\r")); !ok {
				c.stray()
				return false
			}
		}
		if len(rest) > MaxHead {
			c.stray()
		}
		return false
	}
	if lead+he > MaxHead {
		c.stray()
		return false
	}
	lines := splitLines(rest[:he])
	method, target, version, ok := splitRequestLine(lines[0])
	if !ok {
		c.stray()
		return false
	}
	nonce, label := findMarker([]byte(target))
	if nonce == "" {
		// Requests whose target cannot carry a path (CONNECT's authority-form) name their case
		// in a header instead, e.g. X-Proxyspec-Request: /NONCE/LABEL.
		nonce, label = findMarker(rest[:he])
	}
	var cs *ocase
	switch {
	case nonce != "":
		cs = c.o.cases[nonce]
		if cs != nil {
			c.owner = nonce
		} else {
			c.owner = ""
		}
	case c.owner != "":
		cs = c.o.cases[c.owner]
	}
	if cs == nil || nonce != cs.nonce {
		label = ""
	}
	r := &OriginRequest{
		Conn:    c.id,
		Index:   c.nreq,
		Label:   label,
		Probe:   strings.HasPrefix(label, "probe-"),
		Method:  method,
		Target:  target,
		Version: version,
		Fields:  parseFields(lines[1:]),
		RawHead: bytes.Clone(c.in[:lead+he]),
		Framing: "none",
	}
	c.nreq++
	if chunkedLast(r.Fields) {
		r.Framing = "chunked"
	} else if n, ok := contentLength(r.Fields); ok {
		r.Framing, c.clen = "length", n
	}
	if cs != nil {
		r.At = now.Sub(cs.start)
		v := cs.view(c)
		v.Requests = append(v.Requests, r)
		v.Chunks = append(v.Chunks, c.rangeChunks(c.inOff, c.inOff+int64(lead+he), cs.start)...)
	}
	c.consume(lead + he)
	c.req, c.reqCase, c.reqNonce, c.mode = r, cs, nonce, mBody
	return true
}

// body tries to complete the body of c.req, then answers it; it reports whether it made progress.
func (c *oconn) body(now time.Time, out *[][]byte) bool {
	r, cs := c.req, c.reqCase
	n := 0
	switch r.Framing {
	case "length":
		if int64(len(c.in)) < c.clen {
			c.sendContinue(now, r, cs, out)
			return false
		}
		n = int(c.clen)
		r.Body = bytes.Clone(c.in[:n])
	case "chunked":
		cb := dechunk(c.in)
		switch {
		case cb.Err != "":
			// The rest of the connection cannot be framed: take it all, answer, then close.
			n = len(c.in)
			r.Body = cb.Body
			r.BodyError = "malformed chunked body (decoding stopped): " + cb.Err
			c.closeAfter = true
		case cb.Done:
			n = cb.N
			r.Body = cb.Body
			if cb.Lax != "" {
				r.BodyError = "malformed chunked body (tolerated): " + cb.Lax
			}
		default:
			c.sendContinue(now, r, cs, out)
			return false
		}
	}
	r.RawBody = bytes.Clone(c.in[:n])
	if live(cs) && n > 0 {
		v := cs.view(c)
		v.Chunks = append(v.Chunks, c.rangeChunks(c.inOff, c.inOff+int64(n), cs.start)...)
	}
	c.consume(n)
	c.req, c.reqCase, c.mode = nil, nil, mHead
	c.answer(now, r, cs, out)
	c.continued, c.skip = false, 0
	if c.closeAfter {
		c.mode = mStop
	}
	return true
}

// answer answers r by its case's script.
func (c *oconn) answer(now time.Time, r *OriginRequest, cs *ocase, out *[][]byte) {
	if c.held {
		return
	}
	act := corpus.Action{Kind: corpus.Echo}
	if live(cs) && r.Label != "" && !r.Probe && cs.next < len(cs.actions) {
		act = cs.actions[cs.next]
		cs.next++
	}
	var ans []byte
	switch act.Kind {
	case corpus.Respond:
		v := cs.vars
		v.Label = r.Label
		ans = act.Bytes.Expand(v)
		if act.Tunnel {
			c.mode, c.tunnelCase = mTunnel, cs
		}
		if act.CloseAfter {
			c.closeAfter = true
		}
	case corpus.Hold:
		c.held = true
		cs.held = append(cs.held, c)
		return
	case corpus.Close:
		c.closeAfter = true
		return
	default:
		nonce, label := c.reqNonce, r.Label
		if nonce == "" {
			nonce = "-"
		}
		if label == "" {
			label = "-"
		}
		ans = echo(nonce, label, r.Method == "HEAD")
	}
	if c.skip > 0 && c.skip <= len(ans) {
		ans = ans[c.skip:] // its interim part went out while the body was due
	}
	if live(cs) {
		r.Answer = append(r.Answer, ans...)
		v := cs.view(c)
		v.Chunks = append(v.Chunks, Chunk{At: now.Sub(cs.start), Dir: OriginToProxy, Data: ans})
	}
	*out = append(*out, ans)
}

// sendContinue answers "Expect: 100-continue" while the body is still due, as an origin must not
// wait for the body first (RFC 9110 10.1.1): a proxy that forwards the expectation may hold the
// body back until it sees the 100. The interim answer is the leading 1xx of the case's next
// scripted answer, if it starts with one (then not sent twice), else "100 Continue" for an echo.
func (c *oconn) sendContinue(now time.Time, r *OriginRequest, cs *ocase, out *[][]byte) {
	if c.continued || c.held || !strings.HasPrefix(r.Version, "HTTP/1.1") {
		return
	}
	expect := false
	for _, v := range fieldValues(r.Fields, "Expect") {
		expect = expect || strings.Contains(strings.ToLower(v), "100-continue")
	}
	if !expect {
		return
	}
	c.continued = true
	interim := []byte("HTTP/1.1 100 Continue\r\n\r\n")
	if live(cs) && r.Label != "" && !r.Probe && cs.next < len(cs.actions) {
		act := cs.actions[cs.next]
		switch act.Kind {
		case corpus.Respond:
			v := cs.vars
			v.Label = r.Label
			b := act.Bytes.Expand(v)
			end := bytes.Index(b, []byte("\r\n\r\n"))
			if !bytes.HasPrefix(b, []byte("HTTP/1.1 100 ")) || end < 0 {
				return // the script answers without a 100: let it
			}
			interim = b[:end+4]
			c.skip = len(interim)
		case corpus.Hold, corpus.Close:
			return
		}
	}
	if live(cs) {
		r.Answer = append(r.Answer, interim...)
		v := cs.view(c)
		v.Chunks = append(v.Chunks, Chunk{At: now.Sub(cs.start), Dir: OriginToProxy, Data: interim})
	}
	*out = append(*out, interim)
}

// echo is the origin's default answer.
func echo(nonce, label string, head bool) []byte {
	body := "echo " + nonce + "/" + label + "\n"
	h := "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + strconv.Itoa(len(body)) +
		"\r\nX-Proxyspec-Label: " + label + "\r\n\r\n"
	if head {
		return []byte(h)
	}
	return []byte(h + body)
}

// stray records everything buffered as bytes that are not a request, for the case that used the
// connection last (or the case whose nonce they carry), and closes the connection.
func (c *oconn) stray() {
	if len(c.in) > 0 && !onlyLineEnds(c.in) {
		cs := c.o.cases[c.owner]
		if cs == nil {
			cs = c.o.cases[findNonce(c.in)]
		}
		if live(cs) {
			v := cs.view(c)
			v.Stray = append(v.Stray, c.in...)
			v.Chunks = append(v.Chunks, c.rangeChunks(c.inOff, c.inOff+int64(len(c.in)), cs.start)...)
		}
	}
	c.consume(len(c.in))
	c.mode, c.closeAfter = mStop, true
}

// ended handles the end of reading: the proxy closed or reset the connection, the idle deadline
// passed, or the origin closed it; o.mu held.
func (c *oconn) ended(now time.Time, err error) {
	if errors.Is(err, net.ErrClosed) {
		return // the origin closed it (hold released, Close)
	}
	var ne net.Error
	timeout := errors.As(err, &ne) && ne.Timeout()
	if !timeout { // EOF, ECONNRESET or another read error: the proxy ended it
		for _, cs := range c.viewers {
			if live(cs) {
				cs.views[c].Closed = true
			}
		}
	}
	why := "connection closed"
	if timeout {
		why = "idle deadline passed"
	}
	switch c.mode {
	case mHead:
		c.stray()
	case mBody:
		if cs := c.reqCase; live(cs) {
			c.partialBody(c.req, why)
			v := cs.view(c)
			v.Chunks = append(v.Chunks, c.rangeChunks(c.inOff, c.inOff+int64(len(c.in)), cs.start)...)
		}
		c.consume(len(c.in))
		c.req, c.reqCase, c.mode = nil, nil, mStop
	}
}

// partialBody fills r (c.req or a copy of it) with the part of its body that arrived.
func (c *oconn) partialBody(r *OriginRequest, why string) {
	r.RawBody = bytes.Clone(c.in)
	switch r.Framing {
	case "length":
		r.Body = bytes.Clone(c.in)
		r.BodyError = "body cut short (" + why + "): " + strconv.Itoa(len(c.in)) + " of " +
			strconv.FormatInt(c.clen, 10) + " bytes"
	case "chunked":
		cb := dechunk(c.in)
		r.Body = cb.Body
		r.BodyError = "chunked body cut short (" + why + ")"
	}
}

// copyConn deep-copies a view.
func copyConn(v *OriginConn) *OriginConn {
	cp := *v
	cp.Chunks = append([]Chunk(nil), v.Chunks...)
	cp.Stray = bytes.Clone(v.Stray)
	cp.Tunnel = bytes.Clone(v.Tunnel)
	cp.Requests = make([]*OriginRequest, len(v.Requests))
	for i, r := range v.Requests {
		rc := *r
		rc.Fields = append([]Field(nil), r.Fields...)
		rc.RawHead = bytes.Clone(r.RawHead)
		rc.Body = bytes.Clone(r.Body)
		rc.RawBody = bytes.Clone(r.RawBody)
		rc.Answer = bytes.Clone(r.Answer)
		cp.Requests[i] = &rc
	}
	return &cp
}
