// Package indextest gives the stores' model-checked tests the per-user
// index of sessions (package usersessions) as sessiontest drives it
// (sessiontest.ModelIndex), labelled by sessiontest.ModelLabel.
package indextest

import (
	"context"
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/sessiontest"
	"github.com/djangosessions/gosessions/app/usersessions"
)

// Index is a usersessions.Index as a sessiontest.ModelIndex.
type Index struct {
	*usersessions.Index
}

// New returns the index of one process on b, on the clock now.
func New(t testing.TB, b usersessions.Backend, now func() time.Time) sessiontest.ModelIndex {
	t.Helper()
	x, err := usersessions.New(b, usersessions.Config{Label: sessiontest.ModelLabel, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return Index{x}
}

// Listed implements sessiontest.ModelIndex.
func (x Index) Listed(ctx context.Context, m *session.Manager, label string) ([]string, error) {
	ds, err := x.Sessions(m).List(ctx, label, "")
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(ds))
	for i, d := range ds {
		keys[i] = d.Key
	}
	return keys, nil
}

// SignOutOthers implements sessiontest.ModelIndex.
func (x Index) SignOutOthers(ctx context.Context, m *session.Manager, label, current string) (int, error) {
	return x.Sessions(m).SignOutOthers(ctx, label, current)
}
