package targets

import (
	"context"
	"fmt"
	"regexp"
)

var caddyLauncher = &launcher{
	name:    "caddy",
	pkg:     "caddy",
	bin:     "caddy",
	verArgs: []string{"version"},
	verRE:   regexp.MustCompile(`v?(\d+\.\d+\.\d+\S*)`),
	profile: Profile{Upgrade: true,
		Notes: "`reverse_proxy` to the origin from an `http://` site bound to 127.0.0.1, admin API and automatic HTTPS off; it tunnels Upgrade after a 101 by itself; " +
			"no range filter (Range is forwarded); no per-connection request limit; CONNECT is not proxied"},
	start: startCaddy,
}

func startCaddy(ctx context.Context, s *session) (string, string, error) {
	port, err := freePort()
	if err != nil {
		return "", "", err
	}
	conf := fmt.Sprintf(`# written by proxyspec: Caddy as a reverse proxy to the harness origin
{
	admin off
	auto_https off
}
http://:%d {
	bind 127.0.0.1
	reverse_proxy %s
}
`, port, s.origin)
	if err := s.write("Caddyfile", conf); err != nil {
		return "", "", err
	}
	_, err = s.spawn([]string{s.bin, "run", "--config", s.path("Caddyfile"), "--adapter", "caddyfile"},
		"HOME="+s.dir, "XDG_DATA_HOME="+s.path("data"), "XDG_CONFIG_HOME="+s.path("config"))
	return loopback(port), "", err
}
