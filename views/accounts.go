package views

import (
	"errors"
	"net/http"

	"github.com/djangosessions/gosessions/app/auth"
	"github.com/djangosessions/gosessions/app/csrf"
	"github.com/djangosessions/gosessions/templates"
	"github.com/labstack/echo/v4"
)

// loginError is Django's AuthenticationForm message for wrong credentials:
// it never says which of the two was wrong.
const loginError = "Please enter a correct username and password. Note that both fields may be case-sensitive."

// retryAfterBusy is the Retry-After, in seconds, of a login refused
// because the password checks are at their bound (auth.ErrBusy).
const retryAfterBusy = "2"

// accountsLoginForm shows Django's login form; ?next= is kept for after
// the login.
func (h *Handlers) accountsLoginForm(c echo.Context) error {
	return h.accountsLoginPage(c, http.StatusOK, "", c.QueryParam(h.Auth.RedirectField()), "")
}

// accountsLogin mirrors Django's LoginView: authenticate() checks the
// password against auth_user, then login() stores _auth_user_id,
// _auth_user_backend and _auth_user_hash, cycles the session key and
// rotates the CSRF secret (csrf.Rotate, passed in: the CSRF middleware is
// the site's). The browser goes to next when it is safe (same host), else
// to the profile. Wrong credentials show the form again, status 200, and
// store nothing. When the site is hashing as many passwords as it allows
// at once, the answer is a 503 with Retry-After, for a known username and
// an unknown one alike.
func (h *Handlers) accountsLogin(c echo.Context) error {
	username, next := c.FormValue("username"), c.FormValue(h.Auth.RedirectField())
	user, err := h.Auth.Authenticate(c.Request().Context(), username, c.FormValue("password"))
	if errors.Is(err, auth.ErrBusy) {
		// As many passwords are being hashed as the site allows at once:
		// nothing was checked, the visitor may simply try again.
		c.Response().Header().Set("Retry-After", retryAfterBusy)
		return echo.NewHTTPError(http.StatusServiceUnavailable, msgBusy).SetInternal(err)
	}
	if err != nil && !errors.Is(err, auth.ErrUnsupportedHasher) && !errors.Is(err, auth.ErrMalformedHash) {
		return echo.NewHTTPError(http.StatusServiceUnavailable).SetInternal(err)
	}
	if user == nil {
		// A hash Go cannot check is logged by Authenticate; the visitor
		// learns no more than from a wrong password.
		return h.accountsLoginPage(c, http.StatusOK, username, next, loginError)
	}
	if err := h.Auth.Login(c.Response(), c.Request(), user, csrf.Rotate); err != nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable).SetInternal(err)
	}
	return c.Redirect(http.StatusFound, h.Auth.RedirectAfterLogin(c.Request(), next))
}

// accountsLogout mirrors Django's LogoutView (a POST, as in Django 5):
// logout() flushes the session and request.user becomes anonymous.
func (h *Handlers) accountsLogout(c echo.Context) error {
	h.Auth.Logout(c.Request())
	return c.Redirect(http.StatusFound, "/")
}

// profile is the page behind @login_required (h.Auth.EchoLoginRequired,
// on its route): only a logged-in visitor gets here, so request.user is a
// user.
func (h *Handlers) profile(c echo.Context) error {
	user, err := h.Auth.User(c.Request())
	if err != nil || user == nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable).SetInternal(err)
	}
	return render(c, http.StatusOK, templates.ProfilePage(h.page(c, "Profile"), user.Username, h.lessons["/accounts/profile/"]))
}

func (h *Handlers) accountsLoginPage(c echo.Context, status int, username, next, problem string) error {
	f := templates.AccountLoginForm{Username: truncate(username, maxUsername), Next: next, Error: problem, Lesson: h.lessons["/accounts/login/"]}
	return render(c, status, templates.AccountsLoginPage(h.page(c, "Log in with a password"), f))
}
