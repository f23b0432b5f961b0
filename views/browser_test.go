package views_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/djangosessions/gosessions/internal/browsertest"
)

var updateScreenshot = flag.Bool("update-screenshot", false, "copy the docs' screenshots (README.md, docs/tour.md) taken by TestBrowserLayout to static/screenshot-*.png")

// newBrowser starts a headless chromium with a fresh profile, for at most
// 90 s. Without chromium the test fails under CI (which installs it) and
// is skipped elsewhere.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if !browsertest.Available(t) {
		t.Skipf("%s not found (make deps installs chromium); skipping the browser test", browsertest.ChromiumPath)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	t.Cleanup(cancel)
	return browsertest.Start(t, ctx)
}

// waitText waits until the element with data-testid id reads want.
func waitText(t *testing.T, ctx context.Context, id, want string) {
	t.Helper()
	sel, _ := json.Marshal(fmt.Sprintf("[data-testid=%q]", id))
	waitJS(t, ctx, fmt.Sprintf("document.querySelector(%s)?.textContent", sel), want)
}

// waitItem waits until the inspector shows key with the JSON value want.
func waitItem(t *testing.T, ctx context.Context, key, want string) {
	t.Helper()
	k, _ := json.Marshal(key)
	waitJS(t, ctx, fmt.Sprintf(`[...document.querySelectorAll('[data-testid="inspector-item"]')]
		.find(r => r.querySelector('[data-testid="item-key"]').textContent === %s)
		?.querySelector('[data-testid="item-value"]').textContent`, k), want)
}

// waitJS waits until the string expression expr, evaluated in the loaded
// page, equals want once trimmed. It polls, because a click's navigation
// may still be under way: evaluating in a page that is being replaced
// fails, and a later try reads the new page.
func waitJS(t *testing.T, ctx context.Context, expr, want string) {
	t.Helper()
	full := fmt.Sprintf("document.readyState === 'complete' ? JSON.stringify([((%s) ?? '<missing>').trim(), location.pathname]) : ''", expr)
	deadline := time.Now().Add(20 * time.Second) // generous: CI runs packages in parallel on 2 cores
	got := []string{"", ""}
	for time.Now().Before(deadline) && ctx.Err() == nil {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](full))
		if err == nil && v != "" && json.Unmarshal([]byte(v), &got) == nil && got[0] == want {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("waiting for %q: the page at %s shows %q", want, got[1], got[0])
}

// cspWatch collects the Content-Security-Policy violations of every page
// the tab loads: the securitypolicyviolation events (reported to the
// console by a script the browser adds to each document) and the
// browser's own console messages about the policy.
type cspWatch struct {
	mu   sync.Mutex
	seen []string
}

func watchCSP(t *testing.T, ctx context.Context) *cspWatch {
	t.Helper()
	w := &cspWatch{}
	err := chromedp.Listen(ctx, func(ev any) {
		var text string
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			for _, a := range ev.Args {
				text += string(a.Value) + " "
			}
		case *log.EventEntryAdded:
			text = ev.Entry.Text
		}
		if strings.Contains(text, "CSP violation") || strings.Contains(text, "Content Security Policy") {
			w.mu.Lock()
			w.seen = append(w.seen, text)
			w.mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `document.addEventListener('securitypolicyviolation', e => console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline')))`,
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *cspWatch) violations() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.seen...)
}

func byTestID(id string) chromedp.CSS {
	return chromedp.CSS(fmt.Sprintf("[data-testid=%q]", id))
}

// TestBrowserTour walks the site in headless chromium as a person would:
// set, get, three visits, log in, see the greeting, log out and see the
// session gone.
func TestBrowserTour(t *testing.T) {
	ctx := newBrowser(t)
	csp := watchCSP(t, ctx)
	s := newSite(t)
	nav := func(path string) chromedp.CSS { return chromedp.CSS(fmt.Sprintf(`nav a[href=%q]`, path)) }

	if err := chromedp.Do(ctx, chromedp.Navigate(s.srv.URL+"/")); err != nil {
		t.Fatalf("open the home page: %v", err)
	}
	waitText(t, ctx, "anonymous", "Not logged in")
	waitText(t, ctx, "inspector-empty", "The session is empty.")

	// Set, by following the link, then again with the page's POST button.
	if err := chromedp.Do(ctx, chromedp.Click(nav("/set"))); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "message", "Session data set.")
	waitText(t, ctx, "welcome", "Welcome harun_dev")
	if err := chromedp.Do(ctx, chromedp.Click(byTestID("action-submit"))); err != nil {
		t.Fatal(err)
	}
	waitItem(t, ctx, "login_count", "2")

	if err := chromedp.Do(ctx, chromedp.Click(nav("/get"))); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "message", "User: harun_dev, Role: admin, Logins: 2")

	for i := 1; i <= 3; i++ {
		if err := chromedp.Do(ctx, chromedp.Click(nav("/visits"))); err != nil {
			t.Fatal(err)
		}
		waitText(t, ctx, "message", fmt.Sprintf("You have visited this page %d times.", i))
	}

	// Log in through the form: a real POST with the page's CSRF token.
	if err := chromedp.Do(ctx, chromedp.Click(nav("/login"))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.WaitVisible(byTestID("username")),
		chromedp.SendKeys(byTestID("username"), "Grace Hopper"),
		chromedp.Click(byTestID("login-submit")),
	); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "welcome", "Welcome Grace Hopper")
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || loc != s.srv.URL+"/" {
		t.Errorf("after login at %q (%v), want the home page", loc, err)
	}

	// Log out with the header's POST button.
	if err := chromedp.Do(ctx, chromedp.Click(byTestID("header-logout"))); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "anonymous", "Not logged in")
	waitText(t, ctx, "inspector-empty", "The session is empty.")
	if err := chromedp.Do(ctx, chromedp.Navigate(s.srv.URL+"/api/session")); err != nil {
		t.Fatal(err)
	}
	// Read the text by script rather than by DOM node: Chromium's JSON
	// viewer may rebuild the body after load, invalidating node ids.
	body, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.body.innerText"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, `"data":{}`) {
		t.Errorf("/api/session after logout: %s", body)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(s.srv.URL+"/get")); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "message", "User: Guest, Role: none, Logins: 0")
	cookies, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.cookie"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(cookies, "sessionid") {
		t.Errorf("the session cookie is readable by scripts: %q", cookies)
	}

	// Where you're signed in: a real login here, another device (an
	// iPhone, a Go client) of the same user, the page, and "sign out all
	// other devices", after which the other device is logged out.
	s.addUser("grace", "pw-grace")
	phone := browserOn(s, safariIPhone)
	phone.loginAs("grace", "pw-grace")
	accountsLogin(t, ctx, s, "grace", "pw-grace")
	if err := chromedp.Do(ctx, chromedp.Navigate(s.srv.URL+"/accounts/sessions/")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `String(document.querySelectorAll('[data-testid="device"]').length)`, "2")
	waitText(t, ctx, "this-device", "This device")
	waitText(t, ctx, "message", "You are signed in on 2 devices.")
	if err := chromedp.Do(ctx, chromedp.Click(byTestID("signout-others"))); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "message", "You are signed in on 1 device.")
	waitText(t, ctx, "flash-text", "Signed out 1 session.")
	if r := phone.get("/accounts/profile/"); r.StatusCode != http.StatusFound {
		t.Errorf("the phone after sign out all other devices: %d, want logged out", r.StatusCode)
	}

	// The pages satisfy the site's Content-Security-Policy: not one
	// violation on any page of the tour, nor on these, and the stylesheet
	// applies.
	for _, p := range []string{"/learn", "/session", "/nowhere", "/"} {
		if err := chromedp.Do(ctx, chromedp.Navigate(s.srv.URL+p)); err != nil {
			t.Fatal(err)
		}
		waitJS(t, ctx, "getComputedStyle(document.querySelector('.brand')).fontWeight", "700")
	}
	if v := csp.violations(); len(v) != 0 {
		t.Errorf("Content-Security-Policy violations: %q", v)
	}
	// The watch sees a violation when there is one: an inline style.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const s = document.createElement('style'); s.textContent = 'body { color: red }'; document.head.append(s); return 'added' })()`)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(csp.violations()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if v := csp.violations(); len(v) == 0 || !strings.Contains(strings.Join(v, " "), "style-src") {
		t.Errorf("an inline style raised no CSP violation (is the policy sent?): %q", v)
	}
}

// accountsLogin logs the browser in through /accounts/login/'s form.
func accountsLogin(t *testing.T, ctx context.Context, s *site, username, password string) {
	t.Helper()
	open(t, ctx, s, "/accounts/login/")
	if err := chromedp.Do(ctx,
		chromedp.SetValue(byTestID("username"), username),
		chromedp.SetValue(byTestID("password"), password),
		chromedp.Click(byTestID("accounts-login-submit")),
	); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "location.pathname", "/accounts/profile/")
}

// layoutCheck is evaluated in a page: it returns one line per problem.
//   - An element that is not inline scrolls or clips sideways
//     (scrollWidth > clientWidth), scrolling wrappers included.
//   - A line of code (a code panel, a /learn cell) wraps between two
//     characters of an identifier: it may wrap at spaces and after dots and
//     brackets.
//   - A short inspector key wraps at all (a long one may, after _ first).
const layoutCheck = `(() => {
	const problems = [];
	const describe = el => {
		let d = el.tagName.toLowerCase();
		if (el.id) d += '#' + el.id;
		if (typeof el.className === 'string' && el.className) d += '.' + el.className.trim().split(/\s+/).join('.');
		const tid = el.getAttribute('data-testid');
		if (tid) d += '[' + tid + ']';
		return d + ' "' + (el.textContent || '').trim().slice(0, 50).replace(/\s+/g, ' ') + '"';
	};
	for (const el of document.querySelectorAll('*')) {
		const display = getComputedStyle(el).display;
		if (display === 'inline' || display === 'none' || display === 'contents') continue;
		if (el.scrollWidth > el.clientWidth) {
			problems.push('overflows sideways (scrollWidth ' + el.scrollWidth + ' > clientWidth ' + el.clientWidth + '): ' + describe(el));
		}
	}
	const ident = c => /[\p{L}\p{N}_]/u.test(c);
	const breaksInside = el => {
		const chars = []; // [character, top of its box] for every character
		const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
		const range = document.createRange();
		for (let n = walker.nextNode(); n; n = walker.nextNode()) {
			for (let i = 0; i < n.data.length; i++) {
				range.setStart(n, i);
				range.setEnd(n, i + 1);
				const r = range.getBoundingClientRect();
				chars.push([n.data[i], r.width > 0 ? r.top : null]);
			}
		}
		const found = [];
		let prevTop = null;
		for (let i = 0; i < chars.length; i++) {
			const [c, top] = chars[i];
			if (top === null || c === '\n') continue;
			if (prevTop !== null && top > prevTop + 4 && i > 0 && chars[i - 1][0] !== '\n' && ident(chars[i - 1][0]) && ident(c)) {
				const text = chars.map(x => x[0]).join('');
				found.push(JSON.stringify(text.slice(Math.max(0, i - 20), i) + '|' + text.slice(i, i + 20)));
			}
			prevTop = top;
		}
		return found;
	};
	for (const el of document.querySelectorAll('pre code .ln, .learn-table code, .demos a')) {
		for (const b of breaksInside(el)) problems.push('wraps inside an identifier at ' + b + ': ' + describe(el));
	}
	for (const el of document.querySelectorAll('.items .key:not(.long-key) code')) {
		if (el.getClientRects().length > 1) problems.push('short key wraps: ' + describe(el));
	}
	return problems;
})()`

// layoutPages are the pages TestBrowserLayout checks: every page of the
// site and an error page. The demos that remove data come last, so the
// others show a full session.
var layoutPages = []string{
	"/", "/set", "/get", "/visits", "/testcookie", "/login", "/logout", "/session", "/learn", "/accounts/login/", "/accounts/sessions/", "/no/such/page",
	"/delete", "/pop", "/clear", "/flush",
}

// viewport is a browser window size the layout is checked at.
type viewport struct {
	name          string
	width, height int64
	mobile        bool
}

var (
	desktop = viewport{name: "1280", width: 1280, height: 900}
	phone   = viewport{name: "390", width: 390, height: 844, mobile: true}
)

func setViewport(t *testing.T, ctx context.Context, v viewport) {
	t.Helper()
	var opts []chromedp.EmulateViewportOption
	if v.mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulatePortrait)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(v.width, v.height, opts...)); err != nil {
		t.Fatalf("viewport %s: %v", v.name, err)
	}
}

// setColorScheme emulates prefers-color-scheme: "light" or "dark".
func setColorScheme(t *testing.T, ctx context.Context, scheme string) {
	t.Helper()
	params := emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}}
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, params); err != nil {
		t.Fatalf("color scheme %s: %v", scheme, err)
	}
}

// open navigates to path and waits for its stylesheet: the layout checks
// and screenshots need the styled page.
func open(t *testing.T, ctx context.Context, s *site, path string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(s.srv.URL+path)); err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	waitJS(t, ctx, `[...document.styleSheets].some(x => x.href && x.href.endsWith('/static/site.css') && x.cssRules.length > 0) ? 'styled' : 'unstyled'`, "styled")
}

// rect is an element's box on the page, from getBoundingClientRect.
type rect struct {
	Left, Top, Right, Bottom, Width float64
}

// rects returns the boxes of the first element of each selector; a
// missing element fails the test.
func rects(t *testing.T, ctx context.Context, selectors ...string) []rect {
	t.Helper()
	sel, _ := json.Marshal(selectors)
	js := fmt.Sprintf(`JSON.stringify(%s.map(s => { const e = document.querySelector(s); if (!e) return null; const r = e.getBoundingClientRect(); return {Left: r.left, Top: r.top + scrollY, Right: r.right, Bottom: r.bottom + scrollY, Width: r.width}; }))`, sel)
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
	if err != nil {
		t.Fatal(err)
	}
	var rs []*rect
	if err := json.Unmarshal([]byte(out), &rs); err != nil {
		t.Fatal(err)
	}
	var res []rect
	for i, r := range rs {
		if r == nil {
			t.Fatalf("no element %s", selectors[i])
		}
		res = append(res, *r)
	}
	return res
}

// fillEditor stores key=value through the editor form of /session.
func fillEditor(t *testing.T, ctx context.Context, s *site, key, value string) {
	t.Helper()
	open(t, ctx, s, "/session")
	if err := chromedp.Do(ctx,
		chromedp.SetValue(byTestID("editor-key"), key),
		chromedp.SetValue(byTestID("editor-value"), value),
		chromedp.Click(byTestID("editor-submit")),
	); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "location.pathname", "/")
}

// TestBrowserLayout checks the pages in headless chromium at 1280 px and
// at 390 px: no element scrolls or clips sideways, code wraps only where
// it may, short inspector keys never wrap; on a phone the result and the
// inspector come before the rest, on a wide screen the code takes the
// whole width below. It takes the docs' screenshots first (kept with
// -artifacts; copied to static/ with -update-screenshot).
func TestBrowserLayout(t *testing.T) {
	ctx := newBrowser(t)
	s := newSite(t)

	// The docs' pictures: a user logged in, with a little data.
	open(t, ctx, s, "/login")
	if err := chromedp.Do(ctx,
		chromedp.SetValue(byTestID("username"), "Grace Hopper"),
		chromedp.Click(byTestID("login-submit")),
	); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "welcome", "Welcome Grace Hopper")
	open(t, ctx, s, "/visits")
	for _, page := range []struct{ name, path string }{{"home", "/"}, {"set", "/set"}} {
		for _, shot := range []struct {
			name   string
			v      viewport
			scheme string
		}{
			{"1280-light", desktop, "light"},
			{"1280-dark", desktop, "dark"},
			{"390", phone, "light"},
		} {
			setViewport(t, ctx, shot.v)
			setColorScheme(t, ctx, shot.scheme)
			open(t, ctx, s, page.path)
			var png []byte
			var err error
			if shot.v.mobile {
				png, err = chromedp.Run(ctx, chromedp.CaptureScreenshot()) // the first screen: what a phone shows
			} else {
				png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100)) // the whole page, code panels included
			}
			if err != nil {
				t.Fatalf("screenshot: %v", err)
			}
			saveScreenshot(t, "screenshot-"+page.name+"-"+shot.name+".png", png)
		}
	}
	setColorScheme(t, ctx, "light")

	// The sessions page's pictures: Ada logged in with a password here,
	// on a phone and on another computer.
	setViewport(t, ctx, desktop)
	s.addUser("ada", "pw-ada")
	browserOn(s, safariIPhone).loginAs("ada", "pw-ada")
	browserOn(s, chromeWin).loginAs("ada", "pw-ada")
	accountsLogin(t, ctx, s, "ada", "pw-ada")
	for _, shot := range []struct {
		name   string
		v      viewport
		scheme string
	}{
		{"1280-light", desktop, "light"},
		{"1280-dark", desktop, "dark"},
		{"390", phone, "light"},
	} {
		setViewport(t, ctx, shot.v)
		setColorScheme(t, ctx, shot.scheme)
		open(t, ctx, s, "/accounts/sessions/")
		waitJS(t, ctx, `String(document.querySelectorAll('[data-testid="device"]').length)`, "3")
		var png []byte
		var err error
		if shot.v.mobile {
			// The devices, below the result and the inspector.
			if err := chromedp.Do(ctx, chromedp.ScrollIntoView(byTestID("devices"))); err != nil {
				t.Fatal(err)
			}
			png, err = chromedp.Run(ctx, chromedp.CaptureScreenshot())
		} else {
			png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
		}
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		saveScreenshot(t, "screenshot-sessions-"+shot.name+".png", png)
	}
	setColorScheme(t, ctx, "light")
	setViewport(t, ctx, desktop)

	// Then data that strains the layout: a long key, wide values, a long
	// name without spaces.
	fillEditor(t, ctx, s, "a_rather_long_session_key_for_the_layout_test", `"short"`)
	fillEditor(t, ctx, s, "wide", `["a JSON list much wider than the inspector's value column", 12345678901234567890, {"nested": "an object with a long string inside it"}]`)
	fillEditor(t, ctx, s, "unbroken", `"`+strings.Repeat("x", 120)+`"`)
	open(t, ctx, s, "/login")
	if err := chromedp.Do(ctx,
		chromedp.SetValue(byTestID("username"), "GraceBrewsterMurrayHopper_admiral_of_COBOL_and_compilers"),
		chromedp.Click(byTestID("login-submit")),
	); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "location.pathname", "/")

	for _, v := range []viewport{desktop, phone} {
		setViewport(t, ctx, v)
		for _, path := range layoutPages {
			open(t, ctx, s, path)
			checkLayout(t, ctx, v, path)
			if path == "/set" || path == "/" {
				checkOrder(t, ctx, v, path)
			}
		}
	}

	// The pages behind the login, with flash messages: logged in with a
	// password, each page checked with a long message above its title,
	// and the password form with its errors.
	s.addUser("grace", "correct horse battery staple")
	open(t, ctx, s, "/accounts/login/")
	if err := chromedp.Do(ctx,
		chromedp.SetValue(byTestID("username"), "grace"),
		chromedp.SetValue(byTestID("password"), "correct horse battery staple"),
		chromedp.Click(byTestID("accounts-login-submit")),
	); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "flash-text", "You are logged in as grace.")
	for _, v := range []viewport{desktop, phone} {
		setViewport(t, ctx, v)
		for _, path := range []string{"/", "/accounts/profile/", "/accounts/password/"} {
			open(t, ctx, s, path)
			addFlash(t, ctx, 30, "A warning long enough to wrap on a phone, with a_rather_long_identifier_that_must_not_stick_out_of_the_page.")
			open(t, ctx, s, path) // shows it, once
			waitText(t, ctx, "flash-text", "A warning long enough to wrap on a phone, with a_rather_long_identifier_that_must_not_stick_out_of_the_page.")
			checkLayout(t, ctx, v, path+" with a message")
		}
		open(t, ctx, s, "/accounts/password/")
		if err := chromedp.Do(ctx,
			chromedp.SetValue(byTestID("old-password"), "wrong"),
			chromedp.SetValue(byTestID("new-password1"), "a"),
			chromedp.SetValue(byTestID("new-password2"), "b"),
			chromedp.Click(byTestID("password-submit")),
		); err != nil {
			t.Fatal(err)
		}
		waitJS(t, ctx, `document.querySelectorAll('[data-testid="form-error"]').length + ''`, "2")
		checkLayout(t, ctx, v, "/accounts/password/ with errors")
	}
}

// addFlash adds a flash message the way a script of the page would: a
// POST to /api/messages with the page's CSRF token.
func addFlash(t *testing.T, ctx context.Context, level int, text string) {
	t.Helper()
	js := fmt.Sprintf(`fetch('/api/messages', {method: 'POST', body: new URLSearchParams({level: '%d', message: %s,
		csrfmiddlewaretoken: document.querySelector('[name=csrfmiddlewaretoken]').value})}).then(r => r.status)`, level, strconv.Quote(text))
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](js, chromedp.EvalAwaitPromise))
	if err != nil || status != http.StatusCreated {
		t.Fatalf("POST /api/messages from the page: %d, %v", status, err)
	}
}

// checkLayout runs layoutCheck on the page open in ctx.
func checkLayout(t *testing.T, ctx context.Context, v viewport, what string) {
	t.Helper()
	problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](layoutCheck))
	if err != nil {
		t.Fatalf("%s at %s px: %v", what, v.name, err)
	}
	for _, p := range problems {
		t.Errorf("%s at %s px: %s", what, v.name, p)
	}
}

// checkOrder checks where the inspector and the code are: on a phone the
// head (title, result) first, then the inspector, then the rest and the
// code; on a wide screen the inspector beside the head and the code below
// both, as wide as the page.
func checkOrder(t *testing.T, ctx context.Context, v viewport, path string) {
	t.Helper()
	r := rects(t, ctx, ".page-head", "[data-testid=inspector]", ".page-body", "[data-testid=lesson]", "main")
	head, insp, body, code, main := r[0], r[1], r[2], r[3], r[4]
	if v.mobile {
		if !(head.Bottom <= insp.Top && insp.Bottom <= body.Top && body.Bottom <= code.Top) {
			t.Errorf("%s at %s px: not stacked head, inspector, body, code: %+v", path, v.name, r)
		}
		if insp.Top > float64(v.height) {
			t.Errorf("%s at %s px: the inspector starts at %.0f px, below the first screen", path, v.name, insp.Top)
		}
		return
	}
	if !(insp.Left >= head.Right && insp.Top < head.Bottom) {
		t.Errorf("%s at %s px: the inspector is not beside the head: %+v", path, v.name, r)
	}
	if code.Top < insp.Bottom || code.Top < body.Bottom || code.Width < main.Width*0.9 {
		t.Errorf("%s at %s px: the code is not below both at full width: %+v", path, v.name, r)
	}
}

// saveScreenshot keeps png as name in the test's artifact directory (kept
// with go test -artifacts), and with -update-screenshot also in static/
// for the docs.
func saveScreenshot(t *testing.T, name string, png []byte) {
	t.Helper()
	if len(png) < 8 || string(png[1:4]) != "PNG" {
		t.Fatalf("screenshot %s is not a PNG (%d bytes)", name, len(png))
	}
	path := filepath.Join(t.ArtifactDir(), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	if *updateScreenshot {
		small, err := compactPNG(png)
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join("..", "static", name), small, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// compactPNG re-encodes a screenshot with a palette of its 256 most
// frequent colours (a page has a few thousand, mostly the edges of
// letters), each other colour drawn as the nearest of those, at the best
// compression: about a third of chromium's size for the docs, with no
// visible change.
func compactPNG(b []byte) ([]byte, error) {
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	bounds := img.Bounds()
	counts := map[color.RGBA]int{}
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			counts[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)]++
		}
	}
	colors := slices.Collect(maps.Keys(counts))
	slices.SortFunc(colors, func(a, b color.RGBA) int { // most frequent first; ties in a fixed order
		if c := cmp.Compare(counts[b], counts[a]); c != 0 {
			return c
		}
		return cmp.Compare(uint32(a.R)<<24|uint32(a.G)<<16|uint32(a.B)<<8|uint32(a.A), uint32(b.R)<<24|uint32(b.G)<<16|uint32(b.B)<<8|uint32(b.A))
	})
	var palette color.Palette
	for _, c := range colors[:min(len(colors), 256)] {
		palette = append(palette, c)
	}
	out := image.NewPaletted(bounds, palette)
	draw.Draw(out, bounds, img, bounds.Min, draw.Src)
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, out); err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return buf.Bytes(), nil
}
