package targets

import (
	"context"
	"fmt"
	"regexp"
)

var lighttpdLauncher = &launcher{
	name:    "lighttpd",
	pkg:     "lighttpd",
	bin:     "lighttpd",
	verArgs: []string{"-v"},
	verRE:   regexp.MustCompile(`lighttpd/(\S+)`),
	profile: Profile{KeepAliveLimit: true, Upgrade: true,
		Notes: "mod_proxy to the origin with `proxy.header = (\"upgrade\" => \"enable\")` (WebSocket tunnels); no range filter for proxied responses (Range is forwarded); " +
			"a second socket with `server.max-keep-alive-requests = 1` (lighttpd counts the requests after the first: 2 requests per connection); CONNECT is not proxied (mod_proxy's `connect` option is off)"},
	start: startLighttpd,
}

func startLighttpd(ctx context.Context, s *session) (string, string, error) {
	ps, err := ports(2)
	if err != nil {
		return "", "", err
	}
	conf := fmt.Sprintf(`# written by proxyspec: lighttpd as a reverse proxy to the harness origin
server.document-root = "%[1]s"
server.bind = "127.0.0.1"
server.port = %[2]d
server.errorlog = "/dev/stderr"
server.modules = ("mod_proxy")
proxy.server = ("" => (("host" => "%[4]s", "port" => %[5]s)))
proxy.header = ("upgrade" => "enable")
# lighttpd counts the requests after the first: 1 means 2 requests per connection.
$SERVER["socket"] == "127.0.0.1:%[3]d" {
	server.max-keep-alive-requests = 1
}
`, s.dir, ps[0], ps[1], s.originHost, s.originPort)
	if err := s.write("lighttpd.conf", conf); err != nil {
		return "", "", err
	}
	_, err = s.spawn([]string{s.bin, "-D", "-f", s.path("lighttpd.conf")})
	return loopback(ps[0]), loopback(ps[1]), err
}
