package app

import (
	"log/slog"
	"net/http"

	"github.com/djangosessions/gosessions/app/auth"
	"github.com/djangosessions/gosessions/models"
)

// authHooks are the site's hooks at logins and logouts (Django's signals
// user_logged_in, user_logged_out, user_login_failed): one log line each,
// INFO for a login or logout with the user's id, WARN for a failed login
// with the username as typed (never the password), and the counters of
// mx when metrics are on (mx nil otherwise).
func authHooks(log *slog.Logger, mx *metrics) auth.Hooks {
	h := auth.Hooks{
		LoggedIn: []func(*http.Request, *models.User){func(r *http.Request, u *models.User) {
			log.Info("login", "user_id", u.ID)
		}},
		LoggedOut: []func(*http.Request, *models.User){func(r *http.Request, u *models.User) {
			if u != nil {
				log.Info("logout", "user_id", u.ID)
			}
		}},
		LoginFailed: []func(*http.Request, string){func(r *http.Request, username string) {
			log.Warn("login failed", "username", truncate(username, maxLoggedUsername))
		}},
	}
	if mx != nil {
		h.LoggedIn = append(h.LoggedIn, func(*http.Request, *models.User) { mx.logins.Inc() })
		h.LoggedOut = append(h.LoggedOut, func(_ *http.Request, u *models.User) {
			if u != nil {
				mx.logouts.Inc()
			}
		})
		h.LoginFailed = append(h.LoginFailed, func(*http.Request, string) { mx.loginFailures.Inc() })
	}
	return h
}

// maxLoggedUsername bounds a username in the log: Django's max_length; a
// longer one was typed by no real user.
const maxLoggedUsername = 150

// truncate cuts s to at most n runes.
func truncate(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i] + "…"
		}
		n--
	}
	return s
}
