package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/djangosessions/gosessions/internal/djangotest"
)

// TestUsersWithDjango, on each Django of the matrix: a user made by manage
// createuser (with DJANGO_VERSION naming that Django) logs in on the real
// Django, without Django wanting to rehash the password; a password set by
// manage changepassword for a user Django made is the one Django accepts.
func TestUsersWithDjango(t *testing.T) {
	djangotest.Each(t, testUsersWithDjango)
}

func testUsersWithDjango(t *testing.T, d djangotest.Django) {
	path := filepath.Join(t.TempDir(), "db.sqlite3")
	p := djangotest.New(t, djangotest.Options{Django: d, SQLite: path})
	p.Manage(t, false, "migrate", "-v", "0")
	getenv := func(k string) string {
		return map[string]string{"DATABASE_URL": "sqlite:" + path, "DJANGO_VERSION": d.Series}[k]
	}
	run := func(stdin string, args ...string) result {
		var out, errOut bytes.Buffer
		code := runWithInput(t.Context(), args, getenv, strings.NewReader(stdin), &out, &errOut)
		return result{code, out.String(), errOut.String()}
	}
	if r := run("", "migrate"); r.code != 0 {
		t.Fatalf("Go's migrate on Django's database: %+v", r)
	}
	if r := run("frank's pw\n", "createuser", "frank", "--password-stdin"); r.code != 0 {
		t.Fatalf("createuser: %+v", r)
	}
	out := p.Shell(t, `from django.contrib.auth import authenticate
from django.contrib.auth.hashers import get_hasher
u = authenticate(username="frank", password="frank's pw")
print(u is not None, u is not None and u.is_active, u is not None and get_hasher().must_update(u.password))
print(authenticate(username="frank", password="wrong") is None)`, "")
	if out != "True True False\nTrue\n" {
		t.Errorf("Django on manage createuser's user: %q, want it logs in, active, no rehash", out)
	}

	p.Shell(t, `from django.contrib.auth.models import User
User.objects.create_user("gina", password="old pw")`, "")
	if r := run("new pw\n", "changepassword", "gina", "--password-stdin"); r.code != 0 {
		t.Fatalf("changepassword: %+v", r)
	}
	out = p.Shell(t, `from django.contrib.auth import authenticate
print(authenticate(username="gina", password="new pw") is not None, authenticate(username="gina", password="old pw") is None)`, "")
	if out != "True True\n" {
		t.Errorf("Django after manage changepassword: %q, want the new password only", out)
	}
}
