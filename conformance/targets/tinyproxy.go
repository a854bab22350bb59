package targets

import (
	"context"
	"fmt"
	"regexp"
)

var tinyproxyLauncher = &launcher{
	name:    "tinyproxy",
	pkg:     "tinyproxy",
	bin:     "tinyproxy",
	verArgs: []string{"-v"},
	verRE:   regexp.MustCompile(`tinyproxy (\S+)`),
	profile: Profile{
		Notes: "reverse-only (`ReversePath \"/\" \"http://ORIGIN/\"`, `ReverseOnly Yes`); tinyproxy speaks HTTP/1.0 to both sides and closes after each response, " +
			"so it has no keep-alive to limit and does not tunnel upgrades; no range filter; CONNECT is limited to `ConnectPort 443`"},
	start: startTinyproxy,
}

func startTinyproxy(ctx context.Context, s *session) (string, string, error) {
	port, err := freePort()
	if err != nil {
		return "", "", err
	}
	conf := fmt.Sprintf(`# written by proxyspec: tinyproxy as a reverse proxy to the harness origin
User nobody
Group nogroup
Listen 127.0.0.1
Port %d
Timeout 30
MaxClients 100
LogLevel Warning
PidFile "%s/tinyproxy.pid"
ReversePath "/" "http://%s/"
ReverseOnly Yes
ConnectPort 443
`, port, s.dir, s.origin)
	if err := s.write("tinyproxy.conf", conf); err != nil {
		return "", "", err
	}
	if err := s.chown("nobody"); err != nil {
		return "", "", err
	}
	_, err = s.spawn([]string{s.bin, "-d", "-c", s.path("tinyproxy.conf")})
	return loopback(port), "", err
}
