package app

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestSigningKeys(t *testing.T) {
	db := filepath.Join(t.TempDir(), "db.sqlite3")
	env := map[string]string{"DATABASE_URL": db}
	load := func() Config {
		t.Helper()
		cfg, err := LoadConfig(nil, func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	// No SECRET_KEY and no development key: an error, and no key is made
	// (a key made now would verify nothing).
	if _, _, err := SigningKeys(load(), nil); !errors.Is(err, ErrNoSecretKey) {
		t.Errorf("without any key: %v, want ErrNoSecretKey", err)
	}
	if _, err := os.Stat(db + ".secret_key"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("SigningKeys made a key file: %v", err)
	}
	// The site's development key, as Run keeps it.
	made, err := devSecretKey(load().Database, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	env["SECRET_KEY_FALLBACKS"] = "old1,old2"
	key, fallbacks, err := SigningKeys(load(), nil)
	if err != nil || key != made || !slices.Equal(fallbacks, []string{"old1", "old2"}) {
		t.Errorf("with the development key = %q, %q, %v; want the site's key and the fallbacks", key, fallbacks, err)
	}
	// SECRET_KEY wins.
	env["SECRET_KEY"] = "production"
	if key, _, err := SigningKeys(load(), nil); err != nil || key != "production" {
		t.Errorf("with SECRET_KEY = %q, %v", key, err)
	}
	// PostgreSQL has no "beside": SECRET_KEY is needed.
	env = map[string]string{"DATABASE_URL": "postgres://u@127.0.0.1/db"}
	if _, _, err := SigningKeys(load(), nil); !errors.Is(err, ErrNoSecretKey) {
		t.Errorf("PostgreSQL without SECRET_KEY: %v, want ErrNoSecretKey", err)
	}
}
