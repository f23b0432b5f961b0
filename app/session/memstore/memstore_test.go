package memstore_test

import (
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/memstore"
	"github.com/djangosessions/gosessions/app/session/sessiontest"
	"github.com/djangosessions/gosessions/app/usersessions"
	"github.com/djangosessions/gosessions/internal/indextest"
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
			st, b := memstore.New(now), usersessions.NewMemory()
			return sessiontest.ModelEngine{
				Open:  func() session.Store { return st },
				Index: func() sessiontest.ModelIndex { return indextest.New(t, b, now) },
			}
		},
	})
}

// TestIndexCheck: devices on the memory engine log in, make requests,
// cycle keys, log out, sign out every other device and list, at once:
// no signed-out session serves another request, no listing shows a dead
// session or misses a live one (sessiontest.IndexCheck, one process).
func TestIndexCheck(t *testing.T) {
	sessiontest.IndexCheck(t, sessiontest.IndexConfig{
		Engine: func(t *testing.T) sessiontest.ModelEngine {
			st, b := memstore.New(nil), usersessions.NewMemory()
			return sessiontest.ModelEngine{
				Open:  func() session.Store { return st },
				Index: func() sessiontest.ModelIndex { return indextest.New(t, b, time.Now) },
			}
		},
	})
}
