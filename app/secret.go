package app

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"

	"github.com/djangosessions/gosessions/app/database"
)

// secretKeyChars is the alphabet of Django's get_random_secret_key.
const secretKeyChars = "abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)"

// devSecretKey returns the development signing key used when SECRET_KEY is
// not set: like Django's startproject, a random "django-insecure-" key,
// made once and kept in a file beside the SQLite database (PATH.secret_key,
// mode 0600), so that sessions survive a restart. Every call logs a
// warning. A database that is not a SQLite file has no "beside": there
// SECRET_KEY is required, and an in-memory database gets a key that lives
// as long as the process.
func devSecretKey(db database.URL, log *slog.Logger) (string, error) {
	if db.Engine != database.SQLite {
		return "", errors.New("SECRET_KEY is not set: it is required when DATABASE_URL is not a SQLite file")
	}
	path := db.Path
	if db.Memory {
		log.Warn("SECRET_KEY is not set: using a random key for this in-memory database; set SECRET_KEY in production")
		return newSecretKey()
	}
	file := path + ".secret_key"
	key, err := readSecretKey(file, log)
	if err == nil {
		log.Warn("SECRET_KEY is not set: using the development key kept beside the database; set SECRET_KEY in production", "file", file)
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	key, err = newSecretKey()
	if err != nil {
		return "", err
	}
	switch err := writeNewFile(file, key+"\n"); {
	case errors.Is(err, fs.ErrExist):
		// Another process starting at the same time made one first: use it.
		key, err := readSecretKey(file, log)
		if err != nil {
			return "", err
		}
		log.Warn("SECRET_KEY is not set: using the development key kept beside the database; set SECRET_KEY in production", "file", file)
		return key, nil
	case err != nil:
		return "", fmt.Errorf("SECRET_KEY is not set and the development key cannot be saved: %w", err)
	}
	log.Warn("SECRET_KEY is not set: made a development key and saved it beside the database; set SECRET_KEY in production", "file", file)
	return key, nil
}

// readSecretKey reads a key file written by devSecretKey.
func readSecretKey(file string, log *slog.Logger) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		return "", fmt.Errorf("read development secret key: %w", err)
	}
	key := strings.TrimSpace(string(b))
	if key == "" || strings.ContainsAny(key, "\r\n") {
		return "", fmt.Errorf("development secret key file %s is not one line of text: delete it to make a new key, or set SECRET_KEY", file)
	}
	if fi, err := os.Stat(file); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.Warn("the development secret key file is readable by other users; chmod 600 it", "file", file, "mode", fi.Mode().Perm().String())
	}
	return key, nil
}

// writeNewFile atomically creates file with content and mode 0600: the file
// appears complete or not at all, and an existing file is never replaced
// (an error wrapping fs.ErrExist).
func writeNewFile(file, content string) error {
	tmp, err := os.CreateTemp(filepath.Dir(file), filepath.Base(file)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// CreateTemp made it 0600. A hard link publishes it without replacing
	// a file another process created meanwhile.
	if err := os.Link(tmp.Name(), file); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		// A file system without hard links: fall back to an exclusive
		// create, which a concurrent reader may see before it is written.
		f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		if _, err := f.WriteString(content); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	return nil
}

// newSecretKey returns a random key in the format of Django's startproject.
func newSecretKey() (string, error) {
	var b strings.Builder
	b.WriteString("django-insecure-")
	limit := big.NewInt(int64(len(secretKeyChars)))
	for range 50 {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return "", fmt.Errorf("generate secret key: %w", err)
		}
		b.WriteByte(secretKeyChars[n.Int64()])
	}
	return b.String(), nil
}
