package templates

import (
	"context"
	"fmt"
	"strings"
)

// Page is what the layout needs on every page.
type Page struct {
	// Title is the page's heading and the document title's first part.
	Title string
	// Path is the route of the page, used to mark the current link.
	Path string
	// Username is the session's "username", or "" when it has none.
	Username string
	// User is the username of the logged-in user, Django's request.user,
	// or "" for the anonymous user.
	User string
	// CSRFToken goes into the hidden input of every POST form. Pages
	// without one (error pages of routes outside the CSRF middleware) show
	// links instead of forms.
	CSRFToken string
	// Session is the inspector's view of the request's session.
	Session SessionView
	// Nav is the navigation rendered once for Path (see PrerenderNavs);
	// the zero Nav renders it with the page.
	Nav Nav
	// Messages are the visitor's pending flash messages (Django's
	// {% for message in messages %}), shown once by this page.
	Messages []Flash
}

// Flash is one flash message of django.contrib.messages.
type Flash struct {
	// Level is Django's level number (10 debug to 40 error).
	Level int
	// LevelTag is the level's tag ("info", "error"), or "" for a level of
	// the site's own.
	LevelTag string
	// Tags are the extra tags and the level tag (Django's message.tags).
	Tags string
	// Text is the message, shown escaped.
	Text string
}

// Nav is the site's navigation rendered once for one current path: the
// same HTML on every page of that path.
type Nav struct {
	path, html string
}

// PrerenderNavs renders the navigation once for each path it links to,
// by path.
func PrerenderNavs(ctx context.Context) (map[string]Nav, error) {
	navs := make(map[string]Nav, len(navLinks))
	for _, l := range navLinks {
		var b strings.Builder
		if err := nav(l.Path).Render(ctx, &b); err != nil {
			return nil, fmt.Errorf("templates: render the navigation: %w", err)
		}
		navs[l.Path] = Nav{path: l.Path, html: b.String()}
	}
	return navs, nil
}

// SessionView is the session inspector's read-only view of a session, as
// the page was rendered (after the view changed it).
type SessionView struct {
	// Unavailable is set when the session could not be read (error pages,
	// store down); the inspector then says so and shows nothing else.
	Unavailable bool
	// ShortKey is the start of the session key followed by an ellipsis, or
	// "" when the session has no stored record yet.
	ShortKey string
	// Items are the session's keys in order, with their values.
	Items []Item
	// ExpiryAge is get_expiry_age(): seconds until the session expires.
	ExpiryAge int
	// ExpiryDate is get_expiry_date(), formatted.
	ExpiryDate string
	// BrowserClose is get_expire_at_browser_close().
	BrowserClose bool
	// CookieAge is get_session_cookie_age(): the configured age in seconds
	// of a session cookie, whatever the session's own expiry.
	CookieAge int
	// Modified and Accessed are the session's flags for this request.
	Modified, Accessed bool
}

// Item is one key of a session.
type Item struct {
	// Key is the session key's name.
	Key string
	// Value is the value in its JSON form ("harun_dev" with quotes, 42).
	Value string
	// Type is the value's JSON type: string, number, boolean, null, array
	// or object.
	Type string
}

// Link is a link to a page of the site with a line about it.
type Link struct {
	// Path is the link target, possibly with a query string.
	Path string
	// Label is the link text.
	Label string
	// About says what the target does.
	About string
}

// Lesson is the code a page mirrors: the Django view beside the Go that
// serves the page, all cut from their real source. The Go side is the
// handler first, then the helpers where the handler's session calls happen,
// so that every session call of the page is on the page.
type Lesson struct {
	// Django is the Django view.
	Django Code
	// Go is the Go handler, then its helpers.
	Go []Code

	// html is the panel rendered once by Prerender.
	html string
}

// Prerender returns l with its code panel rendered once, now: a page
// then writes the same HTML without rendering it again. A lesson is fixed
// for the life of the site and its panel is most of a page, so rendering
// it on every request was the largest cost of a page.
func (l Lesson) Prerender(ctx context.Context) (Lesson, error) {
	l.html = ""
	var b strings.Builder
	if err := lesson(l).Render(ctx, &b); err != nil {
		return Lesson{}, fmt.Errorf("templates: render a lesson: %w", err)
	}
	l.html = b.String()
	return l, nil
}

// IsZero reports whether the lesson has no code at all; pages without a
// lesson render no panel.
func (l Lesson) IsZero() bool {
	return len(l.Django.Lines) == 0 && len(l.Go) == 0
}

// Result is a demo page: the sentence the view answers with and what it
// did, with its code.
type Result struct {
	// Message is the view's sentence, e.g. "Session data set.".
	Message string
	// About explains in a sentence or two what happened to the session.
	About string
	// Action is the path a POST button on the page repeats the demo with;
	// "" for views without a POST form.
	Action string
	// ActionLabel is the POST button's text; "" means "Do it again (POST)".
	ActionLabel string
	// Expiry, when set, adds an optional expiry field to the POST form.
	Expiry bool
	// Lesson is the code panel.
	Lesson Lesson
}

// LoginForm is the login page's form state.
type LoginForm struct {
	// Username is what was entered, shown again after an error.
	Username string
	// Error is the validation error, or "".
	Error string
	// MaxLen bounds the username's length.
	MaxLen int
	// Lesson is the code panel.
	Lesson Lesson
}

// AccountLoginForm is the state of Django's login form at
// /accounts/login/.
type AccountLoginForm struct {
	// Username is what was entered, shown again after an error.
	Username string
	// Next is the page to go to after the login, carried in a hidden
	// input.
	Next string
	// Error is Django's message for wrong credentials, or "".
	Error string
	// Lesson is the code panel.
	Lesson Lesson
}

// PasswordChangeForm is the state of Django's PasswordChangeForm at
// /accounts/password/.
type PasswordChangeForm struct {
	// Username is the logged-in user whose password changes.
	Username string
	// Errors are the form's errors, Django's messages, in field order.
	Errors []string
	// Lesson is the code panel.
	Lesson Lesson
}

// EditorForm is the key/value editor's form state.
type EditorForm struct {
	// Key, Value and Expiry are what was entered, shown again after an
	// error.
	Key, Value, Expiry string
	// SetDefault asks for setdefault (keep a value already there) instead
	// of an assignment.
	SetDefault bool
	// Error is the validation error, or "".
	Error string
	// MaxKeyLen bounds a key's length.
	MaxKeyLen int
	// Lesson is the code panel; the home page's editor has none.
	Lesson Lesson
}

// LearnRow maps one Django session API or setting to its Go equivalent.
type LearnRow struct {
	// Django is the Django API or setting.
	Django string
	// Go is how this project does it.
	Go string
	// Note says what the running site does where that needs more than the
	// Go code (an engine not offered yet, a command instead of a page);
	// "" for none.
	Note string
	// Demo is the path of the view that demonstrates it; "" when nothing
	// on the site shows it (the Note says why).
	Demo string
}

// LearnSection is a titled group of rows of the /learn table.
type LearnSection struct {
	// Title names the group.
	Title string
	// Rows are its mappings.
	Rows []LearnRow
}

// ErrorView is an error page's content.
type ErrorView struct {
	// Status is the HTTP status code.
	Status int
	// Title is a short heading ("Page not found").
	Title string
	// Message tells the visitor what happened and what to do; it never
	// holds internal error text.
	Message string
}
