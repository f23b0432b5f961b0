package redisstore_test

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/dbstore"
	"github.com/djangosessions/gosessions/app/session/redisstore"
	"github.com/djangosessions/gosessions/app/session/sessiontest"
	"github.com/djangosessions/gosessions/internal/redistest"
	"github.com/djangosessions/gosessions/models"
)

// envModelPrefix names the key prefix of TestModelCheckChild's store.
const envModelPrefix = "REDISSTORE_MODEL_PREFIX"

// expireScript moves the expiry of an existing record (KEYS[1]) to
// ARGV[1] microseconds, as an operator would with redis-cli.
var expireScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'expires', ARGV[1]) end
return 1
`)

// cacheEngine is the cache engine (Store) for sessiontest.ModelCheck: a
// key prefix of its own per history, every store on a client of its own
// (a process each).
func cacheEngine(t *testing.T, now func() time.Time) sessiontest.ModelEngine {
	prefix := redistest.Prefix(t)
	raw := redistest.Client(t)
	return sessiontest.ModelEngine{
		Open: func() session.Store {
			return redisstore.New(redistest.Client(t), redisstore.WithPrefix(prefix), redisstore.WithClock(now))
		},
		Expire: func(ctx context.Context, key string, at time.Time) error {
			return expireScript.Run(ctx, raw, []string{prefix + key}, strconv.FormatInt(at.UnixMicro(), 10)).Err()
		},
		ChildEnv: []string{envModelPrefix + "=" + prefix},
	}
}

// TestModelCheck: random concurrent requests through three stores (a
// Redis client each) on one Redis, with expiry moved behind their backs
// and the clock moved past it, are a run of the session store's model.
func TestModelCheck(t *testing.T) {
	redistest.URL(t)
	sessiontest.ModelCheck(t, sessiontest.ModelConfig{Engine: cacheEngine})
}

// TestModelCheckProcesses: the same with a second OS process.
func TestModelCheckProcesses(t *testing.T) {
	redistest.URL(t)
	if os.Getenv(envModelPrefix) != "" {
		t.Skip("running as the child")
	}
	sessiontest.ModelCheck(t, sessiontest.ModelConfig{
		Engine:    cacheEngine,
		Processes: 2,
		Child: func(t *testing.T, env []string) *exec.Cmd {
			// The child finds the server through TEST_REDIS_URL, which Main set.
			cmd := exec.Command(os.Args[0], "-test.run=^TestModelCheckChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), env...)
			return cmd
		},
	})
}

// TestModelCheckChild is the other OS process of TestModelCheckProcesses.
func TestModelCheckChild(t *testing.T) {
	prefix := os.Getenv(envModelPrefix)
	if prefix == "" {
		t.Skip("only run by TestModelCheckProcesses")
	}
	sessiontest.ModelCheckChild(t, sessiontest.ModelConfig{
		Engine: func(t *testing.T, now func() time.Time) sessiontest.ModelEngine {
			return sessiontest.ModelEngine{Open: func() session.Store {
				return redisstore.New(redistest.Client(t), redisstore.WithPrefix(prefix), redisstore.WithClock(now))
			}}
		},
	})
}

// TestCachedModelCheck: cached_db (CachedStore over the database store on
// SQLite), three instances (their own Redis client and database
// connection each). The expiry moved behind their backs is a write to the
// database that bypasses Redis: the model lets a load return the session
// as it was before, which the package documents (WithMaxAge, longer than
// the run), until a write through the store touches it; nothing else may
// be stale.
func TestCachedModelCheck(t *testing.T) {
	redisURL := redistest.URL(t)
	sessiontest.ModelCheck(t, sessiontest.ModelConfig{
		BypassWindow: true,
		Engine: func(t *testing.T, now func() time.Time) sessiontest.ModelEngine {
			dbURL, prefix := migratedSQLite(t), redistest.Prefix(t)
			raw := openDB(t, dbURL)
			return sessiontest.ModelEngine{
				Open: func() session.Store {
					db, err := dbstore.New(openDB(t, dbURL), dbstore.WithClock(now))
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { db.Close() })
					c := redisstore.NewCache(redistest.ClientFor(t, redisURL), db, redisstore.WithPrefix(prefix), redisstore.WithClock(now))
					t.Cleanup(func() { c.Close() })
					return c
				},
				Expire: func(ctx context.Context, key string, at time.Time) error {
					return raw.Gorm.WithContext(ctx).Exec(`UPDATE django_session SET expire_date = ? WHERE session_key = ?`, models.DateTime{Time: at}, key).Error
				},
			}
		},
	})
}
