// Command gosessions serves the demo site of the Django-style session
// framework (package app/session): `go run .`, configured by environment
// variables with Django's names (see app.LoadConfig); `-h` lists them.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/djangosessions/gosessions/app"
	"github.com/redis/go-redis/v9"
)

func main() {
	// go-redis writes its connection failures to a logger of the process;
	// the session stores report an outage once, in the site's log, so
	// these lines would only repeat them.
	redis.SetLogger(quiet{})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := app.Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gosessions:", err)
		os.Exit(1)
	}
}

// quiet is a go-redis logger that drops every line.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}
