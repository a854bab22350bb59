package targets

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/proxyspec/proxyspec/conformance/runner"
	"github.com/proxyspec/proxyspec/reports"
)

// Launched is a running target: where to send cases, what it is, and how to stop it.
type Launched struct {
	Target runner.Target
	Info   reports.Target
	procs  []*Process
	// closers run after the processes stopped, in order: in-process servers, leftover process
	// groups, scratch folders. Stop runs them once.
	closers []func() error
}

// Stop stops every process of the target, then runs its closers. It is safe to call more than once.
func (l *Launched) Stop() error {
	var errs []error
	for _, p := range l.procs {
		errs = append(errs, p.Stop())
	}
	closers := l.closers
	l.closers = nil
	for _, c := range closers {
		errs = append(errs, c())
	}
	return errors.Join(errs...)
}

// Alive reports an error if a process of the target has exited.
func (l *Launched) Alive() error {
	for _, p := range l.procs {
		if p.Exited() {
			return fmt.Errorf("%s (pid %d) exited during the run; its output:\n%s", p.Name, p.PID(), p.Output())
		}
	}
	return nil
}

// Options configure launchers.
type Options struct {
	// RefproxyBin is the refproxy binary; empty means: $PROXYSPEC_REFPROXY, then "refproxy" next
	// to this executable, then on $PATH, then built from the module source if we run inside it.
	RefproxyBin string
	// Faults are passed to every refproxy process as -fault NAME. Only a refproxy built with
	// -tags proxyspec_faults accepts them (give it as RefproxyBin); conformance/faults uses this
	// to prove each case able to fail.
	Faults []string
}

var listeningRE = regexp.MustCompile(`listening on (\S+)`)

// launchRefproxy starts two reference proxies: the main one (strict defaults, range filter on,
// upgrades) and one whose listener serves at most 2 requests per connection, which the
// keepalive-limit-2 cases use.
func launchRefproxy(ctx context.Context, origin string, o Options) (*Launched, error) {
	bin, err := RefproxyBinary(ctx, o.RefproxyBin)
	if err != nil {
		return nil, err
	}
	l := &Launched{Info: reports.Target{Name: "refproxy", Version: refproxyVersion(bin)}}
	start := func(extra ...string) (string, error) {
		argv := append([]string{bin, "-listen", "127.0.0.1:0", "-upstream", origin}, extra...)
		for _, f := range o.Faults {
			argv = append(argv, "-fault", f)
		}
		p, addr, err := Start(ctx, "refproxy", argv, nil, listeningRE, 10*time.Second)
		if err != nil {
			return "", err
		}
		l.procs = append(l.procs, p)
		return addr, nil
	}
	main, err := start("-range-filter")
	if err != nil {
		return nil, err
	}
	ka, err := start("-range-filter", "-keepalive-max-requests", "2")
	if err != nil {
		l.Stop()
		return nil, err
	}
	l.Target = runner.Target{Name: "refproxy", Addr: main, Host: main, Caps: map[string]string{
		"range-filter":      "",
		"upgrade":           "",
		"keepalive-limit-2": ka,
	}}
	return l, nil
}

func refproxyVersion(bin string) string {
	out, err := exec.Command(bin, "-version").Output()
	if err != nil {
		return "dev"
	}
	return strings.TrimSpace(string(out))
}

var (
	buildOnce sync.Once
	built     string
	buildErr  error
)

// RefproxyBinary finds the refproxy binary, building it from source when the harness runs inside
// the proxyspec module (go test, go run).
func RefproxyBinary(ctx context.Context, explicit string) (string, error) {
	if explicit != "" {
		return explicit, nil
	}
	if env := os.Getenv("PROXYSPEC_REFPROXY"); env != "" {
		return env, nil
	}
	if exe, err := os.Executable(); err == nil {
		cand := filepath.Join(filepath.Dir(exe), "refproxy")
		if st, err := os.Stat(cand); err == nil && !st.IsDir() {
			return cand, nil
		}
	}
	if root := moduleRoot(); root != "" {
		buildOnce.Do(func() { built, buildErr = buildRefproxy(ctx, root) })
		return built, buildErr
	}
	if p, err := exec.LookPath("refproxy"); err == nil {
		return p, nil
	}
	return "", errors.New("refproxy binary not found: pass --refproxy PATH, set PROXYSPEC_REFPROXY, put refproxy next to proxyspec, or run from the proxyspec source tree")
}

// moduleRoot walks up from the working directory to the proxyspec go.mod.
func moduleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(data), "module github.com/proxyspec/proxyspec\n") {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

func buildRefproxy(ctx context.Context, root string) (string, error) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
		if _, e := os.Stat(gobin); e != nil {
			gobin = "/usr/local/go/bin/go"
		}
	}
	// One binary per user in the cache, replaced atomically: concurrent builders (parallel test
	// packages, fuzzing workers) never see a half-written file, a running proxy keeps its inode,
	// and nothing is left in /tmp when a process dies without cleaning up. go build's own cache
	// makes the rebuild cheap.
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "proxyspec", "bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("build refproxy: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".refproxy-*")
	if err != nil {
		return "", fmt.Errorf("build refproxy: %w", err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	cmd := exec.CommandContext(ctx, gobin, "build", "-o", tmp.Name(), "./proxy/cmd/refproxy")
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build refproxy from %s: %v\n%s", root, err, msg)
	}
	out := filepath.Join(dir, "refproxy")
	if err := os.Rename(tmp.Name(), out); err != nil {
		return "", fmt.Errorf("build refproxy: %w", err)
	}
	return out, nil
}
