package views_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's chromium, which CI installs.
const chromiumPath = "/usr/bin/chromium"

var updateScreenshot = flag.Bool("update-screenshot", false, "copy the home page screenshot of TestBrowserTour to static/screenshot-home.png")

// newBrowser starts a headless chromium with a fresh profile. Without
// chromium the test fails under CI (which installs it) and is skipped
// elsewhere.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := exec.LookPath(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but %s is missing (apt-get install chromium): %v", chromiumPath, err)
		}
		t.Skipf("%s not found (apt-get install chromium); skipping the browser test", chromiumPath)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	t.Cleanup(cancel)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox, // tests run as root
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(cancelBrowser)
	return bctx
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
// session gone. It saves a screenshot of the home page.
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
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	saveScreenshot(t, png)

	// Log out with the header's POST button.
	if err := chromedp.Do(ctx, chromedp.Click(byTestID("header-logout"))); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "anonymous", "Not logged in")
	waitText(t, ctx, "inspector-empty", "The session is empty.")
	if err := chromedp.Do(ctx, chromedp.Navigate(s.srv.URL+"/api/session")); err != nil {
		t.Fatal(err)
	}
	body, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
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

// saveScreenshot keeps png in the test's artifact directory (kept with
// go test -artifacts), and with -update-screenshot also as
// static/screenshot-home.png for the README.
func saveScreenshot(t *testing.T, png []byte) {
	t.Helper()
	if len(png) < 8 || string(png[1:4]) != "PNG" {
		t.Fatalf("screenshot is not a PNG (%d bytes)", len(png))
	}
	dir := t.ArtifactDir()
	if err := os.WriteFile(filepath.Join(dir, "home.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", filepath.Join(dir, "home.png"))
	if *updateScreenshot {
		if err := os.WriteFile(filepath.Join("..", "static", "screenshot-home.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
