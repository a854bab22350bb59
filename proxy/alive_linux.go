package proxy

import (
	"net"
	"syscall"
)

// aliveChecker tells whether an idle connection is still usable: no EOF, no
// error and no unsolicited bytes pending. It peeks without blocking. The
// raw connection and callback are made once per connection, so a check
// does not allocate.
type aliveChecker struct {
	rc    syscall.RawConn
	fn    func(fd uintptr) bool
	alive bool
	b     [1]byte
}

func (a *aliveChecker) init(c net.Conn) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	a.rc = rc
	a.fn = func(fd uintptr) bool {
		_, _, err := syscall.Recvfrom(int(fd), a.b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		a.alive = err == syscall.EAGAIN || err == syscall.EWOULDBLOCK
		return true
	}
}

func (a *aliveChecker) check() bool {
	if a.rc == nil {
		return true
	}
	a.alive = false
	return a.rc.Read(a.fn) == nil && a.alive
}
