package engine_test

import (
	"testing"

	"github.com/djangosessions/gosessions/app/engine"
	"github.com/djangosessions/gosessions/internal/learncheck"
)

// TestLearnGoCode: each engine's GoCode, which /learn shows, names the
// functions and fields that build it, called as they take it: cfg is the
// site's app.Config, db the database, store the database store.
func TestLearnGoCode(t *testing.T) {
	checker := learncheck.Checker{
		Root: "../..",
		Imports: map[string]string{
			"app":        "github.com/djangosessions/gosessions/app",
			"session":    "github.com/djangosessions/gosessions/app/session",
			"dbstore":    "github.com/djangosessions/gosessions/app/session/dbstore",
			"redisstore": "github.com/djangosessions/gosessions/app/session/redisstore",
			"memstore":   "github.com/djangosessions/gosessions/app/session/memstore",
			"database":   "github.com/djangosessions/gosessions/app/database",
			"redis":      "github.com/redis/go-redis/v9",
		},
		Vocabulary: `
	cfg   app.Config
	db    *database.DB
	store *dbstore.Store
`,
	}
	var samples []learncheck.Sample
	for _, e := range engine.All() {
		if e.Offered() && e.GoCode == "" {
			t.Errorf("%s: offered, and no GoCode for /learn", e.Name)
		}
		samples = append(samples, learncheck.Sample{Where: string(e.Name), Go: e.GoCode})
	}
	problems, err := checker.Check(samples)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
}
