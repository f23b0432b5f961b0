package views

import (
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/djangosessions/gosessions/app/csrf"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/templates"
	"github.com/labstack/echo/v4"
)

// maxUsername is the longest username accepted, Django's User.username
// max_length.
const maxUsername = 150

// loginForm shows the login form.
func (h *Handlers) loginForm(c echo.Context) error {
	return h.loginPage(c, http.StatusOK, "", "")
}

// login mirrors what Django's login() does to the session: CycleKey gives
// the session a new key and keeps its data, so a key an attacker planted
// before login is worthless (session fixation); the name is stored; and
// csrf.Rotate replaces the CSRF secret, as login() does with
// rotate_token(), so a token seen before login is worthless too. Then the browser is sent
// home with a 303. An invalid name re-shows the form with a 400.
func (h *Handlers) login(c echo.Context) error {
	name, problem := cleanUsername(c.FormValue("username"))
	if problem != "" {
		return h.loginPage(c, http.StatusBadRequest, c.FormValue("username"), problem)
	}
	s := session.From(c)
	s.CycleKey()
	s.Set("username", name)
	csrf.Rotate(c.Response(), c.Request())
	return c.Redirect(http.StatusSeeOther, "/")
}

// logoutForm shows the logout form: as in Django 5, a GET never logs out.
func (h *Handlers) logoutForm(c echo.Context) error {
	return render(c, http.StatusOK, templates.LogoutPage(h.page(c, "Log out"), h.lessons["/logout"]))
}

// logout mirrors Django's logout(): Flush deletes the data, the stored row
// and the cookie, then the browser is sent home with a 303.
func (h *Handlers) logout(c echo.Context) error {
	session.From(c).Flush()
	return c.Redirect(http.StatusSeeOther, "/")
}

func (h *Handlers) loginPage(c echo.Context, status int, username, problem string) error {
	f := templates.LoginForm{Username: truncate(username, maxUsername), Error: problem, MaxLen: maxUsername, Lesson: h.lessons["/login"]}
	return render(c, status, templates.LoginPage(h.page(c, "Log in"), f))
}

// cleanUsername trims raw and checks it: not empty, at most maxUsername
// characters, valid UTF-8 without control characters. It returns the
// cleaned name, or a message for the visitor.
func cleanUsername(raw string) (name, problem string) {
	name = strings.TrimSpace(raw)
	switch {
	case name == "":
		return "", "Enter a username."
	case !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "", "A username cannot contain control characters."
	case utf8.RuneCountInString(name) > maxUsername:
		return "", fmt.Sprintf("A username has at most %d characters.", maxUsername)
	}
	return name, ""
}
