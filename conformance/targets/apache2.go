package targets

import (
	"context"
	"fmt"
	"regexp"
)

var apacheLauncher = &launcher{
	name:    "apache2",
	pkg:     "apache2",
	bin:     "apache2",
	verArgs: []string{"-v"},
	verRE:   regexp.MustCompile(`Apache/(\S+)`),
	profile: Profile{KeepAliveLimit: true, Upgrade: true,
		Notes: "mpm_event with mod_proxy_http: `ProxyPass / http://ORIGIN/ upgrade=websocket` (WebSocket tunnels), `ProxyPreserveHost On`; " +
			"no range filter for proxied responses (Range is forwarded); a second virtual host with `MaxKeepAliveRequests 1` (httpd counts the requests after the first: 2 requests per connection); " +
			"mod_proxy_connect is not loaded, so CONNECT is not proxied"},
	start: startApache,
}

const apacheModules = "/usr/lib/apache2/modules"

func startApache(ctx context.Context, s *session) (string, string, error) {
	ps, err := ports(2)
	if err != nil {
		return "", "", err
	}
	addr, ka := loopback(ps[0]), loopback(ps[1])
	proxy := fmt.Sprintf(`
	ProxyPass / http://%s/ upgrade=websocket
	ProxyPreserveHost On`, s.origin)
	conf := fmt.Sprintf(`# written by proxyspec: Apache httpd as a reverse proxy to the harness origin
ServerRoot %[1]s
ServerName 127.0.0.1
DefaultRuntimeDir %[1]s
PidFile %[1]s/httpd.pid
ErrorLog /dev/stderr
LogLevel warn
User www-data
Group www-data
LoadModule mpm_event_module %[2]s/mod_mpm_event.so
LoadModule authz_core_module %[2]s/mod_authz_core.so
LoadModule proxy_module %[2]s/mod_proxy.so
LoadModule proxy_http_module %[2]s/mod_proxy_http.so
Listen %[3]s
Listen %[4]s
KeepAlive On
<VirtualHost %[3]s>%[5]s
</VirtualHost>
<VirtualHost %[4]s>
	# httpd counts the requests after the first: 1 means 2 requests per connection.
	MaxKeepAliveRequests 1%[5]s
</VirtualHost>
`, s.dir, apacheModules, addr, ka, proxy)
	if err := s.write("httpd.conf", conf); err != nil {
		return "", "", err
	}
	_, err = s.spawn([]string{s.bin, "-d", s.dir, "-f", s.path("httpd.conf"), "-DFOREGROUND"})
	return addr, ka, err
}
