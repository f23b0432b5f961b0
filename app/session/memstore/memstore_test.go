package memstore_test

import (
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/memstore"
	"github.com/djangosessions/gosessions/app/session/sessiontest"
)

// TestConformance: memstore passes the Store contract's suite, as the
// stores it stands in for in tests do.
func TestConformance(t *testing.T) {
	sessiontest.Run(t, func(t *testing.T) session.Store { return memstore.New(nil) })
}

// TestModelCheck: random concurrent requests through several managers
// on one memstore are a run of the session store's model.
func TestModelCheck(t *testing.T) {
	sessiontest.ModelCheck(t, sessiontest.ModelConfig{
		Engine: func(t *testing.T, now func() time.Time) sessiontest.ModelEngine {
			st := memstore.New(now)
			return sessiontest.ModelEngine{Open: func() session.Store { return st }}
		},
	})
}
