package targets

import "syscall"

// dieWithParent makes the kernel kill the proxy when the harness dies without stopping it (a
// crashed test, a fuzzing worker the fuzzer kills), so no proxy outlives its run. The proxy has its
// own process group, so it would not get the terminal's signals either.
func dieWithParent(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
