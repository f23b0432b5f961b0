package views

import (
	"github.com/djangosessions/gosessions/app/csrf"
	"github.com/labstack/echo/v4"
)

// CSRF protection is Django's own, from package csrf (Handlers.CSRF, on
// every page route after the session middleware): a 32-character secret
// in the csrftoken cookie, a masked 64-character token in every form
// (a fresh mask per page, as Django's {% csrf_token %}), a POST without a
// valid token refused with a 403 and Django's reason. A Django site on the
// same domain accepts the site's tokens and the site accepts Django's, so
// a form left open in another tab stays valid whichever site served the
// page after it.

// csrfToken returns the token for the forms of the request's page,
// Django's get_token(request) (what {% csrf_token %} renders), or "" when
// the CSRF middleware did not run (the error page of an unknown route).
func csrfToken(c echo.Context) string {
	return csrf.Token(c.Request())
}
