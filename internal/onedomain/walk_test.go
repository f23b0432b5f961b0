package onedomain_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/djangosessions/gosessions/internal/browsertest"
)

// newBrowser starts one headless Chromium for the test (each walk opens a
// browser context of its own in it: its own cookies). Without chromium it
// returns nil (the walks skip), or fails the test under CI.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if !browsertest.Available(t) {
		t.Logf("%s not found (make deps installs chromium): the browser walks are skipped", browsertest.ChromiumPath)
		return nil
	}
	return browsertest.Start(t, t.Context())
}

// tab is one browser tab of a walk.
type tab struct {
	t    *testing.T
	ctx  context.Context
	name string
}

// newTab opens a tab in parent's browser context (or in a new one, with
// chromedp.WithNewBrowserContext), closed when the test ends.
func newTab(t *testing.T, parent context.Context, name string, opts ...chromedp.ContextOption) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(parent, opts...)
	t.Cleanup(cancel)
	// The first run opens the tab for the life of ctx: without a
	// timeout, which would close it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open tab %s: %v", name, err)
	}
	return &tab{t: t, ctx: ctx, name: name}
}

func (b *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("tab %s: %v", b.name, err)
	}
}

func (b *tab) open(url string) { b.t.Helper(); b.do(chromedp.Navigate(url)) }

func testid(id string) chromedp.CSS { return chromedp.CSS(fmt.Sprintf("[data-testid=%q]", id)) }

// waitText waits until the element with data-testid id reads want on a
// page of path (and of the site given, "go" or "django").
func (b *tab) waitText(path, site, id, want string) {
	b.t.Helper()
	sel, _ := json.Marshal(fmt.Sprintf("[data-testid=%q]", id))
	b.waitJS(path, site, fmt.Sprintf("document.querySelector(%s)?.textContent", sel), want)
}

// waitItem waits until the session inspector shows key with the value
// want (both sites' pages have one).
func (b *tab) waitItem(path, site, key, want string) {
	b.t.Helper()
	k, _ := json.Marshal(key)
	b.waitJS(path, site, fmt.Sprintf(`[...document.querySelectorAll('[data-testid="inspector-item"]')]
		.find(r => r.querySelector('[data-testid="item-key"]').textContent.trim() === %s)
		?.querySelector('[data-testid="item-value"]').textContent`, k), want)
}

// waitJS waits until the string expression expr, evaluated in the loaded
// page at path served by site, equals want once trimmed. It polls, since
// a click's navigation may still be under way.
func (b *tab) waitJS(path, site, expr, want string) {
	b.t.Helper()
	full := fmt.Sprintf(`document.readyState === 'complete' ? JSON.stringify([((%s) ?? '<missing>').trim(), location.pathname,
		document.querySelector('main[data-site="django"]') ? 'django' : 'go', document.title]) : ''`, expr)
	deadline := time.Now().Add(20 * time.Second)
	got := []string{"", "", "", ""}
	for time.Now().Before(deadline) && b.ctx.Err() == nil {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](full))
		cancel()
		if err == nil && v != "" && json.Unmarshal([]byte(v), &got) == nil && got[0] == want && got[1] == path && got[2] == site {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	b.t.Fatalf("tab %s: waiting for %q on %s's %s: the page at %s (%s, titled %q) shows %q", b.name, want, site, path, got[1], got[2], got[3], got[0])
}

// testBrowserWalks walks each domain in browser (the CSRF secret in the
// cookie, and in the session), a browser context (its own cookies) per
// domain.
func testBrowserWalks(t *testing.T, browser context.Context, domains []*domain) {
	if browser == nil {
		t.Skip("no chromium")
	}
	for _, d := range domains {
		name := "django" + d.django.Series
		if d.useSessions {
			name += "/csrf_use_sessions"
		}
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			walk(t, browser, d)
			t.Logf("%s: walked in %v", d, time.Since(start).Round(time.Millisecond))
		})
	}
}

// walk is a user moving between the two sites of d: log in on a Django
// page and see Django's flash message on the Go page it leads to; open a
// Django form in a second tab; fill a form on a Go page and read the value,
// and Go's flash message, on Django's; submit the Django form opened
// before the Go page, and read its change on a Go page; log out on the Go
// side and find Django logged out, with Go's message. No request of the
// walk gets a 403 (or a 5xx).
func walk(t *testing.T, browser context.Context, d *domain) {
	a := newTab(t, browser, "A", chromedp.WithNewBrowserContext())
	b := newTab(t, a.ctx, "B") // a second tab, same cookies
	before := len(d.nginx.Requests(d.site))

	// 1. Log in on Django's login page; Django sends us to the profile,
	// which Go serves: Go sees Django's login.
	a.open(d.base + "/accounts/login/")
	a.waitText("/accounts/login/", "django", "title", "Log in with a password")
	a.do(
		chromedp.SendKeys(testid("username"), username),
		chromedp.SendKeys(testid("password"), password),
		chromedp.Click(testid("accounts-login-submit")),
	)
	a.waitText("/accounts/profile/", "go", "message", "Signed in as "+username)
	a.waitText("/accounts/profile/", "go", "request-user-name", username)
	a.waitText("/accounts/profile/", "go", "flash-text", "You are logged in as "+username+".")

	// 2. In tab B, a Django page with a form (Django's token in it).
	b.open(d.base + "/set")
	b.waitText("/set", "django", "message", "Session data set.")
	b.waitItem("/set", "django", "login_count", "1")

	// 3. In tab A, Go's editor: the form posts Go's token to Go, which
	// sends us home, to Django, which shows the value and the user.
	a.open(d.base + "/session")
	a.waitText("/session", "go", "title", "Session editor")
	a.do(
		chromedp.SendKeys(testid("editor-key"), "color"),
		chromedp.SendKeys(testid("editor-value"), "blue"),
		chromedp.Click(testid("editor-submit")),
	)
	a.waitItem("/", "django", "color", "blue")
	a.waitText("/", "django", "request-user-name", username)
	a.waitText("/", "django", "flash-text", "Saved color.")

	// 4. Back in tab B, the Django form opened before Go's page: its
	// token is still accepted.
	b.do(chromedp.Click(testid("action-submit")))
	b.waitItem("/set", "django", "login_count", "2")
	b.waitText("/set", "django", "message", "Session data set.")
	b.waitText("/set", "django", "flash-text", "<missing>") // shown once, on Django's home

	// 5. Go reads what Django changed.
	a.open(d.base + "/get")
	a.waitText("/get", "go", "message", "User: harun_dev, Role: admin, Logins: 2")

	// 6. Log out on the Go side (the profile's form posts to Go's
	// /accounts/logout/), which sends us home: Django sees nobody.
	a.open(d.base + "/accounts/profile/")
	a.waitText("/accounts/profile/", "go", "message", "Signed in as "+username)
	a.do(chromedp.Click(testid("accounts-logout-submit")))
	a.waitText("/", "django", "request-user-anonymous", "AnonymousUser")
	a.waitText("/", "django", "flash-text", "You are logged out.")
	b.open(d.base + "/")
	b.waitText("/", "django", "request-user-anonymous", "AnonymousUser")
	b.waitText("/", "django", "anonymous", "Not logged in")

	for _, r := range d.nginx.Requests(d.site)[before:] {
		if r.Status == 403 || r.Status >= 500 {
			t.Errorf("%s %s answered %d during the walk\nDjango's log:\n%s\nGo's log:\n%s", r.Method, r.URI, r.Status, d.djangoLog, d.goLog)
		}
	}
}
