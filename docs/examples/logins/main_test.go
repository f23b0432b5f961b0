package main

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/djangosessions/gosessions/app/auth"
	"github.com/djangosessions/gosessions/app/database/sqlite"
	"github.com/djangosessions/gosessions/internal/exampletest"
)

// TestProgram runs the program as the docs show it: an anonymous visitor
// is sent to the login page, a wrong password is refused, the right one
// logs in (a new session key) and reaches the profile, and logging out
// ends it.
func TestProgram(t *testing.T) {
	dbURL := exampletest.SQLite(t)
	base := exampletest.Start(t, main, dbURL)
	db, err := sqlite.OpenURL(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a, err := auth.New(auth.Config{DB: db.Gorm, SecretKey: exampletest.SecretKey, Iterations: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.CreateUser(t.Context(), "ada", "correct horse"); err != nil {
		t.Fatal(err)
	}
	client, jar := exampletest.Client(t)

	resp, err := client.Get(base + "/accounts/profile/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != "/accounts/login/?next=/accounts/profile/" {
		t.Errorf("anonymous /accounts/profile/: %d to %q, want 302 to the login page", resp.StatusCode, loc)
	}

	post := func(form url.Values) *http.Response {
		resp, err := client.PostForm(base+"/accounts/login/", form)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	if resp := post(url.Values{"username": {"ada"}, "password": {"wrong"}}); resp.StatusCode != http.StatusOK {
		t.Errorf("wrong password: status %d, want the form again", resp.StatusCode)
	}
	before := exampletest.SessionKey(t, jar, base)
	resp = post(url.Values{"username": {"ada"}, "password": {"correct horse"}, "next": {"/accounts/profile/"}})
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/accounts/profile/" {
		t.Errorf("login: %d to %q, want 303 to /accounts/profile/", resp.StatusCode, loc)
	}
	if k := exampletest.SessionKey(t, jar, base); k == "" || k == before {
		t.Errorf("login kept the session key %q", k)
	}
	body, _ := exampletest.Get(t, client, base+"/accounts/profile/")
	exampletest.Want(t, body, "Signed in as ada.")

	resp, err = client.PostForm(base+"/accounts/logout/", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = client.Get(base + "/accounts/profile/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Errorf("after logout, /accounts/profile/: %d, want 302", resp.StatusCode)
	}
}
