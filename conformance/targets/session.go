package targets

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/proxyspec/proxyspec/conformance/runner"
	"github.com/proxyspec/proxyspec/reports"
)

// readyWait bounds how long a proxy may take to start answering.
const readyWait = 30 * time.Second

// session is one launch of a binary proxy: its scratch folder, the origin it forwards to, and the
// processes it started.
type session struct {
	l          *launcher
	bin        string // absolute path of the executable
	dir        string // scratch folder: configuration, pid and temporary files
	origin     string // harness origin, host:port
	originHost string
	originPort string
	out        *Launched
}

// run is the common launch sequence of a binary proxy: find the binary, record its version, write
// its configuration in a fresh folder, start it, wait until a GET makes the round trip through
// every listener, and declare the profile's capabilities.
func (l *launcher) run(ctx context.Context, origin string) (_ *Launched, err error) {
	bin, err := l.binary()
	if err != nil {
		return nil, err
	}
	version, err := l.version(bin)
	if err != nil {
		return nil, fmt.Errorf("%s: version: %w", l.name, err)
	}
	host, port, err := net.SplitHostPort(origin)
	if err != nil {
		return nil, fmt.Errorf("%s: origin %q: %w", l.name, origin, err)
	}
	dir, err := os.MkdirTemp("", "proxyspec-"+l.name+"-")
	if err != nil {
		return nil, fmt.Errorf("%s: scratch folder: %w", l.name, err)
	}
	s := &session{l: l, bin: bin, dir: dir, origin: origin, originHost: host, originPort: port,
		out: &Launched{Info: reports.Target{Name: l.name, Version: version}}}
	s.out.closers = append(s.out.closers, func() error { return os.RemoveAll(dir) })
	defer func() {
		if err != nil {
			err = errors.Join(err, s.out.Stop())
		}
	}()
	addr, kaAddr, err := l.start(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.name, err)
	}
	for _, a := range []string{addr, kaAddr} {
		if a == "" {
			continue
		}
		if err := s.ready(ctx, a); err != nil {
			return nil, fmt.Errorf("%s: %w", l.name, err)
		}
	}
	s.out.Target = runner.Target{Name: l.name, Addr: addr, Host: addr, Caps: l.profile.Caps(kaAddr)}
	return s.out, nil
}

// path returns the absolute path of name in the scratch folder.
func (s *session) path(name string) string { return filepath.Join(s.dir, name) }

// write writes a file of the scratch folder, creating its parent folders.
func (s *session) write(name, content string) error {
	p := s.path(name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}

// mkdir creates folders in the scratch folder.
func (s *session) mkdir(names ...string) error {
	for _, n := range names {
		if err := os.MkdirAll(s.path(n), 0o755); err != nil {
			return fmt.Errorf("mkdir %s: %w", s.path(n), err)
		}
	}
	return nil
}

// chown gives the scratch folder and everything in it to the named user (and its primary
// group), for proxies that drop privileges and then write their pid, log or temporary files. It
// does nothing unless we run as root (otherwise the proxy runs as us and the folder is ours).
func (s *session) chown(username string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup(username)
	if err != nil {
		return fmt.Errorf("chown scratch folder: %w", err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("chown scratch folder to %s: %w", username, err)
	}
	if err := s.open(); err != nil {
		return err
	}
	err = filepath.WalkDir(s.dir, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
	if err != nil {
		return fmt.Errorf("chown %s to %s: %w", s.dir, username, err)
	}
	return nil
}

// open lets every user enter the scratch folder (MkdirTemp makes it 0700), for proxies that drop
// privileges before they read their configuration.
func (s *session) open() error {
	if err := os.Chmod(s.dir, 0o755); err != nil {
		return fmt.Errorf("chmod %s: %w", s.dir, err)
	}
	return nil
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// ports returns n distinct free loopback ports.
func ports(n int) ([]int, error) {
	var out []int
	// Hold every listener until all are chosen, so that the ports differ.
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}

func loopback(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// spawn starts argv in the foreground as its own process (in its own process group, so that a
// stop reaches its workers and a Ctrl-C in the terminal does not race our orderly stop), in the
// scratch folder, and registers it with the launched target. Its output is kept for errors.
func (s *session) spawn(argv []string, env ...string) (*Process, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	dieWithParent(cmd.SysProcAttr)
	// A helper that left the process group (squid's pinger does) may hold the output pipe open:
	// do not wait for it once the process itself has exited.
	cmd.WaitDelay = time.Second
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	p := &Process{Name: s.l.name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		pw.Close()
		close(p.done)
	}()
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			if p.log.Len() < 64<<10 {
				p.log.WriteString(sc.Text() + "\n")
			}
			p.mu.Unlock()
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	s.out.procs = append(s.out.procs, p)
	// Whatever the process left in its group (workers of a master that died first) goes too.
	pgid := cmd.Process.Pid
	s.out.closers = append(s.out.closers, func() error {
		if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("kill process group %d of %s: %w", pgid, s.l.name, err)
		}
		return nil
	})
	return p, nil
}

// ready waits until addr accepts connections and a GET through it reaches the harness origin and
// comes back (the origin answers requests of no case with a 200 "echo" body), or a process of the
// target exits, or readyWait passes.
func (s *session) ready(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, readyWait)
	defer cancel()
	var last error
	for {
		if err := s.out.Alive(); err != nil {
			return err
		}
		if last = roundTrip(ctx, addr); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			out := ""
			for _, p := range s.out.procs {
				out += p.Output()
			}
			return fmt.Errorf("not answering on %s within %s (last: %v); its output:\n%s", addr, readyWait, last, out)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// roundTrip sends one GET through the proxy at addr and checks it came back from the origin.
func roundTrip(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	tr := &http.Transport{Proxy: nil, DisableKeepAlives: true, DialContext: (&net.Dialer{}).DialContext}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/proxyspec-launch-check", nil)
	if err != nil {
		return err
	}
	rsp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return err
	}
	defer rsp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(rsp.Body, 4096))
	if err != nil {
		return err
	}
	if rsp.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "echo ") {
		return fmt.Errorf("GET through %s: %s %q, not the origin's echo", addr, rsp.Status, firstLine(body))
	}
	return nil
}
