package views

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/templates"
	"github.com/labstack/echo/v4"
)

// render writes comp with status. The component renders into a pooled
// buffer first, so a render error becomes a clean error page instead of a
// half-written 200, and the page goes out with its Content-Length rather
// than in chunks.
func render(c echo.Context, status int, comp templ.Component) error {
	buf := templ.GetBuffer()
	defer templ.ReleaseBuffer(buf)
	if err := comp.Render(c.Request().Context(), buf); err != nil {
		return fmt.Errorf("views: render %s: %w", c.Request().URL.Path, err)
	}
	c.Response().Header().Set(echo.HeaderContentLength, strconv.Itoa(buf.Len()))
	return c.HTMLBlob(status, buf.Bytes())
}

// page builds the layout's model for the request's page from its session
// (session.From, Django's request.session), its user (h.Auth.User,
// Django's request.user), its flash messages (consumed: Django's
// messages context processor and the layout's loop over them) and its
// CSRF token.
func (h *Handlers) page(c echo.Context, title string) templates.Page {
	p := pageOf(session.From(c), title, pagePath(c), csrfToken(c))
	p.Nav = h.navs[p.Path]
	p.Messages = flashes(c) // consumed: shown once
	if h.Auth != nil {
		u, err := h.Auth.User(c.Request())
		if err != nil {
			// The database failed: the header shows no user rather than
			// no page; the request log has the cause.
			h.log().Warn("request.user unavailable", "error", err)
		}
		if u != nil {
			p.User = u.Username
		}
	}
	return p
}

// pageOf builds a page's model from s: the header greets the session's
// username, as a Django template does with {{ request.session.username }}.
// A nil session, or one that could not be loaded, shows as unavailable and
// anonymous.
func pageOf(s *session.Session, title, path, token string) templates.Page {
	p := templates.Page{Title: title, Path: path, CSRFToken: token}
	if s == nil {
		p.Session.Unavailable = true
		return p
	}
	view := inspect(s) // loads the session
	if s.Err() != nil {
		p.Session.Unavailable = true
		return p
	}
	p.Session = view
	if name, ok := s.Lookup("username"); ok {
		p.Username = display(name)
	}
	return p
}

// shortKeyLen is how much of the session key the inspector shows: enough
// to tell sessions apart, not the whole secret.
const shortKeyLen = 8

// inspect builds the inspector's view of s: Django's get_expiry_age(),
// get_expiry_date(), get_session_cookie_age(), get_expire_at_browser_close(),
// modified, accessed, session_key, keys() and items().
func inspect(s *session.Session) templates.SessionView {
	items := s.Items()
	v := templates.SessionView{
		ExpiryAge:    s.ExpiryAge(),
		ExpiryDate:   s.ExpiryDate().UTC().Format("2006-01-02 15:04:05 UTC"),
		CookieAge:    s.CookieAge(),
		BrowserClose: s.ExpireAtBrowserClose(),
		Modified:     s.Modified(),
		Accessed:     s.Accessed(),
	}
	if k := s.Key(); len(k) > shortKeyLen {
		v.ShortKey = k[:shortKeyLen] + "…"
	}
	for _, k := range s.Keys() {
		v.Items = append(v.Items, templates.Item{Key: k, Value: jsonText(items[k]), Type: jsonType(items[k])})
	}
	return v
}

// jsonText is v as JSON, without Go's \u003c escaping of < > &: the page
// escapes it as HTML, and a reader should see the characters.
func jsonText(v any) string {
	switch x := v.(type) {
	case json.Number:
		return x.String() // valid JSON: the session normalizes numbers
	case string:
		if plainJSON(x) {
			return `"` + x + `"`
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("%v", v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// plainJSON reports whether s is its own JSON string body: printable
// ASCII without a quote or a backslash, which JSON leaves as it is.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// jsonType names the JSON type of a session value.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number, int, int64, float64:
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// display formats a session value as Django's templates and f-strings
// print it (Python's str()): strings bare, True/False, None, JSON for
// lists and dicts.
func display(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case json.Number:
		return x.String()
	case int:
		return strconv.Itoa(x)
	}
	return jsonText(v)
}
