package targets

import (
	"context"
	"fmt"
	"regexp"
)

var nginxLauncher = &launcher{
	name:    "nginx",
	pkg:     "nginx-light",
	bin:     "nginx",
	verArgs: []string{"-v"},
	verRE:   regexp.MustCompile(`nginx/(\S+)`),
	profile: Profile{RangeFilter: true, KeepAliveLimit: true, Upgrade: true,
		Notes: "`proxy_pass` to a keep-alive upstream (HTTP/1.1, `Connection` cleared unless the client asks to upgrade, `Upgrade` passed on: WebSocket tunnels); " +
			"`proxy_force_ranges on` makes nginx's range filter answer Range itself on full 200 responses (Range is still forwarded too); " +
			"a second server block with `keepalive_requests 2`; CONNECT is not proxied (nginx answers 400/405 itself)"},
	start: startNginx,
}

// nginxLocation is the proxying both server blocks share.
const nginxLocation = `
		location / {
			proxy_pass http://origin;
			proxy_http_version 1.1;
			proxy_set_header Host $http_host;
			proxy_set_header Upgrade $http_upgrade;
			proxy_set_header Connection $connection_upgrade;
			proxy_force_ranges on;
		}`

func startNginx(ctx context.Context, s *session) (string, string, error) {
	ps, err := ports(2)
	if err != nil {
		return "", "", err
	}
	addr, ka := loopback(ps[0]), loopback(ps[1])
	conf := fmt.Sprintf(`# written by proxyspec: nginx as a reverse proxy to the harness origin
pid %[1]s/nginx.pid;
error_log stderr warn;
worker_processes 1;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path %[1]s/client_body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	upstream origin {
		server %[2]s;
		keepalive 32;
	}
	map $http_upgrade $connection_upgrade {
		default upgrade;
		"" "";
	}
	server {
		listen %[3]s;%[5]s
	}
	server {
		listen %[4]s;
		keepalive_requests 2;%[5]s
	}
}
`, s.dir, s.origin, addr, ka, nginxLocation)
	if err := s.write("nginx.conf", conf); err != nil {
		return "", "", err
	}
	// Workers run as nobody and write request bodies under the scratch folder.
	if err := s.chown("nobody"); err != nil {
		return "", "", err
	}
	_, err = s.spawn([]string{s.bin, "-e", "stderr", "-p", s.dir + "/", "-c", s.path("nginx.conf"), "-g", "daemon off;"})
	return addr, ka, err
}
