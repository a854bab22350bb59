package targets

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// ErrNotInstalled reports that a launcher's binary is not on this machine; the error names the
// Debian package that provides it.
var ErrNotInstalled = errors.New("not installed")

// Profile is what a launcher configures its proxy to do, in terms of the corpus capabilities, and
// why. It is the documented contract of the launcher: Launch declares exactly these capabilities.
type Profile struct {
	RangeFilter    bool   // answers Range requests itself for full 200 responses (capability range-filter)
	KeepAliveLimit bool   // a second listener serves at most 2 requests per connection (keepalive-limit-2)
	Upgrade        bool   // forwards Upgrade requests and tunnels after a 101 (upgrade)
	Connect        bool   // forwards CONNECT (connect); false: CONNECT is expected to be refused
	Notes          string // the configuration choices behind the profile, one paragraph
}

// Caps returns the profile as runner capabilities; the keepalive-limit-2 capability gets kaAddr.
func (p Profile) Caps(kaAddr string) map[string]string {
	caps := map[string]string{}
	if p.RangeFilter {
		caps["range-filter"] = ""
	}
	if p.KeepAliveLimit && kaAddr != "" {
		caps["keepalive-limit-2"] = kaAddr
	}
	if p.Upgrade {
		caps["upgrade"] = ""
	}
	if p.Connect {
		caps["connect"] = ""
	}
	return caps
}

// launcher is one registered proxy kind.
type launcher struct {
	name    string
	pkg     string   // Debian package that provides bin; "" if none is needed
	bin     string   // executable name, looked up on $PATH and in the sbin folders
	verArgs []string // arguments that make bin print its version
	verRE   *regexp.Regexp
	profile Profile
	// start starts the proxy for s (via s.spawn) and returns the main address and, if the profile
	// has KeepAliveLimit, the address of the listener limited to 2 requests per connection.
	start func(ctx context.Context, s *session) (addr, kaAddr string, err error)
	// launch replaces the whole binary-based sequence (refproxy, in-process peers).
	launch func(ctx context.Context, origin string, o Options) (*Launched, error)
}

// registry lists the launchers; Names returns them in this order.
var registry = []*launcher{
	refproxyLauncher,
	nginxLauncher,
	haproxyLauncher,
	apacheLauncher,
	varnishLauncher,
	squidLauncher,
	trafficserverLauncher,
	h2oLauncher,
	lighttpdLauncher,
	caddyLauncher,
	nghttpxLauncher,
	tinyproxyLauncher,
	goReverseProxyLauncher,
}

var refproxyLauncher = &launcher{
	name: "refproxy",
	profile: Profile{RangeFilter: true, KeepAliveLimit: true, Upgrade: true,
		Notes: "the reference proxy with -range-filter; a second refproxy process with -keepalive-max-requests 2; CONNECT refused (405)"},
	launch: launchRefproxy,
}

func lookup(name string) (*launcher, bool) {
	i := slices.IndexFunc(registry, func(l *launcher) bool { return l.name == name })
	if i < 0 {
		return nil, false
	}
	return registry[i], true
}

// Names lists the launchers.
func Names() []string {
	out := make([]string, len(registry))
	for i, l := range registry {
		out[i] = l.name
	}
	return out
}

// ProfileOf returns the capability profile of the named launcher.
func ProfileOf(name string) (Profile, bool) {
	l, ok := lookup(name)
	if !ok {
		return Profile{}, false
	}
	return l.profile, true
}

// Package returns the Debian package that provides the named launcher's proxy ("" if none).
func Package(name string) string {
	if l, ok := lookup(name); ok {
		return l.pkg
	}
	return ""
}

// Available reports whether the named launcher can run here: nil, or an error wrapping
// ErrNotInstalled that names the Debian package to install.
func Available(name string) error {
	l, ok := lookup(name)
	if !ok {
		return unknownLauncher(name)
	}
	_, err := l.binary()
	return err
}

func unknownLauncher(name string) error {
	return fmt.Errorf("unknown launcher %q (known: %s)", name, strings.Join(Names(), ", "))
}

// Launch starts the named proxy in front of origin (host:port), waits until a plain GET makes the
// round trip through it, and returns it running. The caller stops it with Launched.Stop.
func Launch(ctx context.Context, name, origin string, o Options) (*Launched, error) {
	l, ok := lookup(name)
	if !ok {
		return nil, unknownLauncher(name)
	}
	if l.launch != nil {
		return l.launch(ctx, origin, o)
	}
	return l.run(ctx, origin)
}

// sbinDirs are searched after $PATH: Debian installs most servers in /usr/sbin, which is not on
// the $PATH of every user.
var sbinDirs = []string{"/usr/sbin", "/sbin", "/usr/local/sbin"}

// binary finds the launcher's executable.
func (l *launcher) binary() (string, error) {
	if l.bin == "" {
		return "", nil
	}
	if p, err := exec.LookPath(l.bin); err == nil {
		return p, nil
	}
	for _, d := range sbinDirs {
		p := filepath.Join(d, l.bin)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: %s %w: install the Debian package %s (make peers-install)", l.name, l.bin, ErrNotInstalled, l.pkg)
}

// version runs the binary to learn its exact version.
func (l *launcher) version(bin string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, l.verArgs...).CombinedOutput()
	m := l.verRE.FindSubmatch(out)
	if m == nil {
		if err != nil {
			return "", fmt.Errorf("%s %s: %w: %s", bin, strings.Join(l.verArgs, " "), err, firstLine(out))
		}
		return "", fmt.Errorf("%s %s: no version in %q", bin, strings.Join(l.verArgs, " "), firstLine(out))
	}
	return string(m[1]), nil
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return s
}
