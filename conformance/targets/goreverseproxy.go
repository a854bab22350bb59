package targets

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"runtime"
	"time"

	"github.com/proxyspec/proxyspec/conformance/runner"
	"github.com/proxyspec/proxyspec/reports"
)

// goReverseProxyLauncher runs Go's net/http/httputil.ReverseProxy inside the harness process: a
// peer under test, like nginx, not the reference proxy.
var goReverseProxyLauncher = &launcher{
	name:    "go-reverseproxy",
	profile: goReverseProxyProfile,
	launch:  launchGoReverseProxy,
}

var goReverseProxyProfile = Profile{Upgrade: true,
	Notes: "`httputil.ReverseProxy` (in the harness process) behind `net/http.Server`, rewriting only the URL (the client's Host is kept), " +
		"with a Transport that never uses an environment proxy; it tunnels Upgrade after a 101 by itself; no range filter; " +
		"net/http has no per-connection request limit; CONNECT is forwarded as a request, not tunnelled, so `connect` is not declared"}

func launchGoReverseProxy(ctx context.Context, origin string, _ Options) (*Launched, error) {
	if _, _, err := net.SplitHostPort(origin); err != nil {
		return nil, fmt.Errorf("go-reverseproxy: origin %q: %w", origin, err)
	}
	target := &url.URL{Scheme: "http", Host: origin}
	transport := &http.Transport{
		Proxy:               nil, // never an environment proxy: traffic goes to the harness origin only
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 32,
		IdleConnTimeout:     30 * time.Second,
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host
		},
		Transport: transport,
		ErrorLog:  log.New(io.Discard, "", 0),
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("go-reverseproxy: listen: %w", err)
	}
	srv := &http.Server{Handler: rp, ReadHeaderTimeout: 30 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	go func() { _ = srv.Serve(ln) }()
	addr := ln.Addr().String()
	l := &Launched{
		Info:   reports.Target{Name: "go-reverseproxy", Version: runtime.Version()},
		Target: runner.Target{Name: "go-reverseproxy", Addr: addr, Host: addr, Caps: goReverseProxyProfile.Caps("")},
		closers: []func() error{func() error {
			err := srv.Close()
			transport.CloseIdleConnections()
			if errors.Is(err, http.ErrServerClosed) {
				return nil
			}
			return err
		}},
	}
	rctx, cancel := context.WithTimeout(ctx, readyWait)
	defer cancel()
	if err := roundTrip(rctx, addr); err != nil {
		return nil, errors.Join(fmt.Errorf("go-reverseproxy: %w", err), l.Stop())
	}
	return l, nil
}
