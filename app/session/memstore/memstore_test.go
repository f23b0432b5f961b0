package memstore_test

import (
	"testing"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/memstore"
	"github.com/djangosessions/gosessions/app/session/sessiontest"
)

// TestConformance: memstore passes the Store contract's suite, as the
// stores it stands in for in tests do.
func TestConformance(t *testing.T) {
	sessiontest.Run(t, func(t *testing.T) session.Store { return memstore.New(nil) })
}
