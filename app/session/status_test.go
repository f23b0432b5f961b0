package session_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/djangosessions/gosessions/app/session"
)

// TestStatusOf: each session error has one status, wrapped or not.
func TestStatusOf(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want int
	}{
		{nil, http.StatusOK},
		{session.ErrInterrupted, http.StatusBadRequest},
		{fmt.Errorf("save: %w", session.ErrInterrupted), http.StatusBadRequest},
		{session.ErrValue, http.StatusInternalServerError},
		{fmt.Errorf("%w: key %q", session.ErrValue, "k"), http.StatusInternalServerError},
		{session.ErrTooLarge, http.StatusInternalServerError},
		{fmt.Errorf("%w: over the limit", session.ErrTooLarge), http.StatusInternalServerError},
		{context.DeadlineExceeded, http.StatusServiceUnavailable},
		{fmt.Errorf("session: load: %w", context.DeadlineExceeded), http.StatusServiceUnavailable},
		{errors.New("database is locked"), http.StatusServiceUnavailable},
	} {
		if got := session.StatusOf(tt.err); got != tt.want {
			t.Errorf("StatusOf(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}
