// Package views holds the demo site's Echo handlers, Django's "views": each
// one reads or changes the request's session through package session and
// renders a templ component from package templates. Handlers stay thin;
// the routes are all in [Handlers.Register].
//
// Every page shows the Django view it mirrors beside the Go handler that
// served it. The Go side is this package's own source, embedded and cut
// out by function name with go/parser when the routes are registered, so it
// cannot drift from the code that runs (see source.go).
package views

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/djangosessions/gosessions/app/auth"
	"github.com/djangosessions/gosessions/app/csrf"
	"github.com/djangosessions/gosessions/app/messages"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/usersessions"
	"github.com/djangosessions/gosessions/templates"
	"github.com/labstack/echo/v4"
)

// Handlers holds the dependencies of the site's handlers.
type Handlers struct {
	// Sessions is the session manager: its middleware wraps the routes that
	// use the session, and Open reads a session without the middleware.
	Sessions *session.Manager
	// Auth is Django's users and logins (request.user, login(),
	// logout()): the /accounts/ pages and the header's request.user use
	// it. Required by Register.
	Auth *auth.Auth
	// Users lists and ends the sessions of a user (the per-user index,
	// checked against the store): /accounts/sessions/ and /api/sessions.
	// Nil with signed cookies, which keep nothing on the server.
	Users *usersessions.Sessions
	// CSRF is Django's CSRF protection (CsrfViewMiddleware), on every
	// route that uses the session. Required by Register.
	CSRF *csrf.Guard
	// Messages is Django's messages framework: every page shows the
	// pending flash messages, and /api/messages reads and adds them.
	// Required by Register.
	Messages *messages.Manager
	// Log receives internal errors; nil means slog.Default().
	Log *slog.Logger
	// MetricsPath is where the site serves its metrics, linked from
	// /learn; "" when it serves none.
	MetricsPath string

	lessons map[string]templates.Lesson // by page path; set by Register
	demos   map[string]demo             // by page path; set by Register
	navs    map[string]templates.Nav    // by page path; set by Register
}

// demo describes one page of the site: its route, the text around it and
// the code it teaches.
type demo struct {
	path    string
	methods []string
	title   string
	about   string   // one line on the home page
	result  string   // what the view did, shown on its page
	goFunc  string   // the handler whose source the page shows
	helpers []string // the helpers it calls the session in, shown after it
	pyFunc  string   // the Django view it mirrors
	form    bool     // the page offers a POST button that repeats the demo
	button  string   // that button's text, when not "Do it again (POST)"
	expiry  bool     // that form has an expiry field
}

// demos lists the pages that teach a session operation, in the order the
// home page links them.
func demos() []demo {
	getOnly := []string{http.MethodGet}
	getAndPost := []string{http.MethodGet, http.MethodPost}
	return []demo{
		{path: "/set", methods: getAndPost, title: "Set session data", pyFunc: "set_session", goFunc: "set", form: true, expiry: true,
			about:  "Store username, role and a login counter; ?expiry=N sets the expiry.",
			result: "The view stored username, role and login_count (the counter incremented with Incr, so concurrent requests never lose a count). With ?expiry=N it also called SetExpiry(N); 0 means the cookie ends when the browser closes. The header now says Welcome harun_dev because the layout reads the session's username, as the Django template does with {{ request.session.username }}: reading the session is not a login (no key cycled, no CSRF token rotated; /login does that)."},
		{path: "/get", methods: getOnly, title: "Read session data", pyFunc: "get_session", goFunc: "get",
			about:  "Read the values back, with defaults when they are missing.",
			result: "The view read three keys with Get(key, default), like Django's request.session.get(key, default). Reading does not modify the session, so nothing is written."},
		{path: "/delete", methods: getAndPost, title: "Delete a key", pyFunc: "delete_session", goFunc: "delete", form: true,
			about:  "Delete the username key (a missing key is not an error).",
			result: "The view deleted the username key: del request.session['username']. Deleting a key that is not there changes nothing."},
		{path: "/pop", methods: getAndPost, title: "Pop a key", pyFunc: "pop_session", goFunc: "pop", form: true,
			about:  "Pop the role key, with a default when it is missing.",
			result: "The view popped the role key with a default, so a missing key is fine: request.session.pop('role', None)."},
		{path: "/clear", methods: getAndPost, title: "Clear the session", pyFunc: "clear_session", goFunc: "clear", form: true,
			about:  "Remove every key but keep the session key.",
			result: "The view removed every key but kept the session: same key, same cookie, empty data."},
		{path: "/flush", methods: getAndPost, title: "Flush the session", pyFunc: "flush_session", goFunc: "flush", form: true,
			about:  "Delete the data, the stored row and the cookie.",
			result: "The view flushed the session: the data and the stored row are deleted and the cookie is removed. The old key no longer opens anything."},
		{path: "/visits", methods: getOnly, title: "Count visits", pyFunc: "visits", goFunc: "visits",
			about:  "Count your visits with Incr and an explicit Save.",
			result: "The view incremented visits and saved at once, then showed the stored count. Open this page in several tabs at once: no visit is lost."},
		{path: "/testcookie", methods: getAndPost, title: "Test cookie", pyFunc: "test_cookie", goFunc: "testCookie", form: true, button: "Check the test cookie (POST)",
			about:  "Check that your browser sends cookies back, with Django's test-cookie API.",
			result: "A GET sets the test cookie with SetTestCookie() (Django's set_test_cookie(): a marker in the session, so the session cookie goes to your browser). The button's POST asks TestCookieWorked() whether the marker came back, then removes it with DeleteTestCookie(); when it did not come back the page asks you to enable cookies, as Django's old login view did, instead of failing silently."},
	}
}

// Register adds every route of the site to e: the demos, the login and
// logout forms, the key/value editor, /learn, /api/session and
// /api/messages, the /accounts/ pages, each also
// under its path with a trailing slash, and HEAD wherever GET (see route). The routes that use the session get
// the session and messages middlewares and CSRF protection; /api/session gets none, so
// it never creates, saves or touches a session and never sets a cookie.
func (h *Handlers) Register(e *echo.Echo) error {
	if h.Sessions == nil {
		return errors.New("views: Handlers.Sessions is required")
	}
	if h.Auth == nil {
		return errors.New("views: Handlers.Auth is required")
	}
	if h.CSRF == nil {
		return errors.New("views: Handlers.CSRF is required")
	}
	if h.Messages == nil {
		return errors.New("views: Handlers.Messages is required")
	}
	lessons, err := loadLessons(lessonSpecs())
	if err != nil {
		return fmt.Errorf("views: %w", err)
	}
	h.lessons = lessons
	if h.navs, err = templates.PrerenderNavs(context.Background()); err != nil {
		return fmt.Errorf("views: %w", err)
	}
	h.demos = make(map[string]demo)
	for _, d := range demos() {
		h.demos[d.path] = d
	}

	page := []echo.MiddlewareFunc{h.Sessions.Middleware(), h.Messages.Middleware(), keepSession, h.CSRF.Middleware()}
	var api []echo.MiddlewareFunc
	if h.Users != nil {
		// The client the per-user index records, outside the session
		// middleware, whose store calls carry the request's context.
		page = append([]echo.MiddlewareFunc{clientInfo}, page...)
		api = []echo.MiddlewareFunc{clientInfo}
	}
	route(e, []string{http.MethodGet}, "/", h.home, page...)
	handlers := map[string]echo.HandlerFunc{
		"/set": h.set, "/get": h.get, "/delete": h.delete, "/pop": h.pop,
		"/clear": h.clear, "/flush": h.flush, "/visits": h.visits, "/testcookie": h.testCookie,
	}
	for _, d := range demos() {
		hf, ok := handlers[d.path]
		if !ok {
			return fmt.Errorf("views: demo %s has no handler", d.path)
		}
		route(e, d.methods, d.path, hf, page...)
	}
	getOnly, postOnly := []string{http.MethodGet}, []string{http.MethodPost}
	route(e, getOnly, "/login", h.loginForm, page...)
	route(e, postOnly, "/login", h.login, page...)
	route(e, getOnly, "/logout", h.logoutForm, page...)
	route(e, postOnly, "/logout", h.logout, page...)
	route(e, getOnly, "/session", h.editor, page...)
	route(e, postOnly, "/session", h.editorSave, page...)
	route(e, getOnly, "/learn", h.learn, page...)
	route(e, getOnly, "/api/session", h.apiSession, api...)
	route(e, getOnly, "/api/sessions", h.apiSessions, api...)
	route(e, getOnly, "/api/messages", h.apiMessages, page...)
	route(e, postOnly, "/api/messages", h.apiMessagesAdd, page...)
	h.registerAccounts(e, page)
	return nil
}

// registerAccounts adds Django's default auth URLs
// (django.contrib.auth.urls), with their trailing slash, and the password
// change. The whole /accounts/ tree needs a login, as under Django 5.1's
// LoginRequiredMiddleware, except the pages marked here as Django marks
// its views @login_not_required: the login page, and the logout (which
// flushes any visitor's session). A page added below is closed until it
// is marked.
func (h *Handlers) registerAccounts(e *echo.Echo, page []echo.MiddlewareFunc) {
	open := auth.LoginNotRequired("/accounts/login/", "/accounts/logout/")
	accounts := append(slices.Clone(page), h.Auth.EchoLoginRequiredByDefault(open))
	getOnly, postOnly := []string{http.MethodGet}, []string{http.MethodPost}
	slashed(e, getOnly, "/accounts/login/", h.accountsLoginForm, accounts...)
	slashed(e, postOnly, "/accounts/login/", h.accountsLogin, accounts...)
	slashed(e, postOnly, "/accounts/logout/", h.accountsLogout, accounts...)
	slashed(e, getOnly, "/accounts/profile/", h.profile, accounts...)
	slashed(e, getOnly, "/accounts/password/", h.passwordChangeForm, accounts...)
	slashed(e, postOnly, "/accounts/password/", h.passwordChange, accounts...)
	slashed(e, []string{http.MethodGet, http.MethodPost}, devicesPath, h.devices, accounts...)
}

// slashed registers hf for methods on path, which ends with a slash as
// Django's URLs do, with HEAD wherever GET is; the path without its slash
// answers a GET or HEAD with a 301 to it (Django's APPEND_SLASH) and other
// methods directly, since a redirect would lose a POST's form.
func slashed(e *echo.Echo, methods []string, path string, hf echo.HandlerFunc, mw ...echo.MiddlewareFunc) {
	methods = withHead(methods)
	e.Match(methods, path, hf, mw...)
	alias(e, methods, strings.TrimSuffix(path, "/"), path, hf, mw...)
}

// route registers hf for methods on path and on path + "/", with HEAD
// wherever GET is (RFC 9110: GET's status and headers, no body). A GET or
// HEAD of the slashed path is answered with a 301 to the bare one (the
// canonical URL, query kept); other methods are served there directly,
// because a redirect would turn a POST into a GET and lose its form.
//
// HEAD runs the GET handler, session middleware included, as Django runs
// the view for a HEAD: a HEAD of /visits counts a visit and gets its
// Set-Cookie, exactly as the GET would.
func route(e *echo.Echo, methods []string, path string, hf echo.HandlerFunc, mw ...echo.MiddlewareFunc) {
	methods = withHead(methods)
	e.Match(methods, path, hf, mw...)
	if path != "/" {
		alias(e, methods, path+"/", path, hf, mw...)
	}
}

// withHead returns methods with HEAD added wherever GET is.
func withHead(methods []string) []string {
	if slices.Contains(methods, http.MethodGet) && !slices.Contains(methods, http.MethodHead) {
		return append(slices.Clone(methods), http.MethodHead)
	}
	return methods
}

// alias registers other, the spelling of canonical with or without its
// trailing slash: a GET or HEAD gets a 301 to canonical (query kept),
// other methods are served there directly by hf.
func alias(e *echo.Echo, methods []string, other, canonical string, hf echo.HandlerFunc, mw ...echo.MiddlewareFunc) {
	for _, m := range methods {
		if m == http.MethodGet || m == http.MethodHead {
			e.Add(m, other, func(c echo.Context) error {
				to := canonical
				if q := c.Request().URL.RawQuery; q != "" {
					to += "?" + q
				}
				return c.Redirect(http.StatusMovedPermanently, to)
			})
			continue
		}
		e.Add(m, other, hf, mw...)
	}
}

// sessionContextKey is where keepSession leaves the request's session for
// the error handler, which also runs for requests the session middleware
// never saw (a 404).
const sessionContextKey = "github.com/djangosessions/gosessions/views.session"

// keepSession records that the session middleware ran for this request.
func keepSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Set(sessionContextKey, session.From(c))
		return next(c)
	}
}

// requestSession returns the request's session when the session middleware
// ran, or nil.
func requestSession(c echo.Context) *session.Session {
	s, _ := c.Get(sessionContextKey).(*session.Session)
	return s
}

func (h *Handlers) log() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.Default()
}

// pagePath is the route of the request without a trailing slash.
func pagePath(c echo.Context) string {
	p := c.Path()
	if len(p) > 1 {
		p = strings.TrimSuffix(p, "/")
	}
	return p
}
