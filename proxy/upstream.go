package proxy

import (
	"bufio"
	"context"
	"net"
	"sync"
	"time"

	"github.com/proxyspec/proxyspec/proxy/h1"
	"github.com/proxyspec/proxyspec/proxy/internal/fault"
)

// upConn is one connection to an upstream.
type upConn struct {
	tc     timedConn
	rd     h1.Reader
	bw     *bufio.Writer
	pool   *upstreamPool
	reused bool      // served an earlier request
	idleAt time.Time // when it entered the pool
	alive  aliveChecker
	closed bool // close was called (reported to the observer once)
}

// upstreamPool dials an upstream and keeps its idle connections.
type upstreamPool struct {
	faults fault.Set
	opts   UpstreamOptions
	dialer net.Dialer
	group  string   // upstream group name, for the observer
	obs    Observer // set by the group; never nil in use

	mu     sync.Mutex
	idle   []*upConn // LIFO: the most recently used connection is the warmest
	closed bool
}

func newUpstreamPool(o UpstreamOptions, faults fault.Set) *upstreamPool {
	return &upstreamPool{faults: faults, opts: o, dialer: net.Dialer{Timeout: o.ConnectTimeout}}
}

var bufWriterPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 8<<10) }}

// get returns an idle connection that still looks alive, or dials a new one.
// With fresh set it always dials.
func (p *upstreamPool) get(ctx context.Context, fresh bool) (*upConn, error) {
	for !fresh {
		p.mu.Lock()
		n := len(p.idle)
		if n == 0 {
			p.mu.Unlock()
			break
		}
		u := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		// A connection the origin closed (or wrote to) while idle is
		// useless: drop it rather than lose a request on it.
		if time.Since(u.idleAt) < p.opts.IdleTimeout && u.alive.check() {
			u.reused = true
			u.tc.reset(u.tc.Conn, p.opts.ReadTimeout, p.opts.WriteTimeout)
			p.obs.PoolGet(p.group, p.opts.Addr, true)
			return u, nil
		}
		u.close()
	}
	p.obs.PoolGet(p.group, p.opts.Addr, false)
	nc, err := p.dialer.DialContext(ctx, "tcp", p.opts.Addr)
	if err != nil {
		return nil, err
	}
	p.obs.UpstreamConnOpened(p.group, p.opts.Addr)
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	u := &upConn{pool: p}
	u.alive.init(nc)
	u.tc.reset(nc, p.opts.ReadTimeout, p.opts.WriteTimeout)
	u.rd.Reset(&u.tc, 0)
	u.bw = bufWriterPool.Get().(*bufio.Writer)
	u.bw.Reset(&u.tc)
	return u, nil
}

// put returns a connection whose last exchange ended cleanly.
func (p *upstreamPool) put(u *upConn) {
	stray := len(u.rd.Buffered()) != 0
	if stray && !p.faults.Has(fault.UpstreamStrayBytesPooled) || u.bw.Buffered() != 0 {
		u.close() // never pool a connection with stray bytes
		return
	}
	u.tc.Conn.SetDeadline(time.Time{})
	u.tc.measure = false
	if !stray {
		u.rd.Release()
		u.rd.Reset(&u.tc, 0)
	}
	u.idleAt = time.Now()
	p.mu.Lock()
	if p.closed || len(p.idle) >= p.opts.MaxIdle {
		p.mu.Unlock()
		u.close()
		return
	}
	p.idle = append(p.idle, u)
	p.mu.Unlock()
}

// close drops the pool's idle connections; later puts close theirs.
func (p *upstreamPool) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, u := range idle {
		u.close()
	}
}

// dropExpired closes idle connections older than the idle timeout.
func (p *upstreamPool) dropExpired(now time.Time) {
	p.mu.Lock()
	// The idle list is in pooling order: the oldest come first.
	i := 0
	for i < len(p.idle) && now.Sub(p.idle[i].idleAt) >= p.opts.IdleTimeout {
		i++
	}
	expired := make([]*upConn, i)
	copy(expired, p.idle[:i])
	n := copy(p.idle, p.idle[i:])
	clear(p.idle[n:])
	p.idle = p.idle[:n]
	p.mu.Unlock()
	for _, u := range expired {
		u.close()
	}
}

func (u *upConn) close() {
	if !u.closed {
		u.closed = true
		u.pool.obs.UpstreamConnClosed(u.pool.group, u.pool.opts.Addr)
	}
	u.tc.Conn.Close()
	u.rd.Release()
	if u.bw != nil {
		u.bw.Reset(nil)
		bufWriterPool.Put(u.bw)
		u.bw = nil
	}
}
