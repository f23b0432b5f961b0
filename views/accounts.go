package views

import (
	"errors"
	"net/http"

	"github.com/djangosessions/gosessions/app/auth"
	"github.com/djangosessions/gosessions/app/csrf"
	"github.com/djangosessions/gosessions/app/messages"
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
	user, err := h.Auth.AuthenticateRequest(c.Request(), username, c.FormValue("password"))
	if errors.Is(err, auth.ErrBusy) {
		return busy(c, err)
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
	if err := messages.Add(c.Request().Context(), messages.Success, "You are logged in as "+user.Username+"."); err != nil {
		return err
	}
	return c.Redirect(http.StatusFound, h.Auth.RedirectAfterLogin(c.Request(), next))
}

// accountsLogout mirrors Django's LogoutView (a POST, as in Django 5):
// logout() flushes the session and request.user becomes anonymous. The
// flash message goes in the messages cookie, so the flush cannot take it.
func (h *Handlers) accountsLogout(c echo.Context) error {
	h.Auth.Logout(c.Request())
	if err := messages.Add(c.Request().Context(), messages.Info, "You are logged out."); err != nil {
		return err
	}
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

// busy answers a request whose password hashing found every slot taken
// (auth.ErrBusy): 503 with Retry-After. Nothing was checked or changed;
// the visitor may simply try again.
func busy(c echo.Context, err error) error {
	c.Response().Header().Set("Retry-After", retryAfterBusy)
	return echo.NewHTTPError(http.StatusServiceUnavailable, msgBusy).SetInternal(err)
}

// Django's PasswordChangeForm messages.
const (
	fieldRequired     = "This field is required."
	oldPasswordWrong  = "Your old password was entered incorrectly. Please enter it again."
	passwordsMismatch = "The two password fields didn\u2019t match."
)

// passwordChangeForm shows Django's password change form; the route needs
// a login (the /accounts/ tree does).
func (h *Handlers) passwordChangeForm(c echo.Context) error {
	return h.passwordChangePage(c, nil)
}

// passwordChange mirrors Django's PasswordChangeView with its
// PasswordChangeForm: the old password must be the user's and the two new
// ones equal; then ChangePassword stores the new hash and keeps this
// session logged in (update_session_auth_hash: a new key, the new hash),
// while every other session of the user, on both sites, ends at its next
// request. A form with an error is shown again, status 200, and changes
// nothing.
func (h *Handlers) passwordChange(c echo.Context) error {
	r := c.Request()
	user, err := h.Auth.User(r)
	if err != nil || user == nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable).SetInternal(err)
	}
	old, new1, new2 := c.FormValue("old_password"), c.FormValue("new_password1"), c.FormValue("new_password2")
	var problems []string
	if old == "" || new1 == "" || new2 == "" {
		problems = append(problems, fieldRequired)
	} else {
		ok, err := h.Auth.CheckUserPassword(r.Context(), user, old)
		if errors.Is(err, auth.ErrBusy) {
			return busy(c, err)
		}
		if err != nil && !errors.Is(err, auth.ErrUnsupportedHasher) && !errors.Is(err, auth.ErrMalformedHash) {
			return echo.NewHTTPError(http.StatusServiceUnavailable).SetInternal(err)
		}
		if !ok {
			problems = append(problems, oldPasswordWrong)
		}
		if new1 != new2 {
			problems = append(problems, passwordsMismatch)
		}
	}
	if len(problems) > 0 {
		return h.passwordChangePage(c, problems)
	}
	if err := h.Auth.ChangePassword(r, user, new1); errors.Is(err, auth.ErrBusy) {
		return busy(c, err)
	} else if err != nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable).SetInternal(err)
	}
	if err := messages.Add(r.Context(), messages.Success, "Your password was changed. Your other sessions are logged out."); err != nil {
		return err
	}
	return c.Redirect(http.StatusFound, "/accounts/profile/")
}

// passwordChangePage renders the form for request.user with the form's
// errors, status 200 (Django's form_invalid).
func (h *Handlers) passwordChangePage(c echo.Context, problems []string) error {
	user, err := h.Auth.User(c.Request())
	if err != nil || user == nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable).SetInternal(err)
	}
	f := templates.PasswordChangeForm{Username: user.Username, Errors: problems, Lesson: h.lessons["/accounts/password/"]}
	return render(c, http.StatusOK, templates.PasswordChangePage(h.page(c, "Change your password"), f))
}

func (h *Handlers) accountsLoginPage(c echo.Context, status int, username, next, problem string) error {
	f := templates.AccountLoginForm{Username: truncate(username, maxUsername), Next: next, Error: problem, Lesson: h.lessons["/accounts/login/"]}
	return render(c, status, templates.AccountsLoginPage(h.page(c, "Log in with a password"), f))
}
