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
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := app.Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gosessions:", err)
		os.Exit(1)
	}
}
