// Package browsertest starts the headless Chromium of the browser tests
// (the site's own in views, the one-domain walks in internal/onedomain)
// through chromedp: Debian's chromium, which make deps installs, on a
// fresh profile.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is Debian's chromium.
const ChromiumPath = "/usr/bin/chromium"

// Available reports whether Chromium is installed. When it is not, it
// fails the test if the environment variable CI is set (CI installs it,
// so a CI run never passes without the browser tests); otherwise the
// caller skips what needs it.
func Available(t testing.TB) bool {
	t.Helper()
	if _, err := exec.LookPath(ChromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but %s is missing (make deps installs chromium): %v", ChromiumPath, err)
		}
		return false
	}
	return true
}

// Start starts a headless Chromium with a fresh profile and a 1280×900
// window, which runs until ctx ends or the test does, and returns the
// context of its first tab (chromedp.NewContext's: a tab opened from it
// shares its cookies, unless opened with chromedp.WithNewBrowserContext).
// Call Available first.
func Start(t testing.TB, ctx context.Context) context.Context {
	t.Helper()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(ChromiumPath),
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
	if err := chromedp.Do(bctx); err != nil { // starts the browser, for the life of ctx
		t.Fatalf("start chromium: %v", err)
	}
	return bctx
}
