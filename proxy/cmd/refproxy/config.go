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
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/proxyspec/proxyspec/proxy/config"
	"github.com/proxyspec/proxyspec/proxy/service"
)

// configFlags are -config and -check.
type configFlags struct {
	config, check string
}

func registerConfigFlags(fs *flag.FlagSet) *configFlags {
	f := &configFlags{}
	fs.StringVar(&f.config, "config", "", "run from this YAML configuration `file` (listeners, routes, upstream groups, admin)")
	fs.StringVar(&f.check, "check", "", "validate this configuration `file` and exit (0: valid)")
	return f
}

// flagsWithConfig may be combined with -config: they override the file.
var flagsWithConfig = map[string]bool{"config": true, "log-level": true, "shutdown-timeout": true, "fault": true}

// run handles -check and -config; handled is false when neither was given.
func (f *configFlags) run(ctx context.Context, fs *flag.FlagSet, faults []string, stdout, stderr io.Writer) (handled bool, err error) {
	if f.check == "" && f.config == "" {
		return false, nil
	}
	if f.check != "" {
		if f.config != "" {
			return true, errors.New("-check and -config are exclusive")
		}
		return true, check(f.check, stdout)
	}
	var conflicts []string
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) {
		set[fl.Name] = true
		if !flagsWithConfig[fl.Name] {
			conflicts = append(conflicts, "-"+fl.Name)
		}
	})
	if len(conflicts) > 0 {
		sort.Strings(conflicts)
		return true, fmt.Errorf("%s cannot be combined with -config: set it in the file", strings.Join(conflicts, ", "))
	}
	cfg, err := config.Load(f.config)
	if err != nil {
		return true, err
	}
	level := cfg.LogLevel
	if set["log-level"] {
		level = fs.Lookup("log-level").Value.String()
	}
	shutdown := cfg.ShutdownTimeout.D()
	if set["shutdown-timeout"] {
		shutdown = fs.Lookup("shutdown-timeout").Value.(flag.Getter).Get().(time.Duration)
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return true, fmt.Errorf("-log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lv}))
	return true, runService(ctx, cfg, service.Options{Logger: logger, Faults: faults}, shutdown, stdout, logger)
}

// check validates a file as -config would load it, TLS files included.
func check(path string, stdout io.Writer) error {
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	if _, err := service.New(cfg, service.Options{}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: ok (%s)\n", path, cfg)
	return nil
}

// runService runs a configured proxy until ctx is done, then shuts it
// down gracefully within shutdown. SIGHUP reloads (see reload).
func runService(ctx context.Context, cfg *config.Config, o service.Options, shutdown time.Duration, stdout io.Writer, log *slog.Logger) error {
	s, err := service.New(cfg, o)
	if err != nil {
		return err
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	if err := s.Start(ctx); err != nil {
		return err
	}
	stop := func() error {
		log.Info("shutting down", "timeout", shutdown)
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdown)
		defer cancel()
		if err := s.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return nil
	}
	if a := s.AdminAddr(); a != "" {
		fmt.Fprintf(stdout, "admin on %s (/healthz /readyz /metrics)\n", a)
	}
	if err := s.Serve(ctx); err != nil {
		if ctx.Err() != nil {
			return stop() // stopped while waiting for readiness
		}
		stop()
		return err
	}
	for _, a := range s.Addrs() {
		fmt.Fprintf(stdout, "listening on %s\n", a)
	}
	for {
		select {
		case <-ctx.Done():
			return stop()
		case <-hup:
			reload(s, log)
		}
	}
}

// reload re-reads the configuration file and applies its backend sets,
// then reloads the TLS certificates. A file that does not validate changes
// nothing; a certificate that fails to load keeps the previous one.
func reload(s *service.Service, log *slog.Logger) {
	path := s.Config().File()
	if cfg, err := config.Load(path); err != nil {
		log.Error("reload: the configuration is invalid; backends unchanged", "file", path, "err", err)
	} else if err := s.ReloadBackends(cfg); err != nil {
		log.Error("reload: some changes need a restart", "file", path, "err", err)
	}
	if err := s.Reload(); err != nil {
		log.Error("reload: certificates not reloaded; the previous ones stay in use", "err", err)
	}
}
