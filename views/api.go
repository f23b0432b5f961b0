package views

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// apiSessionBody is the JSON of /api/session.
type apiSessionBody struct {
	Data                 map[string]any `json:"data"`
	ExpiryAge            int            `json:"expiry_age"`
	ExpireAtBrowserClose bool           `json:"expire_at_browser_close"`
	// User is request.user's username, or null for the anonymous user.
	User *string `json:"user"`
}

// apiSession mirrors Django's SessionStore(session_key=key): it opens the
// session named by the cookie outside the session middleware and only
// reads it, so it never creates or saves a session, never extends its
// expiry and never sends a cookie.
func (h *Handlers) apiSession(c echo.Context) error {
	var key string
	if ck, err := c.Cookie(h.Sessions.Config().CookieName); err == nil {
		key = ck.Value
	}
	s := h.Sessions.Open(c.Request().Context(), key)
	body := apiSessionBody{Data: s.Items(), ExpiryAge: s.ExpiryAge(), ExpireAtBrowserClose: s.ExpireAtBrowserClose()}
	if err := s.Err(); err != nil {
		return saveError(err)
	}
	// request.user, read only: a session whose hash no longer matches is
	// anonymous here, and the flush UserOf asks for is never saved.
	user, err := h.Auth.UserOf(c.Request().Context(), s)
	if err != nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable).SetInternal(err)
	}
	if user != nil {
		body.User = &user.Username
	}
	c.Response().Header().Add(echo.HeaderVary, echo.HeaderCookie)
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.JSON(http.StatusOK, body)
}
