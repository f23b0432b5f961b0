// Package pgtest gives each test a PostgreSQL database of its own, on the
// server that the environment variable TEST_POSTGRES_URL names: the
// project's "make services" starts a private one and the test targets pass
// its URL to go test. The URL's user must be allowed to create databases.
//
// Without TEST_POSTGRES_URL the tests that need PostgreSQL are skipped, or
// fail when CI is set, so that a CI run can never pass without them.
package pgtest

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the environment variable holding the test server's URL.
const EnvURL = "TEST_POSTGRES_URL"

// ServerURL returns the URL of the test server, skipping the test when
// there is none, or failing it when the environment variable CI is set.
func ServerURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set: CI must test PostgreSQL (make test starts a server; make services alone does too)", EnvURL)
		}
		t.Skipf("%s is not set: skipping a PostgreSQL test (make services starts a server)", EnvURL)
	}
	return u
}

// NewDatabase creates an empty database with a random name on the test
// server and returns its URL (the server's URL naming it). The database is
// dropped when the test ends, connections still open to it included.
func NewDatabase(t testing.TB) string {
	t.Helper()
	server := ServerURL(t)
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("%s is not a URL: %v", EnvURL, err)
	}
	name := "gosessions_test_" + strings.ToLower(rand.Text()[:16])
	admin(t, server, `CREATE DATABASE "`+name+`"`)
	t.Cleanup(func() {
		admin(t, server, `DROP DATABASE IF EXISTS "`+name+`" WITH (FORCE)`)
	})
	u.Path = "/" + name
	return u.String()
}

// admin runs one statement on the test server's own database. It takes
// no test context, so that it also works in a cleanup.
func admin(t testing.TB, server, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatalf("connect to the PostgreSQL test server (%s): %v", EnvURL, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
