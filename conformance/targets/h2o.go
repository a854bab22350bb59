package targets

import (
	"context"
	"fmt"
	"regexp"
)

var h2oLauncher = &launcher{
	name:    "h2o",
	pkg:     "h2o",
	bin:     "h2o",
	verArgs: []string{"--version"},
	verRE:   regexp.MustCompile(`h2o version (\S+)`),
	profile: Profile{Upgrade: true,
		Notes: "`proxy.reverse.url` to the origin with `proxy.preserve-host: ON` and `proxy.websocket: ON` (WebSocket tunnels); no range filter (Range is forwarded); " +
			"h2o has no per-connection request limit; CONNECT is not proxied"},
	start: startH2O,
}

func startH2O(ctx context.Context, s *session) (string, string, error) {
	port, err := freePort()
	if err != nil {
		return "", "", err
	}
	conf := fmt.Sprintf(`# written by proxyspec: h2o as a reverse proxy to the harness origin
listen:
  host: 127.0.0.1
  port: %d
user: nobody
pid-file: %s/h2o.pid
error-log: /dev/stderr
hosts:
  default:
    paths:
      /:
        proxy.reverse.url: http://%s/
        proxy.preserve-host: ON
        proxy.websocket: ON
`, port, s.dir, s.origin)
	if err := s.write("h2o.conf", conf); err != nil {
		return "", "", err
	}
	if err := s.chown("nobody"); err != nil {
		return "", "", err
	}
	_, err = s.spawn([]string{s.bin, "-c", s.path("h2o.conf")})
	return loopback(port), "", err
}
