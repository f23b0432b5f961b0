package database

import (
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Engine is a database engine this package opens.
type Engine int

// The engines. The zero Engine is none: a URL that failed to parse.
const (
	SQLite Engine = iota + 1
	PostgreSQL
)

// String returns the engine's name, as in log lines.
func (e Engine) String() string {
	switch e {
	case SQLite:
		return "sqlite"
	case PostgreSQL:
		return "postgresql"
	}
	return "unknown"
}

// defaultTimeout is how long a statement waits for a lock (SQLite's busy
// timeout, PostgreSQL's lock_timeout) unless the URL says otherwise with
// ?timeout=SECONDS: Django's SQLite default.
const defaultTimeout = 5 * time.Second

// maxTimeout bounds ?timeout: a request should never wait longer than
// this for a lock.
const maxTimeout = 10 * time.Minute

// URL is a parsed DATABASE_URL: the engine, where the database is and the
// options of the connection. Make one with [ParseURL]; its String never
// shows a password.
type URL struct {
	// Engine is SQLite or PostgreSQL.
	Engine Engine
	// Path is the SQLite file, as given (relative to the working
	// directory or absolute); empty for PostgreSQL and for an in-memory
	// database.
	Path string
	// Memory is true for a private in-memory SQLite database.
	Memory bool
	// Synchronous is SQLite's synchronous mode, NORMAL (the default) or
	// FULL (?synchronous=full).
	Synchronous string
	// Timeout is how long a statement waits for another connection's
	// lock before it fails (?timeout=SECONDS, default 5 s):
	// SQLite's busy timeout, PostgreSQL's lock_timeout. The session store
	// bounds each request's wait for the database by it.
	Timeout time.Duration
	// MaxConns is the size of PostgreSQL's connection pool
	// (?pool_max_conns=N, default max(10, 4×CPUs)).
	MaxConns int

	pg      *pgx.ConnConfig // PostgreSQL's connection settings
	shown   string          // the URL without password or options, for messages
	secrets []string        // what error messages must never show
}

// String returns the URL for messages and logs: the engine and the
// location, never a password.
func (u URL) String() string { return u.shown }

// PgxConfig returns a copy of a PostgreSQL URL's connection settings, as
// package database/postgres connects with them (TimeZone UTC,
// lock_timeout, connect_timeout); nil for SQLite.
func (u URL) PgxConfig() *pgx.ConnConfig {
	if u.pg == nil {
		return nil
	}
	return u.pg.Copy()
}

// ParseURL reads a database URL:
//
//   - PostgreSQL: "postgres://user:password@host:port/dbname?options" (or
//     "postgresql://"). Options are libpq's (sslmode, application_name,
//     connect_timeout, default 10 s), plus pool_max_conns and timeout.
//   - SQLite: "sqlite:PATH", "sqlite3:PATH", dj-database-url's
//     "sqlite:///relative" and "sqlite:////absolute", "file:PATH" and a
//     plain path; "sqlite::memory:" is a private in-memory database.
//     Options: synchronous=normal|full and timeout=SECONDS.
//
// Anything else is an error, whose text never shows the password.
func ParseURL(raw string) (URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return URL{}, errors.New("database: the database URL is empty")
	}
	switch strings.ToLower(scheme(raw)) {
	case "postgres", "postgresql":
		return parsePostgres(raw)
	}
	return parseSQLite(raw)
}

// scheme returns the scheme of a database URL, for a message, without the
// rest, which may hold a password.
func scheme(raw string) string {
	s, _, _ := strings.Cut(raw, ":")
	return s
}

// parseSQLite reads the SQLite forms of ParseURL.
func parseSQLite(raw string) (URL, error) {
	rest := raw
	lower := strings.ToLower(raw)
	switch {
	case strings.HasPrefix(lower, "sqlite3:"):
		rest = raw[len("sqlite3:"):]
	case strings.HasPrefix(lower, "sqlite:"):
		rest = raw[len("sqlite:"):]
	case strings.HasPrefix(lower, "file:"):
		rest = raw[len("file:"):]
	case strings.Contains(raw, "://"):
		return URL{}, fmt.Errorf("database: unsupported database URL scheme %q: supported are PostgreSQL (postgres://user:password@host:port/dbname) and SQLite (sqlite:PATH or a plain path)", scheme(raw))
	}
	if strings.HasPrefix(rest, "///") {
		rest = rest[3:] // sqlite:///db.sqlite3 is relative, sqlite:////abs absolute
	} else if strings.HasPrefix(rest, "//") {
		rest = rest[2:]
	}
	path, query, _ := strings.Cut(rest, "?")
	u := URL{Engine: SQLite, Path: path, Synchronous: "NORMAL", Timeout: defaultTimeout}
	values, err := url.ParseQuery(query)
	if err != nil {
		return URL{}, fmt.Errorf("database: bad query string in the database URL %q: %v", raw, err)
	}
	for name, vs := range values {
		v := vs[len(vs)-1]
		switch name {
		case "synchronous":
			switch s := strings.ToUpper(v); s {
			case "NORMAL", "FULL":
				u.Synchronous = s
			default:
				return URL{}, fmt.Errorf("database: synchronous=%q in the database URL: want normal or full", v)
			}
		case "timeout":
			if u.Timeout, err = parseTimeout(v); err != nil {
				return URL{}, err
			}
		case "mode":
			if v != "memory" {
				return URL{}, fmt.Errorf("database: mode=%q in the database URL: only mode=memory is supported", v)
			}
			u.Memory = true
		case "cache":
			// file::memory:?cache=shared: one private database all the
			// same, since one connection serves it.
		default:
			return URL{}, fmt.Errorf("database: unknown option %q in the SQLite URL (known: synchronous, timeout)", name)
		}
	}
	if path == "" || path == ":memory:" {
		u.Memory = true
	}
	if u.Memory {
		u.Path = ""
		u.shown = "sqlite::memory:"
	} else {
		u.shown = "sqlite:" + path
	}
	return u, nil
}

// parseTimeout reads ?timeout=SECONDS: a positive number, fractions
// allowed as in Django's OPTIONS["timeout"].
func parseTimeout(v string) (time.Duration, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 || f > maxTimeout.Seconds() {
		return 0, fmt.Errorf("database: timeout=%q in the database URL: want a number of seconds above 0, at most %d", v, int(maxTimeout.Seconds()))
	}
	return time.Duration(f * float64(time.Second)), nil
}

// Settings of PostgreSQL connections (see parsePostgres).
const (
	// postgresConnectTimeout bounds connecting (TCP, TLS, authentication)
	// when the URL sets no connect_timeout: an unreachable host fails the
	// start in seconds instead of hanging it.
	postgresConnectTimeout = "10"
)

// parsePostgres reads a PostgreSQL URL into pgx's configuration. Every
// connection gets TimeZone UTC, as Django's connections do with USE_TZ on
// (a timestamptz is an instant whatever the zone, but text compared with
// one is read in that zone), and lock_timeout = Timeout.
func parsePostgres(raw string) (URL, error) {
	pu, err := url.Parse(raw)
	if err != nil {
		// url.Error quotes the whole URL, password included: keep only
		// the reason.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return URL{}, fmt.Errorf("database: bad PostgreSQL URL: %v", err)
	}
	u := URL{Engine: PostgreSQL, Timeout: defaultTimeout, MaxConns: max(10, 4*runtime.GOMAXPROCS(0))}
	q := pu.Query()
	if pw, ok := pu.User.Password(); ok && pw != "" {
		u.secrets = append(u.secrets, pw)
	}
	if pw := q.Get("password"); pw != "" {
		u.secrets = append(u.secrets, pw)
	}
	shown := &url.URL{Scheme: pu.Scheme, Host: pu.Host, Path: pu.Path}
	if pu.User != nil {
		shown.User = url.User(pu.User.Username())
	}
	u.shown = shown.String()
	if pu.Opaque != "" || pu.Host == "" && pu.Path == "" {
		return URL{}, fmt.Errorf("database %s: bad PostgreSQL URL: want postgres://user:password@host:port/dbname", pu.Scheme+":...")
	}
	if v := q.Get("pool_max_conns"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return URL{}, fmt.Errorf("database %s: pool_max_conns=%q: want a whole number, 1 or more", u.shown, v)
		}
		u.MaxConns = n
		q.Del("pool_max_conns")
	}
	if v := q.Get("timeout"); v != "" {
		if u.Timeout, err = parseTimeout(v); err != nil {
			return URL{}, err
		}
		q.Del("timeout")
	}
	if !q.Has("connect_timeout") {
		q.Set("connect_timeout", postgresConnectTimeout)
	}
	pu.RawQuery = q.Encode()
	cfg, err := pgx.ParseConfig(pu.String())
	if err != nil {
		return URL{}, fmt.Errorf("database %s: bad PostgreSQL URL: %w", u.shown, redact(err, u.secrets))
	}
	for k := range cfg.RuntimeParams {
		switch strings.ToLower(k) {
		case "timezone", "lock_timeout":
			delete(cfg.RuntimeParams, k)
		}
	}
	cfg.RuntimeParams["timezone"] = "UTC"
	cfg.RuntimeParams["lock_timeout"] = strconv.FormatInt(u.Timeout.Milliseconds(), 10)
	u.pg = cfg
	return u, nil
}

// redact returns err with every secret masked and on one line (pgx lists
// the addresses it tried on lines of their own). pgx never quotes a
// password; this is a second guard, for secrets long enough that masking
// them cannot garble the message. It still wraps err, for errors.Is and
// errors.As.
func redact(err error, secrets []string) error {
	msg := strings.Join(strings.Fields(err.Error()), " ")
	for _, s := range secrets {
		if len(s) >= 4 {
			msg = strings.ReplaceAll(msg, s, "xxxxx")
		}
	}
	return redactedError{msg: msg, err: err}
}

// redactedError is an error with a message safe to log.
type redactedError struct {
	msg string
	err error
}

func (e redactedError) Error() string { return e.msg }
func (e redactedError) Unwrap() error { return e.err }
