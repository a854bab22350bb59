package proxy

import (
	"errors"
	"net"
	"sync/atomic"
	"time"
)

// errAborted is returned by a timedConn whose reads or writes another
// goroutine aborted.
var errAborted = errors.New("proxy: connection I/O aborted")

// aLongTimeAgo is a deadline in the past, used to wake a blocked Read/Write.
var aLongTimeAgo = time.Unix(1, 0)

// timedConn wraps a connection with per-operation timeouts, abortable I/O
// and write-time measurement.
//
// Deadlines are refreshed before a Read/Write only when an eighth of the
// timeout has passed since they were last set: the timeout then holds to
// within 12.5% and most operations skip the deadline update.
//
// Abort (from another goroutine) must win over a concurrent deadline refresh:
// the flag is checked again after the refresh, and Abort sets the flag
// before moving the deadline into the past.
type timedConn struct {
	net.Conn
	rTimeout, wTimeout time.Duration
	rSet, wSet         time.Time // when the deadline was last refreshed (zero: not by us)
	abortR, abortW     atomic.Bool

	// measure enables accumulating the time spent inside Write.
	measure bool
	pending time.Duration
	written int64 // bytes written so far
}

func (c *timedConn) reset(nc net.Conn, rt, wt time.Duration) {
	c.Conn, c.rTimeout, c.wTimeout = nc, rt, wt
	c.rSet, c.wSet = time.Time{}, time.Time{}
	c.abortR.Store(false)
	c.abortW.Store(false)
	c.measure, c.pending = false, 0
}

func (c *timedConn) Read(p []byte) (int, error) {
	if c.abortR.Load() {
		return 0, errAborted
	}
	if c.rTimeout > 0 {
		now := time.Now()
		if now.Sub(c.rSet) > c.rTimeout/8 {
			c.rSet = now
			c.Conn.SetReadDeadline(now.Add(c.rTimeout))
			if c.abortR.Load() {
				return 0, errAborted
			}
		}
	}
	return c.Conn.Read(p)
}

func (c *timedConn) Write(p []byte) (int, error) {
	if c.abortW.Load() {
		return 0, errAborted
	}
	var now time.Time
	if c.wTimeout > 0 || c.measure {
		now = time.Now()
	}
	if c.wTimeout > 0 && now.Sub(c.wSet) > c.wTimeout/8 {
		c.wSet = now
		c.Conn.SetWriteDeadline(now.Add(c.wTimeout))
		if c.abortW.Load() {
			return 0, errAborted
		}
	}
	n, err := c.Conn.Write(p)
	c.written += int64(n)
	if c.measure {
		c.pending += time.Since(now)
	}
	return n, err
}

// setReadTimeout switches to per-read timeouts of d (0: none) from now on.
func (c *timedConn) setReadTimeout(d time.Duration) {
	c.rTimeout, c.rSet = d, time.Time{}
	if d == 0 {
		c.Conn.SetReadDeadline(time.Time{})
	}
}

// readDeadline sets one absolute deadline for the following reads (and
// disables per-read timeouts).
func (c *timedConn) readDeadline(t time.Time) {
	c.rTimeout, c.rSet = 0, time.Time{}
	c.Conn.SetReadDeadline(t)
}

// abortRead makes pending and future reads fail. Safe from any goroutine.
func (c *timedConn) abortRead() {
	c.abortR.Store(true)
	c.Conn.SetReadDeadline(aLongTimeAgo)
}

// abortWrite makes pending and future writes fail. Safe from any goroutine.
func (c *timedConn) abortWrite() {
	c.abortW.Store(true)
	c.Conn.SetWriteDeadline(aLongTimeAgo)
}

// isTimeout reports whether err is a deadline expiry.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
