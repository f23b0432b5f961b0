package app

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/djangosessions/gosessions/app/database"
)

// ErrNoSecretKey reports that no key can decode the stored sessions:
// SECRET_KEY is unset and the site never made a development key beside
// the database.
var ErrNoSecretKey = errors.New("SECRET_KEY is not set, and there is no development key beside the database: set SECRET_KEY (and SECRET_KEY_FALLBACKS) to the site's")

// SigningKeys returns the keys that verify the sessions the site stored:
// cfg's SECRET_KEY and SECRET_KEY_FALLBACKS, or, with SECRET_KEY unset, the
// development key the site keeps beside its SQLite file (see Run). Unlike
// the site, it never makes a key: a key made now would verify nothing, so
// its absence is [ErrNoSecretKey]. Tools that read the site's sessions
// (manage sessions) use it.
func SigningKeys(cfg Config, log *slog.Logger) (key string, fallbacks []string, err error) {
	if cfg.SecretKey != "" {
		return cfg.SecretKey, cfg.SecretKeyFallbacks, nil
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	db := cfg.Database
	if db.Engine != database.SQLite || db.Memory {
		return "", nil, ErrNoSecretKey
	}
	key, err = readSecretKey(db.Path+".secret_key", log)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil, ErrNoSecretKey
	}
	if err != nil {
		return "", nil, fmt.Errorf("app: %w", err)
	}
	return key, cfg.SecretKeyFallbacks, nil
}
