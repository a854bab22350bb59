//go:build !linux

package targets

import "syscall"

// dieWithParent has no portable equivalent outside Linux; Stop remains the way to end a proxy.
func dieWithParent(*syscall.SysProcAttr) {}
