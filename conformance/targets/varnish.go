package targets

import (
	"context"
	"fmt"
	"regexp"
)

var varnishLauncher = &launcher{
	name:    "varnish",
	pkg:     "varnish",
	bin:     "varnishd",
	verArgs: []string{"-V"},
	verRE:   regexp.MustCompile(`varnish-(\S+)`),
	profile: Profile{Upgrade: true,
		Notes: "a pass-through VCL: `vcl_recv` keeps the built-in PRI and Host checks, pipes requests with `Upgrade: websocket` (so WebSocket tunnels), and passes everything else (`return (pass)`: nothing is cached); " +
			"Varnish's own range support applies only to delivered objects it can seek, and a pass forwards Range to the origin, so no range-filter; no per-connection request limit; CONNECT is not proxied"},
	start: startVarnish,
}

const varnishVCL = `vcl 4.1;
# written by proxyspec: Varnish as a pass-through reverse proxy to the harness origin
backend origin {
	.host = "%s";
	.port = "%s";
}
sub vcl_recv {
	if (req.method == "PRI") {
		return (synth(405));
	}
	if (!req.http.host && req.esi_level == 0 && req.proto ~ "^(?i)HTTP/1.1") {
		return (synth(400));
	}
	if (req.http.upgrade ~ "(?i)websocket") {
		return (pipe);
	}
	return (pass);
}
sub vcl_pipe {
	if (req.http.upgrade) {
		set bereq.http.upgrade = req.http.upgrade;
		set bereq.http.connection = req.http.connection;
	}
}
`

func startVarnish(ctx context.Context, s *session) (string, string, error) {
	port, err := freePort()
	if err != nil {
		return "", "", err
	}
	addr := loopback(port)
	if err := s.write("proxy.vcl", fmt.Sprintf(varnishVCL, s.originHost, s.originPort)); err != nil {
		return "", "", err
	}
	// varnishd reads the VCL after dropping privileges.
	if err := s.open(); err != nil {
		return "", "", err
	}
	_, err = s.spawn([]string{s.bin, "-F", "-a", addr, "-f", s.path("proxy.vcl"), "-n", s.path("work"),
		"-s", "malloc,32m", "-T", "none"})
	return addr, "", err
}
