package dbstore_test

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app/database"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/dbstore"
	"github.com/djangosessions/gosessions/app/session/sessiontest"
	"github.com/djangosessions/gosessions/internal/pgtest"
	"github.com/djangosessions/gosessions/models"
)

// Environment of TestModelCheckChild.
const (
	envModelDB    = "DBSTORE_MODEL_DB"
	envModelCache = "DBSTORE_MODEL_CACHE"
)

// modelEngine is the db engine for sessiontest.ModelCheck on the database
// that newDB makes for each history: every store on connections of its
// own (a process each), expire_date changed by raw SQL behind their backs.
func modelEngine(newDB func(t *testing.T) string, cached bool) func(t *testing.T, now func() time.Time) sessiontest.ModelEngine {
	return func(t *testing.T, now func() time.Time) sessiontest.ModelEngine {
		url := newDB(t)
		raw := open(t, url)
		env := []string{envModelDB + "=" + url}
		if cached {
			env = append(env, envModelCache+"=1")
		}
		return sessiontest.ModelEngine{
			Open: func() session.Store { return modelStore(t, url, cached, now) },
			Expire: func(ctx context.Context, key string, at time.Time) error {
				var arg any = models.DateTime{Time: at}
				if raw.Engine == database.PostgreSQL {
					arg = at.UTC()
				}
				return raw.Gorm.WithContext(ctx).Exec(`UPDATE django_session SET expire_date = ? WHERE session_key = ?`, arg, key).Error
			},
			ChildEnv: env,
		}
	}
}

// modelStore opens a store on url, as another process would.
func modelStore(t *testing.T, url string, cached bool, now func() time.Time) session.Store {
	opts := []dbstore.Option{dbstore.WithClock(now)}
	if cached {
		opts = append(opts, dbstore.WithCache(1000))
	}
	return newStore(t, open(t, url), opts...)
}

func sqliteDB(t *testing.T) string {
	path, _ := migrated(t)
	return path
}

func postgresDB(t *testing.T) string {
	url, _ := migratedPostgres(t)
	return url
}

// modelChild re-executes the test binary as TestModelCheckChild.
func modelChild(t *testing.T, env []string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestModelCheckChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

// TestModelCheck: random concurrent requests through three stores (three
// processes' connections, caches and managers) on one SQLite file, with
// expiry moved behind their backs and the clock moved past it, are a run
// of the session store's model.
func TestModelCheck(t *testing.T) {
	sessiontest.ModelCheck(t, sessiontest.ModelConfig{Engine: modelEngine(sqliteDB, false)})
}

// TestModelCheckCached: the same with each store's cache (WithCache).
func TestModelCheckCached(t *testing.T) {
	sessiontest.ModelCheck(t, sessiontest.ModelConfig{Engine: modelEngine(sqliteDB, true)})
}

// TestModelCheckCachedProcesses: the same with a second OS process.
func TestModelCheckCachedProcesses(t *testing.T) {
	if os.Getenv(envModelDB) != "" {
		t.Skip("running as the child")
	}
	sessiontest.ModelCheck(t, sessiontest.ModelConfig{Engine: modelEngine(sqliteDB, true), Child: modelChild, Processes: 2})
}

// TestPostgresModelCheck: the model check on PostgreSQL without the
// cache, and with it (the notification-driven cache of every process).
func TestPostgresModelCheck(t *testing.T) {
	pgtest.ServerURL(t)
	t.Run("store", func(t *testing.T) {
		sessiontest.ModelCheck(t, sessiontest.ModelConfig{Engine: modelEngine(postgresDB, false)})
	})
	t.Run("cached", func(t *testing.T) {
		sessiontest.ModelCheck(t, sessiontest.ModelConfig{Engine: modelEngine(postgresDB, true)})
	})
	t.Run("cached-processes", func(t *testing.T) {
		if os.Getenv(envModelDB) != "" {
			t.Skip("running as the child")
		}
		sessiontest.ModelCheck(t, sessiontest.ModelConfig{Engine: modelEngine(postgresDB, true), Child: modelChild, Processes: 2})
	})
}

// TestModelCheckChild is the other OS process of the model checks with
// processes.
func TestModelCheckChild(t *testing.T) {
	url := os.Getenv(envModelDB)
	if url == "" {
		t.Skip("only run by the model checks with processes")
	}
	cached := os.Getenv(envModelCache) != ""
	sessiontest.ModelCheckChild(t, sessiontest.ModelConfig{
		Engine: func(t *testing.T, now func() time.Time) sessiontest.ModelEngine {
			return sessiontest.ModelEngine{Open: func() session.Store { return modelStore(t, url, cached, now) }}
		},
	})
}
