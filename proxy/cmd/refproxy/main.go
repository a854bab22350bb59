// Command refproxy runs the proxyspec reference reverse proxy.
//
//	refproxy -listen 127.0.0.1:8080 -upstream 127.0.0.1:9000
//
//	refproxy -config refproxy.yaml   # listeners, routes, upstream groups, admin
//	refproxy -check refproxy.yaml    # validate and exit
//
// -listen may be repeated; every listener gets the same options. The bound
// addresses are printed as "listening on ADDR" once the proxy serves. SIGINT
// or SIGTERM stops it gracefully (in-flight requests finish, up to
// -shutdown-timeout). With -config, SIGHUP reloads TLS certificates and the
// traffic listeners open once the proxy is ready (see proxy/README.md).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/proxyspec/proxyspec/proxy"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "refproxy:", err)
		}
		os.Exit(2)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, args, stdout, stderr)
}

// serve parses flags, starts the proxy and runs it until ctx is done.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("refproxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		listens  listFlag
		lo       proxy.ListenerOptions
		uo       proxy.UpstreamOptions
		rangeF   bool
		level    string
		shutdown time.Duration
		version  bool
	)
	fs.BoolVar(&version, "version", false, "print the version and exit")
	fs.Var(&listens, "listen", "listen address host:port (repeatable; port 0 picks a free port)")
	fs.StringVar(&uo.Addr, "upstream", "", "upstream (origin) address host:port")
	fs.IntVar(&lo.KeepAliveMaxRequests, "keepalive-max-requests", 0, "requests per client connection (0: unlimited)")
	fs.BoolVar(&lo.AllowConnect, "allow-connect", false, "forward CONNECT instead of answering 405")
	fs.BoolVar(&rangeF, "range-filter", false, "serve Range requests from full 200 responses")
	fs.IntVar(&lo.MaxHeadBytes, "max-head-bytes", 0, "request head limit (0: 64 KiB)")
	fs.IntVar(&lo.MaxFields, "max-fields", 0, "request field line limit (0: 100)")
	fs.IntVar(&lo.MaxTargetBytes, "max-target-bytes", 0, "request-target limit (0: 8 KiB)")
	fs.Int64Var(&lo.MaxBodyBytes, "max-body-bytes", 0, "request body limit (0: unlimited)")
	fs.DurationVar(&lo.HeaderReadTimeout, "header-read-timeout", 0, "time to receive a request head (0: 10s)")
	fs.DurationVar(&lo.IdleTimeout, "idle-timeout", 0, "keep-alive idle and body read timeout (0: 60s)")
	fs.DurationVar(&lo.WriteTimeout, "write-timeout", 0, "client write timeout (0: 30s)")
	fs.DurationVar(&uo.ConnectTimeout, "upstream-connect-timeout", 0, "upstream connect timeout (0: 5s)")
	fs.DurationVar(&uo.ReadTimeout, "upstream-read-timeout", 0, "upstream read timeout (0: 60s)")
	fs.DurationVar(&uo.WriteTimeout, "upstream-write-timeout", 0, "upstream write timeout (0: 30s)")
	fs.IntVar(&uo.MaxIdle, "upstream-max-idle", 0, "idle upstream connections kept (0: 32, <0: none)")
	fs.StringVar(&level, "log-level", "info", "log level: debug, info, warn, error")
	fs.DurationVar(&shutdown, "shutdown-timeout", 10*time.Second, "grace period for in-flight requests on SIGINT/SIGTERM")
	faults := registerFaultFlags(fs)
	cf := registerConfigFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if version {
		fmt.Fprintln(stdout, versionString())
		return nil
	}
	if listed, err := faults.listed(stdout); listed {
		return err
	}
	if handled, err := cf.run(ctx, fs, faults.names(), stdout, stderr); handled {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if len(listens) == 0 {
		return errors.New("-listen is required")
	}
	if uo.Addr == "" {
		return errors.New("-upstream is required")
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lv}))

	o := proxy.Options{Upstream: uo, RangeFilter: rangeF, Logger: logger, Faults: faults.names()}
	for i, a := range listens {
		l := lo
		l.Name = fmt.Sprintf("listener-%d", i)
		l.Addr = a
		o.Listeners = append(o.Listeners, l)
	}
	p, err := proxy.Start(ctx, o)
	if err != nil {
		return err
	}
	if len(o.Faults) > 0 {
		logger.Warn("fault injection active: this proxy breaks HTTP rules on purpose", "faults", o.Faults)
	}
	for i := range listens {
		fmt.Fprintf(stdout, "listening on %s\n", p.Addr(i))
	}
	<-ctx.Done()
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdown)
	defer cancel()
	if err := p.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// versionString is the module version, or the VCS revision for a build from
// a checkout, or "dev".
func versionString() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "dev-" + s.Value[:12]
		}
	}
	return "dev"
}
