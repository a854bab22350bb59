package targets

import (
	"context"
	"fmt"
	"regexp"
)

var nghttpxLauncher = &launcher{
	name:    "nghttpx",
	pkg:     "nghttp2-proxy",
	bin:     "nghttpx",
	verArgs: []string{"--version"},
	verRE:   regexp.MustCompile(`nghttp2/(\S+)`),
	profile: Profile{Upgrade: true,
		Notes: "one cleartext frontend (`-f 127.0.0.1,PORT;no-tls`), the origin as backend, one worker; it tunnels HTTP/1.1 Upgrade (WebSocket) to an HTTP/1.1 backend; " +
			"no range filter (Range is forwarded); no per-connection request limit; CONNECT is not proxied"},
	start: startNghttpx,
}

func startNghttpx(ctx context.Context, s *session) (string, string, error) {
	port, err := freePort()
	if err != nil {
		return "", "", err
	}
	addr := loopback(port)
	_, err = s.spawn([]string{s.bin, "--conf=/dev/null",
		fmt.Sprintf("--frontend=127.0.0.1,%d;no-tls", port),
		fmt.Sprintf("--backend=%s,%s", s.originHost, s.originPort),
		"--workers=1", "--pid-file=" + s.path("nghttpx.pid"),
		"--errorlog-file=/dev/stderr", "--no-ocsp"})
	return addr, "", err
}
