package wire

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"sort"
	"sync"
	"syscall"
	"time"
)

// DialOptions configure a Client.
type DialOptions struct {
	ID     int       // ClientConn.ID
	Start  time.Time // the case start that Chunk.At is relative to; zero: now
	Nonce  string    // the case nonce, to find the intended requests in the bytes sent
	Labels []string  // the intended request labels (corpus.Case.Requests)
	// WriteTimeout bounds each Send; zero: 2s.
	WriteTimeout time.Duration
}

// Client is one raw harness-client connection to the proxy under test. It records every write and
// read as it happens; a background goroutine reads and parses the responses as they arrive.
//
// Send, ShutdownWrite, AddLabel and Close are meant to be called from one goroutine (the case's);
// Wait and Peek may be called from any goroutine.
type Client struct {
	nc    net.Conn
	start time.Time
	nonce string
	wto   time.Duration

	mu      sync.Mutex
	cc      ClientConn
	labels  []string
	p       respParser
	changed chan struct{} // closed and replaced on every change
	last    time.Time     // last byte read or action taken
	done    bool          // the reader stopped: no more bytes will arrive
	closing bool          // Close was called: read errors are ours
	shut    bool
	final   bool

	readerDone chan struct{}
}

// Dial opens a connection to addr and starts reading it.
func Dial(ctx context.Context, addr string, opt DialOptions) (*Client, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return NewClient(nc, opt), nil
}

// NewClient wraps an established connection (Dial uses it; tests may pass one end of a pipe).
func NewClient(nc net.Conn, opt DialOptions) *Client {
	c := &Client{
		nc:         nc,
		start:      opt.Start,
		nonce:      opt.Nonce,
		wto:        opt.WriteTimeout,
		labels:     append([]string(nil), opt.Labels...),
		changed:    make(chan struct{}),
		readerDone: make(chan struct{}),
	}
	if c.start.IsZero() {
		c.start = time.Now()
	}
	if c.wto <= 0 {
		c.wto = 2 * time.Second
	}
	c.cc.ID = opt.ID
	c.last = time.Now()
	go c.readLoop()
	return c
}

// signal wakes every waiter; c.mu must be held.
func (c *Client) signal() {
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *Client) method(k int) string {
	if k < len(c.cc.Requests) {
		return c.cc.Requests[k].Method
	}
	return ""
}

func (c *Client) readLoop() {
	defer close(c.readerDone)
	buf := make([]byte, 32<<10)
	for {
		n, err := c.nc.Read(buf)
		now := time.Now()
		c.mu.Lock()
		if n > 0 {
			data := bytes.Clone(buf[:n])
			c.cc.Chunks = append(c.cc.Chunks, Chunk{At: now.Sub(c.start), Dir: ProxyToClient, Data: data})
			c.cc.Received = append(c.cc.Received, data...)
			c.last = now
		}
		eof := false
		if err != nil {
			c.done = true
			if !c.closing {
				switch {
				case errors.Is(err, io.EOF):
					c.cc.Closed, eof = true, true
				case errors.Is(err, syscall.ECONNRESET):
					c.cc.Closed, c.cc.Reset = true, true
				case errors.Is(err, net.ErrClosed):
				default:
					// Any other read error also ends the connection as the client saw it.
					c.cc.Closed = true
				}
			}
		}
		c.p.parse(&c.cc, c.method, eof, err != nil && !c.closing)
		c.signal()
		c.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// Send writes b and records it. The bytes are recorded before the write starts, so a response
// racing the write is still paired with its request; on a short write the record is trimmed.
func (c *Client) Send(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	data := bytes.Clone(b)
	now := time.Now()
	c.mu.Lock()
	idx := len(c.cc.Chunks)
	c.cc.Chunks = append(c.cc.Chunks, Chunk{At: now.Sub(c.start), Dir: ClientToProxy, Data: data})
	c.cc.Sent = append(c.cc.Sent, data...)
	tunnel := c.p.tunnel
	if tunnel {
		c.cc.TunnelSent = append(c.cc.TunnelSent, data...)
	}
	c.cc.Requests = findRequests(c.cc.Sent, c.nonce, c.labels)
	c.last = now
	c.mu.Unlock()

	_ = c.nc.SetWriteDeadline(now.Add(c.wto))
	n, err := c.nc.Write(data)
	if n < len(data) {
		c.mu.Lock()
		short := len(data) - n
		c.cc.Chunks[idx].Data = data[:n]
		c.cc.Sent = c.cc.Sent[:len(c.cc.Sent)-short]
		if tunnel {
			c.cc.TunnelSent = c.cc.TunnelSent[:len(c.cc.TunnelSent)-short]
		}
		c.cc.Requests = findRequests(c.cc.Sent, c.nonce, c.labels)
		c.mu.Unlock()
	}
	c.mu.Lock()
	c.last = time.Now()
	c.signal()
	c.mu.Unlock()
	return err
}

// AddLabel adds an intended request label (the runner adds the probe's before sending it).
func (c *Client) AddLabel(label string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.labels = append(c.labels, label)
	c.cc.Requests = findRequests(c.cc.Sent, c.nonce, c.labels)
}

// ShutdownWrite half-closes the connection (TCP FIN); reading goes on.
func (c *Client) ShutdownWrite() error {
	c.mu.Lock()
	c.shut = true
	c.last = time.Now()
	c.mu.Unlock()
	if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// WaitResult says why Wait returned.
type WaitResult int

const (
	WaitDone     WaitResult = iota // the condition holds
	WaitClosed                     // no more bytes will arrive (closed, reset, or read error)
	WaitIdle                       // idle passed since the last byte read or action taken
	WaitCanceled                   // ctx is done
)

func (r WaitResult) String() string {
	switch r {
	case WaitDone:
		return "done"
	case WaitClosed:
		return "closed"
	case WaitIdle:
		return "idle"
	default:
		return "canceled"
	}
}

// Wait blocks until cond holds, the connection ended, idle passed since the last byte read or
// action taken (Send, ShutdownWrite, connect), or ctx is done. cond is called with the
// connection's record under its lock, on every change; it must not keep the pointer.
// Wait has no side effect: the caller decides whether an idle result means TimedOut.
func (c *Client) Wait(ctx context.Context, idle time.Duration, cond func(cc *ClientConn) bool) WaitResult {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		c.mu.Lock()
		if cond(&c.cc) {
			c.mu.Unlock()
			return WaitDone
		}
		if c.done {
			c.mu.Unlock()
			return WaitClosed
		}
		ch := c.changed
		d := time.Until(c.last.Add(idle))
		c.mu.Unlock()
		if d <= 0 {
			return WaitIdle
		}
		if timer == nil {
			timer = time.NewTimer(d)
		} else {
			timer.Reset(d)
		}
		select {
		case <-ch: // Go 1.23+ timers: Reset discards a stale expiry, nothing to drain
		case <-timer.C:
		case <-ctx.Done():
			return WaitCanceled
		}
	}
}

// Peek calls f with the connection's record under its lock; f must not keep the pointer.
func (c *Client) Peek(f func(cc *ClientConn)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(&c.cc)
}

// State reports, under the lock, whether the connection ended (no more bytes will arrive), whether
// its write side was shut down, and whether it switched to a tunnel after a 101.
func (c *Client) State() (ended, shut, tunnel bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.done, c.shut, c.p.tunnel
}

// MarkTimedOut records that a read deadline passed while the harness still expected bytes.
func (c *Client) MarkTimedOut() {
	c.mu.Lock()
	c.cc.TimedOut = true
	c.mu.Unlock()
}

// Close closes the connection, waits for the reader, finishes parsing (a response cut short is
// recorded with Complete false; an incomplete head is a ParseError) and returns the record, which
// the Client no longer touches. Close may be called more than once.
func (c *Client) Close() *ClientConn {
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	_ = c.nc.Close()
	<-c.readerDone
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.final {
		c.final = true
		c.p.parse(&c.cc, c.method, false, true)
	}
	return &c.cc
}

// findRequests finds the intended requests in sent: for each label, the first "/NONCE/LABEL"
// followed by a byte that is not a label character. Method is the token starting that line,
// Version the token after the target. The result is ordered by Offset.
//
// A request pipelined after a body shares its "line" with the end of that body ("helloHEAD /x"),
// so when the token is not a standard method but ends with one, the method is that suffix and the
// offset points at it.
func findRequests(sent []byte, nonce string, labels []string) []SentRequest {
	if nonce == "" {
		return nil
	}
	var out []SentRequest
	for _, l := range labels {
		marker := []byte("/" + nonce + "/" + l)
		for from := 0; ; {
			i := bytes.Index(sent[from:], marker)
			if i < 0 {
				break
			}
			i += from
			end := i + len(marker)
			if end >= len(sent) {
				break
			}
			if isLabelChar(sent[end]) {
				from = i + 1
				continue
			}
			ls := bytes.LastIndexByte(sent[:i], '\n') + 1
			le := len(sent)
			if k := bytes.IndexByte(sent[ls:], '\n'); k >= 0 {
				le = ls + k
			}
			line := sent[ls:le]
			ts := bytes.LastIndexAny(sent[ls:i], " \t") + 1 // target start, relative to line
			te := i - ls
			for te < len(line) && line[te] != ' ' && line[te] != '\t' && line[te] != '\r' {
				te++
			}
			vs := te
			for vs < len(line) && (line[vs] == ' ' || line[vs] == '\t') {
				vs++
			}
			ve := vs
			for ve < len(line) && line[ve] != ' ' && line[ve] != '\t' && line[ve] != '\r' {
				ve++
			}
			if bytes.HasPrefix(bytes.ToLower(line), []byte("x-proxyspec-request:")) {
				// The marker is in a header (CONNECT's authority-form target cannot hold it):
				// the method and version are those of the request line that starts this head.
				hs := headStart(sent, ls)
				rl := sent[hs:]
				if k := bytes.IndexByte(rl, '\n'); k >= 0 {
					rl = rl[:k]
				}
				f := bytes.Fields(rl)
				rq := SentRequest{Label: l, Offset: hs}
				if len(f) > 0 {
					m, skip := splitMethod(f[0])
					rq.Method, rq.Offset = m, hs+skip
				}
				if len(f) > 2 {
					rq.Version = string(f[2])
				}
				out = append(out, rq)
				break
			}
			method, skip := splitMethod(token(line[:ts]))
			out = append(out, SentRequest{
				Label:   l,
				Method:  method,
				Version: string(line[vs:ve]),
				Offset:  ls + skip,
			})
			break
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Offset < out[b].Offset })
	return out
}

// headStart returns where the head holding the line at ls begins: after the last empty line before
// it (the end of the previous message's head), or at the start of sent.
func headStart(sent []byte, ls int) int {
	for i := ls - 1; i > 0; i-- {
		if sent[i] != '\n' {
			continue
		}
		// sent[i] ends the line before ours; the head starts after an empty line.
		j := i - 1
		if j >= 0 && sent[j] == '\r' {
			j--
		}
		if j < 0 || sent[j] == '\n' {
			return i + 1
		}
	}
	return 0
}

// token returns the bytes at the start of b up to the first space, tab or CR.
func token(b []byte) []byte {
	for i, c := range b {
		if c == ' ' || c == '\t' || c == '\r' {
			return b[:i]
		}
	}
	return b
}

var standardMethods = []string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}

// splitMethod returns the method in tok and how many leading bytes of tok precede it.
func splitMethod(tok []byte) (string, int) {
	best := ""
	for _, m := range standardMethods {
		if string(tok) == m {
			return m, 0
		}
		if bytes.HasSuffix(tok, []byte(m)) && len(m) > len(best) {
			best = m
		}
	}
	if best == "" {
		return string(tok), 0
	}
	return best, len(tok) - len(best)
}
