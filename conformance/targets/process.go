// Package targets starts proxies under test: each launcher writes what the proxy needs, starts it
// in the foreground on free loopback ports pointed at the harness origin, waits until it listens,
// and stops it by its own PID. Proxies run as processes, the reference proxy included: the harness
// tests every proxy the same way, and never links the reference proxy's code.
package targets

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is a proxy process the harness started.
type Process struct {
	Name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error // exit status, once done is closed

	mu  sync.Mutex
	log strings.Builder // the process's output, kept for error messages
}

// Start runs argv[0] with argv[1:] and waits until its output matches ready (whose first group is
// returned, e.g. the address it listens on), or the process exits, or wait passes.
func Start(ctx context.Context, name string, argv []string, env []string, ready *regexp.Regexp, wait time.Duration) (*Process, string, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	// Own process group, so a stop reaches any children and a Ctrl-C in the terminal does not
	// race our own orderly stop.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	dieWithParent(cmd.SysProcAttr)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("start %s: %w", name, err)
	}
	p := &Process{Name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		pw.Close()
		close(p.done)
	}()
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			if p.log.Len() < 64<<10 {
				p.log.WriteString(line + "\n")
			}
			p.mu.Unlock()
			if m := ready.FindStringSubmatch(line); m != nil && !sent {
				sent = true
				if len(m) > 1 {
					found <- m[1]
				} else {
					found <- ""
				}
			}
		}
		io.Copy(io.Discard, pr)
	}()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case v := <-found:
		return p, v, nil
	case <-p.done:
		return nil, "", fmt.Errorf("%s exited before it was ready (%v); its output:\n%s", name, p.err, p.Output())
	case <-timer.C:
		p.Stop()
		return nil, "", fmt.Errorf("%s did not report it was ready within %s; its output:\n%s", name, wait, p.Output())
	case <-ctx.Done():
		p.Stop()
		return nil, "", ctx.Err()
	}
}

// Output returns what the process has printed so far (bounded).
func (p *Process) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// PID is the process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM to the process (by its own PID), then SIGKILL to its group if it has not
// exited within 3 s, and waits for it. It is safe to call more than once.
func (p *Process) Stop() error {
	if p == nil || p.Exited() {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(3 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
	var ee *exec.ExitError
	if p.err != nil && !errors.As(p.err, &ee) {
		return fmt.Errorf("stop %s: %w", p.Name, p.err)
	}
	return nil
}
