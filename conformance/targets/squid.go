package targets

import (
	"context"
	"fmt"
	"regexp"
)

var squidLauncher = &launcher{
	name:    "squid",
	pkg:     "squid",
	bin:     "squid",
	verArgs: []string{"-v"},
	verRE:   regexp.MustCompile(`Version (\S+)`),
	profile: Profile{Upgrade: true,
		Notes: "accelerator mode (`http_port ... accel vhost defaultsite=127.0.0.1`: the client's Host is kept, the origin as `cache_peer ... originserver`), `cache deny all` (nothing cached, so no range filter: Range is forwarded); " +
			"`http_upgrade_request_protocols` allows `websocket` and `WebSocket` (with `WebSocket` alone, Squid stripped a lowercase `Upgrade: websocket`); no per-connection request limit; CONNECT is not allowed on an accel port"},
	start: startSquid,
}

func startSquid(ctx context.Context, s *session) (string, string, error) {
	port, err := freePort()
	if err != nil {
		return "", "", err
	}
	addr := loopback(port)
	conf := fmt.Sprintf(`# written by proxyspec: Squid as a reverse proxy (accelerator) to the harness origin
http_port %[1]s accel vhost defaultsite=127.0.0.1
cache_peer %[2]s parent %[3]s 0 no-query no-digest originserver name=origin
cache_peer_access origin allow all
http_access allow all
# With WebSocket alone, Squid 5.7 stripped "Upgrade: websocket" (lowercase, as RFC 6455 clients send it).
http_upgrade_request_protocols websocket allow all
http_upgrade_request_protocols WebSocket allow all
cache deny all
cache_mem 8 MB
shutdown_lifetime 0 seconds
pid_filename %[4]s/squid.pid
coredump_dir %[4]s
access_log none
cache_store_log none
cache_log stdio:/dev/stderr
netdb_filename none
icp_port 0
pinger_enable off
htcp_port 0
cache_effective_user proxy
dns_nameservers 127.0.0.1
`, addr, s.originHost, s.originPort, s.dir)
	if err := s.write("squid.conf", conf); err != nil {
		return "", "", err
	}
	if err := s.chown("proxy"); err != nil {
		return "", "", err
	}
	_, err = s.spawn([]string{s.bin, "-N", "-f", s.path("squid.conf")})
	return addr, "", err
}
