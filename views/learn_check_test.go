package views

import (
	"fmt"
	"strings"
	"testing"

	"github.com/djangosessions/gosessions/internal/learncheck"
)

// learnChecker type-checks /learn's Go samples in this package, so that
// views' own helpers (h.page) resolve, with the packages they name
// and the names they share: c is the Echo context, s the session, h the
// site's handlers, sc the session.Config, and so on. A sample that uses
// any other name must declare it (v, ok := s.Lookup(key)).
var learnChecker = learncheck.Checker{
	Dir:     ".",
	PkgPath: viewsPkg,
	Root:    "..",
	Imports: map[string]string{
		"context":  "context",
		"time":     "time",
		"http":     "net/http",
		"echo":     "github.com/labstack/echo/v4",
		"session":  sessionPkg,
		"signing":  "github.com/djangosessions/gosessions/app/signing",
		"auth":     authPkg,
		"csrf":     "github.com/djangosessions/gosessions/app/csrf",
		"dbstore":  "github.com/djangosessions/gosessions/app/session/dbstore",
		"memstore": "github.com/djangosessions/gosessions/app/session/memstore",
		"database": "github.com/djangosessions/gosessions/app/database",
		"models":   "github.com/djangosessions/gosessions/models",
		"messages": messagesPkg,
	},
	Vocabulary: `
	c        echo.Context
	e        *echo.Echo
	hf       echo.HandlerFunc
	w        http.ResponseWriter
	r        *http.Request
	ctx      context.Context
	s        *session.Session
	m        *session.Manager
	manager  *session.Manager
	sc       session.Config
	Config   session.Config
	signer   *signing.TimestampSigner
	h        *Handlers
	store    *dbstore.Store
	db       *database.DB
	row      models.Session
	user     *models.User
	u        *models.User
	now, t   time.Time
	n        int64
	key, name, username, password, path, next string
	value, def any
	d        map[string]any
`,
}

// TestLearnSamplesExist: every Go sample on /learn names functions,
// methods, fields and types that exist, called with arguments they take
// (see package learncheck for what is checked). The engines' rows come
// from the engine registry, whose test checks them (app/engine's
// TestLearnGoCode).
func TestLearnSamplesExist(t *testing.T) {
	var samples []learncheck.Sample
	for _, sec := range append(learnSections(), operateSection("/metrics")) {
		if strings.HasPrefix(sec.Title, "Engines") {
			continue
		}
		for i, row := range sec.Rows {
			samples = append(samples, learncheck.Sample{Where: fmt.Sprintf("%s, row %d (%s)", sec.Title, i+1, row.Django), Go: row.Go})
		}
	}
	if len(samples) < 50 {
		t.Fatalf("only %d samples on /learn", len(samples))
	}
	problems, err := learnChecker.Check(samples)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
}
