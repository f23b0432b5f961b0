package views

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/djangosessions/gosessions/app/messages"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/templates"
	"github.com/labstack/echo/v4"
)

// Bounds of the key/value editor.
const (
	maxKeyLen   = 100
	maxValueLen = 4096
	// maxValueDepth bounds how deep a JSON value nests lists and objects:
	// plenty for a session, and far below what the session framework
	// (1,000) and Python's json module (about 1,000) accept, so a value the
	// editor accepts can always be stored and read back by Django.
	maxValueDepth = 100
)

// editor shows the key/value editor on its own page.
func (h *Handlers) editor(c echo.Context) error {
	return h.editorPage(c, http.StatusOK, templates.EditorForm{})
}

// editorSave mirrors Django's request.session[key] = value for any key (or
// setdefault, which keeps a value already there): the value is read as JSON
// when it parses and kept as a string otherwise, and an optional expiry is
// applied (seconds, a date-time, or "none" for the default). Keys starting
// with "_" are Django's own; a bad field re-shows the form with a 400 and
// changes nothing.
func (h *Handlers) editorSave(c echo.Context) error {
	form := templates.EditorForm{Key: c.FormValue("key"), Value: c.FormValue("value"), Expiry: c.FormValue("expiry"), SetDefault: c.FormValue("setdefault") != ""}
	value, expiry, problem := h.parseEntry(form)
	if problem != "" {
		form.Error = problem
		return h.editorPage(c, http.StatusBadRequest, form)
	}
	s := session.From(c)
	if form.SetDefault {
		s.SetDefault(form.Key, value) // only when the key is absent
	} else {
		s.Set(form.Key, value)
	}
	expiry.apply(s)
	if err := messages.Add(c.Request().Context(), messages.Success, "Saved "+form.Key+"."); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/")
}

func (h *Handlers) editorPage(c echo.Context, status int, f templates.EditorForm) error {
	f.Key, f.Value, f.Expiry = truncate(f.Key, maxKeyLen), truncate(f.Value, maxValueLen), truncate(f.Expiry, 64)
	f.MaxKeyLen, f.Lesson = maxKeyLen, h.lessons["/session"]
	return render(c, status, templates.EditorPage(h.page(c, "Session editor"), f))
}

// expiryKind is what the editor's expiry field asks for.
type expiryKind int

const (
	keepExpiry    expiryKind = iota // field empty: leave the expiry alone
	expireAfter                     // set_expiry(seconds)
	expireAt                        // set_expiry(datetime)
	defaultExpiry                   // set_expiry(None)
)

// expiryChange is a parsed expiry field.
type expiryChange struct {
	kind    expiryKind
	seconds int
	at      time.Time
}

// apply makes the change on s, as Django's set_expiry(seconds),
// set_expiry(datetime) or set_expiry(None) would.
func (e expiryChange) apply(s *session.Session) {
	switch e.kind {
	case expireAfter:
		s.SetExpiry(e.seconds)
	case expireAt:
		s.SetExpiryAt(e.at)
	case defaultExpiry:
		s.ResetExpiry()
	}
}

// parseEntry validates the editor's fields and returns the value to store
// and the expiry to apply, or a message for the visitor.
func (h *Handlers) parseEntry(f templates.EditorForm) (any, expiryChange, string) {
	var none expiryChange
	switch {
	case f.Key == "":
		return nil, none, "Enter a key."
	case strings.HasPrefix(f.Key, "_"):
		return nil, none, "Keys starting with an underscore are reserved by Django (it keeps _session_expiry and _auth_user_id there)."
	case !utf8.ValidString(f.Key) || strings.IndexFunc(f.Key, unicode.IsControl) >= 0:
		return nil, none, "A key cannot contain control characters."
	case utf8.RuneCountInString(f.Key) > maxKeyLen:
		return nil, none, fmt.Sprintf("A key has at most %d characters.", maxKeyLen)
	}
	value, problem := parseValue(f.Value)
	if problem != "" {
		return nil, none, problem
	}
	raw := strings.TrimSpace(f.Expiry)
	switch {
	case raw == "":
		return value, none, ""
	case strings.EqualFold(raw, "none"):
		return value, expiryChange{kind: defaultExpiry}, ""
	}
	if n, err := strconv.Atoi(raw); err == nil {
		if n < 0 || n > maxExpiry {
			return nil, none, fmt.Sprintf("An expiry in seconds is from 0 (browser close) to %d.", maxExpiry)
		}
		return value, expiryChange{kind: expireAfter, seconds: n}, ""
	}
	at, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		return nil, none, "Expiry must be a number of seconds, a date-time such as 2030-01-02T15:04:05Z, or none."
	}
	now := h.Sessions.Config().Now()
	if !at.After(now) || at.Sub(now) > maxExpiry*time.Second {
		return nil, none, "An expiry date must be in the future, within ten years."
	}
	return value, expiryChange{kind: expireAt, at: at}, ""
}

// parseValue reads the editor's value field: JSON when it is a JSON
// document, the text itself otherwise, or a message saying why it cannot
// be stored.
func parseValue(raw string) (any, string) {
	switch {
	case len(raw) > maxValueLen:
		return nil, fmt.Sprintf("A value has at most %d bytes.", maxValueLen)
	case !utf8.ValidString(raw):
		return nil, "A value must be valid UTF-8 text."
	}
	if !json.Valid([]byte(raw)) {
		return raw, ""
	}
	if jsonDepth(raw) > maxValueDepth {
		return nil, fmt.Sprintf("A JSON value nests lists and objects at most %d levels deep.", maxValueDepth)
	}
	return jsonOrString(raw), ""
}

// jsonDepth is how deep the valid JSON document raw nests arrays and
// objects.
func jsonDepth(raw string) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case escaped:
			escaped = false
		case inString:
			switch c {
			case '\\':
				escaped = true
			case '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
			deepest = max(deepest, depth)
		case c == ']' || c == '}':
			depth--
		}
	}
	return deepest
}

// jsonOrString decodes raw as JSON when it is a JSON document (numbers kept
// exact) and returns it unchanged otherwise.
func jsonOrString(raw string) any {
	if !json.Valid([]byte(raw)) {
		return raw
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return raw
	}
	return v
}
