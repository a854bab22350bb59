package targets

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
)

var trafficserverLauncher = &launcher{
	name:    "trafficserver",
	pkg:     "trafficserver",
	bin:     "traffic_server",
	verArgs: []string{"--version"},
	verRE:   regexp.MustCompile(`Traffic Server (\d\S*)`),
	profile: Profile{Upgrade: true,
		Notes: "a run root of its own (copy of the packaged configuration), HTTP cache off (`proxy.config.http.cache.http 0`), logging off, `regex_map` of every http:// and ws:// host to the origin with `pristine_host_hdr 1`; " +
			"WebSocket tunnels through the ws:// map; ATS serves ranges only from cache, so no range filter (Range is forwarded); no per-connection request limit; CONNECT is not proxied"},
	start: startTrafficServer,
}

const atsSysconf = "/etc/trafficserver"

func startTrafficServer(ctx context.Context, s *session) (string, string, error) {
	port, err := freePort()
	if err != nil {
		return "", "", err
	}
	addr := loopback(port)
	if err := s.mkdir("etc", "run", "log", "cache", "var"); err != nil {
		return "", "", err
	}
	// Start from the packaged configuration (ip_allow, body_factory, ...), then replace what
	// matters here.
	if err := os.CopyFS(s.path("etc"), os.DirFS(atsSysconf)); err != nil {
		return "", "", fmt.Errorf("copy %s: %w", atsSysconf, err)
	}
	runroot := fmt.Sprintf(`prefix: /usr
exec_prefix: /usr
bindir: /usr/bin
sbindir: /usr/sbin
sysconfdir: %[1]s/etc
datadir: /usr/share/trafficserver
includedir: /usr/include
libdir: /usr/lib/trafficserver
libexecdir: /usr/lib/trafficserver/modules
localstatedir: %[1]s/var
runtimedir: %[1]s/run
logdir: %[1]s/log
cachedir: %[1]s/cache
`, s.dir)
	records := fmt.Sprintf(`# written by proxyspec: Apache Traffic Server as a reverse proxy to the harness origin
CONFIG proxy.config.http.server_ports STRING %[1]d:ip-in=127.0.0.1
CONFIG proxy.config.http.cache.http INT 0
CONFIG proxy.config.reverse_proxy.enabled INT 1
CONFIG proxy.config.url_remap.remap_required INT 1
CONFIG proxy.config.url_remap.pristine_host_hdr INT 1
CONFIG proxy.config.log.logging_enabled INT 0
CONFIG proxy.config.diags.debug.enabled INT 0
CONFIG proxy.config.diags.output.status STRING E
CONFIG proxy.config.diags.output.note STRING E
CONFIG proxy.config.diags.output.warning STRING E
CONFIG proxy.config.diags.output.error STRING E
CONFIG proxy.config.diags.output.fatal STRING E
CONFIG proxy.config.admin.user_id STRING trafficserver
CONFIG proxy.config.cache.ram_cache.size INT 1048576
CONFIG proxy.config.http.keep_alive_no_activity_timeout_in INT 30
`, port)
	remap := fmt.Sprintf(`# written by proxyspec: every host goes to the harness origin
regex_map http://.*/ http://%[1]s/
regex_map http://.*:%[2]d/ http://%[1]s/
regex_map ws://.*/ ws://%[1]s/
regex_map ws://.*:%[2]d/ ws://%[1]s/
`, s.origin, port)
	files := map[string]string{
		"runroot.yaml":       runroot,
		"etc/records.config": records,
		"etc/remap.config":   remap,
		"etc/storage.config": s.path("cache") + " 16M\n",
		"etc/plugin.config":  "",
		"etc/logging.yaml":   "logging: {}\n",
	}
	for name, content := range files {
		if err := s.write(filepath.FromSlash(name), content); err != nil {
			return "", "", err
		}
	}
	if err := s.chown("trafficserver"); err != nil {
		return "", "", err
	}
	_, err = s.spawn([]string{s.bin, "--run-root=" + s.path("runroot.yaml")})
	return addr, "", err
}
