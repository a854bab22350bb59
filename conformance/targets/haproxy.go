package targets

import (
	"context"
	"fmt"
	"regexp"
)

var haproxyLauncher = &launcher{
	name:    "haproxy",
	pkg:     "haproxy",
	bin:     "haproxy",
	verArgs: []string{"-v"},
	verRE:   regexp.MustCompile(`HAProxy version (\S+)`),
	profile: Profile{Upgrade: true,
		Notes: "`mode http` frontend and one backend server (default http-keep-alive mode); HAProxy tunnels WebSocket natively; " +
			"no range filter (Range is forwarded); no per-connection request limit exists, so no keepalive-limit-2 listener; CONNECT is not proxied"},
	start: startHAProxy,
}

func startHAProxy(ctx context.Context, s *session) (string, string, error) {
	port, err := freePort()
	if err != nil {
		return "", "", err
	}
	addr := loopback(port)
	conf := fmt.Sprintf(`# written by proxyspec: HAProxy as a reverse proxy to the harness origin
global
	log stderr format raw local0 warning
defaults
	mode http
	log global
	timeout connect 5s
	timeout client 30s
	timeout server 30s
	timeout tunnel 30s
frontend proxyspec
	bind %s
	default_backend origin
backend origin
	server origin %s
`, addr, s.origin)
	if err := s.write("haproxy.cfg", conf); err != nil {
		return "", "", err
	}
	_, err = s.spawn([]string{s.bin, "-db", "-f", s.path("haproxy.cfg")})
	return addr, "", err
}
