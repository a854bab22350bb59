//go:build !linux

package proxy

import "net"

// aliveChecker cannot peek portably; the retry of idempotent requests
// covers a connection the origin closed while idle.
type aliveChecker struct{}

func (a *aliveChecker) init(net.Conn) {}
func (a *aliveChecker) check() bool   { return true }
