package views

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/templates"
	"github.com/labstack/echo/v4"
)

// set mirrors Django's set_session: it stores the demo user, counts the
// login with Incr (an increment, so concurrent requests never lose one) and
// applies ?expiry=N (query or form) with SetExpiry; a bad N is a 400 and the
// session is left untouched.
func (h *Handlers) set(c echo.Context) error {
	expiry, hasExpiry, err := expirySeconds(c.FormValue("expiry"))
	if err != nil {
		return err
	}
	s := session.From(c)
	s.Set("username", "harun_dev")
	s.Set("role", "admin")
	s.Incr("login_count", 1)
	if hasExpiry {
		s.SetExpiry(expiry) // 0: expire at browser close
	}
	return h.result(c, "Session data set.")
}

// get mirrors Django's get_session: three reads with defaults.
func (h *Handlers) get(c echo.Context) error {
	s := session.From(c)
	username := s.Get("username", "Guest")
	role := s.Get("role", "none")
	logins := s.Get("login_count", 0)
	msg := fmt.Sprintf("User: %s, Role: %s, Logins: %s", display(username), display(role), display(logins))
	return h.result(c, msg)
}

// delete mirrors Django's del request.session["username"]; a missing key
// is not an error.
func (h *Handlers) delete(c echo.Context) error {
	session.From(c).Delete("username")
	return h.result(c, "Username session key deleted.")
}

// pop mirrors Django's request.session.pop("role", None).
func (h *Handlers) pop(c echo.Context) error {
	session.From(c).Pop("role", nil)
	return h.result(c, "Role session key popped.")
}

// clear mirrors Django's request.session.clear(): the data goes, the key
// and cookie stay.
func (h *Handlers) clear(c echo.Context) error {
	session.From(c).Clear()
	return h.result(c, "Session data cleared.")
}

// flush mirrors Django's request.session.flush(): the data, the stored row
// and the cookie go.
func (h *Handlers) flush(c echo.Context) error {
	session.From(c).Flush()
	return h.result(c, "Session flushed.")
}

// visits mirrors Django's visit counter, but increments with Incr, so N
// concurrent visits count N. Save writes at once and returns the count
// that was stored, concurrent visits included.
func (h *Handlers) visits(c echo.Context) error {
	s := session.From(c)
	s.Incr("visits", 1)
	if err := s.Save(); err != nil {
		return saveError(err)
	}
	count := s.GetInt("visits", 0)
	return h.result(c, fmt.Sprintf("You have visited this page %d times.", count))
}

// testCookie mirrors the test-cookie check of Django's old login view: a
// GET sets the test cookie; the POST of the page's button checks that the
// browser sent it back, and asks for cookies when it did not.
func (h *Handlers) testCookie(c echo.Context) error {
	s := session.From(c)
	if c.Request().Method == http.MethodGet {
		s.SetTestCookie()
		return h.result(c, "Test cookie set.")
	}
	if !s.TestCookieWorked() {
		return h.result(c, "Please enable cookies: the test cookie did not come back.")
	}
	s.DeleteTestCookie()
	return h.result(c, "Cookies work: the test cookie came back.")
}

// result renders a demo's page with its sentence.
func (h *Handlers) result(c echo.Context, message string) error {
	path := pagePath(c)
	d := h.demos[path]
	r := templates.Result{Message: message, About: d.result, Expiry: d.expiry, Lesson: h.lessons[path]}
	if d.form {
		r.Action, r.ActionLabel = d.path, d.button
	}
	return render(c, http.StatusOK, templates.ResultPage(h.page(c, d.title), r))
}

// maxExpiry bounds an expiry in seconds: ten years.
const maxExpiry = 10 * 365 * 24 * 60 * 60

// expirySeconds reads an expiry parameter: "" is none, otherwise a whole
// number of seconds from 0 (browser close) to maxExpiry. Anything else is
// a 400 that says what is expected.
func expirySeconds(raw string) (seconds int, ok bool, err error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return 0, false, nil
	}
	n, perr := strconv.Atoi(raw)
	if perr != nil || n < 0 || n > maxExpiry {
		return 0, false, echo.NewHTTPError(http.StatusBadRequest,
			fmt.Sprintf("expiry must be a whole number of seconds from 0 (expire at browser close) to %d; got %q.", maxExpiry, truncate(raw, 40)))
	}
	return n, true, nil
}

// truncate shortens s to at most n runes for an error message.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
