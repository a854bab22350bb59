package targets

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/proxyspec/proxyspec/conformance/suite"
	"github.com/proxyspec/proxyspec/conformance/wire"
	"github.com/proxyspec/proxyspec/corpus"
	"github.com/proxyspec/proxyspec/reports"
)

// smokeCases are a few plain exchanges any working reverse proxy handles: the smoke test checks
// that a launcher starts its proxy, points it at the origin, and stops it, not how the proxy
// judges. (Their verdicts are not asserted, only that none is an ERROR.)
var smokeCases = []string{
	"connection/keep-alive-sequential",
	"connection/pipelined-in-order",
	"connection/content-length-then-pipelined",
	"connection/close-request-stops",
	"chunked/extension-ignored",
}

// TestLaunchers launches every launcher whose proxy is installed, runs the smoke cases through it,
// stops it, and checks that nothing of it is left: no process in its process group, no scratch
// folder. A launcher whose package is absent is skipped with its name.
func TestLaunchers(t *testing.T) {
	all, err := corpus.Embedded()
	if err != nil {
		t.Fatalf("load corpus: %v", err)
	}
	var cases []*corpus.Case
	for _, c := range all {
		if slices.Contains(smokeCases, c.ID) {
			cases = append(cases, c)
		}
	}
	if len(cases) != len(smokeCases) {
		t.Fatalf("found %d of the %d smoke cases in the corpus", len(cases), len(smokeCases))
	}
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			if err := Available(name); errors.Is(err, ErrNotInstalled) {
				t.Skipf("package %s not installed", Package(name))
			} else if err != nil {
				t.Fatal(err)
			}
			smoke(t, name, cases)
		})
	}
}

func smoke(t *testing.T, name string, cases []*corpus.Case) {
	t.Helper()
	origin, err := wire.NewOrigin("127.0.0.1:0")
	if err != nil {
		t.Fatalf("origin: %v", err)
	}
	t.Cleanup(func() { origin.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)

	before := scratchDirs(name)
	l, err := Launch(ctx, name, origin.Addr(), Options{})
	if err != nil {
		t.Fatalf("launch: %v", err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			l.Stop()
		}
	})
	var pgids []int
	for _, p := range l.procs {
		pgids = append(pgids, p.PID())
	}
	var dirs []string // the scratch folder of this launch
	for _, d := range scratchDirs(name) {
		if !slices.Contains(before, d) {
			dirs = append(dirs, d)
		}
	}

	if l.Info.Name != name || l.Info.Version == "" {
		t.Errorf("Info = %+v, want name %q and a version", l.Info, name)
	}
	prof, _ := ProfileOf(name)
	for _, c := range []string{"range-filter", "upgrade", "connect", "keepalive-limit-2"} {
		_, has := l.Target.Caps[c]
		want := map[string]bool{"range-filter": prof.RangeFilter, "upgrade": prof.Upgrade, "connect": prof.Connect, "keepalive-limit-2": prof.KeepAliveLimit}[c]
		if has != want {
			t.Errorf("capability %s declared %v, profile says %v", c, has, want)
		}
	}
	if ka, ok := l.Target.Caps["keepalive-limit-2"]; ok && (ka == "" || ka == l.Target.Addr) {
		t.Errorf("keepalive-limit-2 address %q: want a listener of its own", ka)
	}

	run, err := suite.Run(ctx, suite.Config{Cases: cases, Target: l.Target, Info: l.Info, Origin: origin,
		ReadDeadline: 2 * time.Second, Parallel: 4})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if run.Summary.Total != len(cases) {
		t.Errorf("ran %d cases, want %d", run.Summary.Total, len(cases))
	}
	for _, c := range run.Cases {
		if c.Verdict == reports.Error {
			t.Errorf("%s: ERROR %s", c.ID, c.Reason)
		}
	}
	if err := l.Alive(); err != nil {
		t.Fatalf("after the run: %v", err)
	}

	stopped = true
	if err := l.Stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
	for _, pg := range pgids {
		// Stop killed what was left of the group; give the kernel a moment to reap it.
		deadline := time.Now().Add(3 * time.Second)
		for syscall.Kill(-pg, 0) == nil && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if err := syscall.Kill(-pg, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process group %d still has processes after Stop (kill 0: %v)", pg, err)
			_ = syscall.Kill(-pg, syscall.SIGKILL)
		}
	}
	for _, d := range dirs {
		if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("scratch folder %s left after Stop (%v)", d, err)
		}
	}
	if err := l.Stop(); err != nil {
		t.Errorf("second stop: %v", err)
	}
}

// scratchDirs lists the scratch folders of the launcher that exist now.
func scratchDirs(name string) []string {
	entries, err := os.ReadDir(os.TempDir())
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), "proxyspec-"+name+"-") {
			out = append(out, os.TempDir()+"/"+e.Name())
		}
	}
	return out
}

func TestLaunchStopsOnCancel(t *testing.T) {
	name := "nginx"
	if err := Available(name); err != nil {
		t.Skipf("package %s not installed", Package(name))
	}
	origin, err := wire.NewOrigin("127.0.0.1:0")
	if err != nil {
		t.Fatalf("origin: %v", err)
	}
	t.Cleanup(func() { origin.Close() })
	// A context already cancelled: the launch fails, and leaves no process and no folder behind.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	before := scratchDirs(name)
	l, err := Launch(ctx, name, origin.Addr(), Options{})
	if err == nil {
		l.Stop()
		t.Fatal("launch with a cancelled context succeeded")
	}
	if after := scratchDirs(name); len(after) > len(before) {
		t.Errorf("scratch folders left: %v", after)
	}
}

func TestRegistry(t *testing.T) {
	names := Names()
	if names[0] != "refproxy" {
		t.Errorf("Names()[0] = %q, want refproxy first", names[0])
	}
	want := []string{"refproxy", "nginx", "haproxy", "apache2", "varnish", "squid", "trafficserver", "h2o",
		"lighttpd", "caddy", "nghttpx", "tinyproxy", "go-reverseproxy"}
	if !slices.Equal(names, want) {
		t.Errorf("Names() = %v, want %v", names, want)
	}
	for _, l := range registry {
		t.Run(l.name, func(t *testing.T) {
			switch {
			case l.launch == nil && l.start == nil:
				t.Error("neither launch nor start")
			case l.start != nil && (l.bin == "" || l.pkg == "" || l.verRE == nil):
				t.Errorf("binary launcher without bin (%q), package (%q) or version pattern", l.bin, l.pkg)
			case l.profile.Notes == "":
				t.Error("profile without notes")
			}
		})
	}
}

func TestAvailableNamesThePackage(t *testing.T) {
	l := &launcher{name: "nosuch", pkg: "nosuch-pkg", bin: "proxyspec-no-such-binary"}
	_, err := l.binary()
	if !errors.Is(err, ErrNotInstalled) || !strings.Contains(err.Error(), "nosuch-pkg") {
		t.Errorf("binary() = %v, want ErrNotInstalled naming nosuch-pkg", err)
	}
	if err := Available("no-such-launcher"); err == nil || errors.Is(err, ErrNotInstalled) {
		t.Errorf("Available(unknown) = %v, want an unknown-launcher error", err)
	}
	if _, err := Launch(context.Background(), "no-such-launcher", "127.0.0.1:1", Options{}); err == nil {
		t.Error("Launch(unknown) succeeded")
	}
}

func TestProfileCaps(t *testing.T) {
	tests := []struct {
		name string
		p    Profile
		ka   string
		want map[string]string
	}{
		{"none", Profile{}, "", map[string]string{}},
		{"all", Profile{RangeFilter: true, KeepAliveLimit: true, Upgrade: true, Connect: true}, "127.0.0.1:9",
			map[string]string{"range-filter": "", "keepalive-limit-2": "127.0.0.1:9", "upgrade": "", "connect": ""}},
		{"limit without address", Profile{KeepAliveLimit: true}, "", map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.p.Caps(tt.ka)
			if len(got) != len(tt.want) {
				t.Fatalf("Caps = %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if g, ok := got[k]; !ok || g != v {
					t.Errorf("Caps[%s] = %q, %v; want %q", k, g, ok, v)
				}
			}
			for k := range got {
				if _, ok := corpus.Capabilities[k]; !ok {
					t.Errorf("capability %q is not a corpus capability", k)
				}
			}
		})
	}
}
