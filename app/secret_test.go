package app

import (
	"github.com/djangosessions/gosessions/app/database"

	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestDevSecretKeyMadeOnceAndKept(t *testing.T) {
	db := filepath.Join(t.TempDir(), "site.sqlite3")
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))

	key, err := devSecretKey(mustURL(t, "sqlite:"+db), log)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(key, "django-insecure-") || len(key) != len("django-insecure-")+50 {
		t.Errorf("key = %q, want django-insecure- and 50 characters", key)
	}
	fi, err := os.Stat(db + ".secret_key")
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("key file mode = %v, want 0600", got)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "SECRET_KEY is not set") {
		t.Errorf("no warning logged: %q", logs.String())
	}
	if strings.Contains(logs.String(), key) {
		t.Error("the key itself was logged")
	}

	logs.Reset()
	again, err := devSecretKey(mustURL(t, db), log) // plain path: the same file
	if err != nil {
		t.Fatal(err)
	}
	if again != key {
		t.Errorf("second start key = %q, want the saved %q", again, key)
	}
	if !strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("no warning on reuse: %q", logs.String())
	}
	entries, _ := os.ReadDir(filepath.Dir(db))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the key file (temporary files left?)", len(entries))
	}
}

func TestDevSecretKeyConcurrentStarts(t *testing.T) {
	db := filepath.Join(t.TempDir(), "db.sqlite3")
	log := slog.New(slog.DiscardHandler)
	keys := make([]string, 8)
	u := mustURL(t, "sqlite:"+db)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, err := devSecretKey(u, log)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for _, k := range keys {
		if k != keys[0] || k == "" {
			t.Fatalf("concurrent starts got different keys: %q", keys)
		}
	}
}

func TestDevSecretKeyDifferentDatabases(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	a, err := devSecretKey(mustURL(t, filepath.Join(dir, "a.db")), log)
	if err != nil {
		t.Fatal(err)
	}
	b, err := devSecretKey(mustURL(t, filepath.Join(dir, "b.db")), log)
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Error("two databases share a generated key")
	}
}

func TestDevSecretKeyErrors(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)

	if _, err := devSecretKey(mustURL(t, "postgres://u@localhost/db"), log); err == nil || !strings.Contains(err.Error(), "SECRET_KEY") {
		t.Errorf("postgres URL without SECRET_KEY: err = %v, want one naming SECRET_KEY", err)
	}

	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty+".secret_key", []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := devSecretKey(mustURL(t, empty), log); err == nil || !strings.Contains(err.Error(), empty+".secret_key") {
		t.Errorf("empty key file: err = %v, want one naming the file", err)
	}

	missing := filepath.Join(dir, "no", "such", "dir", "db.sqlite3")
	if _, err := devSecretKey(mustURL(t, missing), log); err == nil || strings.Contains(err.Error(), "\n") {
		t.Errorf("missing directory: err = %v, want a one-line error", err)
	}
}

func TestDevSecretKeyInMemory(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	key, err := devSecretKey(mustURL(t, "sqlite::memory:"), slog.New(slog.DiscardHandler))
	if err != nil || key == "" {
		t.Fatalf("in-memory: key %q, err %v", key, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("an in-memory database left files: %v", entries)
	}
}

func mustURL(t *testing.T, raw string) database.URL {
	t.Helper()
	u, err := database.ParseURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
