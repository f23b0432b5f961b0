package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"

	"github.com/djangosessions/gosessions/app/database"
	"github.com/djangosessions/gosessions/app/database/either"
	"github.com/djangosessions/gosessions/migrations"
)

// Options adjust [RunWith] for tests and for programs that embed the site.
// The zero value is what [Run] uses.
type Options struct {
	// Ready, when set, is called once with the address the site listens on
	// ("127.0.0.1:54321"), after the listener is open and before Run waits
	// for ctx: tests start the site on port 0 and learn the port here.
	Ready func(addr string)
}

// Run is the whole life of the site process, like Django's runserver
// without the reloader: it reads the configuration (args are flags, getenv
// the environment), opens the database, applies pending migrations
// (logging each one), listens on the configured address and serves until
// ctx is cancelled. Then it stops accepting connections, answers /readyz
// with 503 "draining", lets the requests in flight finish (within
// SHUTDOWN_TIMEOUT; READ_TIMEOUT cuts off a client too slow to send its
// request), session writes included, closes the database and returns nil.
// Logs go to stderr; stdout gets the "Starting ... at URL" banner, and the
// usage text for -h.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return RunWith(ctx, Options{}, args, getenv, stdout, stderr)
}

// RunWith is [Run] with options.
func RunWith(ctx context.Context, opts Options, args []string, getenv func(string) string, stdout, stderr io.Writer) (err error) {
	cfg, err := LoadConfig(args, getenv)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, "Usage: gosessions [flags]\n\nServes the demo site of Django-style sessions, applying pending migrations first.\n\n")
		PrintUsage(stdout)
		return nil
	}
	if err != nil {
		return err
	}
	level := slog.LevelInfo
	if cfg.Debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	db, err := either.Open(ctx, cfg.Database, database.WithLogger(log))
	if err != nil {
		return err
	}
	defer func() {
		if cerr := db.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	if cfg.SecretKey == "" {
		if cfg.SecretKey, err = devSecretKey(cfg.Database, log); err != nil {
			return err
		}
	}
	if err := migrate(db, log); err != nil {
		return err
	}
	lc := &lifecycle{}
	e, closeSite, metricsHandler, err := newSite(cfg, db, log, lc)
	if err != nil {
		return err
	}
	defer closeSite()
	defer lc.failures.close()
	if metricsHandler != nil {
		stopMetrics, err := serveMetrics(ctx, cfg.MetricsAddr, metricsHandler, log)
		if err != nil {
			return err
		}
		defer stopMetrics()
	}

	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:      e,
		ReadTimeout:  cfg.ReadTimeout, // also bounds the headers
		WriteTimeout: cfg.WriteTimeout,
		IdleTimeout:  cfg.IdleTimeout,
		ErrorLog:     slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	addr := ln.Addr().String()
	// New password hashes get this release's PBKDF2 count: a wrong one
	// makes Django rehash at the next login, ending other sessions.
	log.Info("assuming the Django release sharing the database", "DJANGO_VERSION", cfg.DjangoVersion, "pbkdf2_iterations", cfg.PasswordIterations)
	log.Info("listening", "url", "http://"+addr+"/", "database", cfg.Database.String())
	fmt.Fprintf(stdout, "Starting development server at http://%s/\nQuit the server with CONTROL-C.\n", addr)
	if opts.Ready != nil {
		opts.Ready(addr)
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	timeout := cfg.ShutdownTimeout
	lc.draining.Store(true)
	log.Info("shutting down: finishing the requests in flight", "timeout", timeout)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		<-served
		return fmt.Errorf("shutdown: requests still running after %v were cut off: %w", timeout, err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	lc.failures.close() // the counts of failures folded until now
	log.Info("stopped")
	return nil
}

// migrate applies the pending migrations, logging each one.
func migrate(db *database.DB, log *slog.Logger) error {
	e, err := either.Migrations(db)
	if err == nil {
		err = e.Up(db, func(m migrations.Info) {
			log.Info("applied migration", "migration", fmt.Sprintf("%04d_%s", m.Version, m.Name))
		})
	}
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}
