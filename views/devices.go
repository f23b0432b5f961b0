package views

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/mssola/useragent"

	"github.com/djangosessions/gosessions/app/messages"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/usersessions"
	"github.com/djangosessions/gosessions/models"
	"github.com/djangosessions/gosessions/templates"
)

// devicesPath is the page of the user's sessions.
const devicesPath = "/accounts/sessions/"

// signedCookiesNote is why there is no list of sessions with signed
// cookies.
const signedCookiesNote = "SESSION_ENGINE=signed_cookies keeps each session in its browser's cookie: nothing is kept on the server, so there is no list of your sessions, and a session cannot be ended before its cookie expires."

// devices is /accounts/sessions/ (behind @login_required): a GET lists
// the user's live sessions as devices, from the per-user index, each
// checked against the store (h.Users.List); a POST signs out
// (signOutDevices).
func (h *Handlers) devices(c echo.Context) error {
	user, err := h.Auth.User(c.Request())
	if err != nil || user == nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable).SetInternal(err)
	}
	if c.Request().Method == http.MethodPost {
		return h.signOutDevices(c, user)
	}
	v := templates.DevicesView{Lesson: h.lessons[devicesPath]}
	if h.Users == nil {
		v.Unavailable = signedCookiesNote
	} else {
		ds, err := h.Users.List(c.Request().Context(), ownerOf(user), session.From(c).Key())
		if err != nil {
			return echo.NewHTTPError(http.StatusServiceUnavailable).SetInternal(err)
		}
		for _, d := range ds {
			v.Devices = append(v.Devices, deviceView(d))
		}
	}
	return render(c, http.StatusOK, templates.DevicesPage(h.page(c, "Where you're signed in"), v))
}

// signOutDevices is the POST of /accounts/sessions/: signout=<id> signs
// out that device (this device's id is a logout), signout_others=1 every
// device but this one; then 303 back to the page. The sign-outs delete
// by compare-and-delete and chase key cycles (h.Users.SignOut): no
// request of a signed-out device brings its session back.
func (h *Handlers) signOutDevices(c echo.Context, user *models.User) error {
	if h.Users == nil {
		return echo.NewHTTPError(http.StatusBadRequest, signedCookiesNote)
	}
	ctx, owner, current := c.Request().Context(), ownerOf(user), session.From(c).Key()
	id := c.FormValue("signout")
	var n int
	var err error
	switch {
	case c.FormValue("signout_others") == "1":
		n, err = h.Users.SignOutOthers(ctx, owner, current)
	case validDeviceID(id):
		ds, lerr := h.Users.List(ctx, owner, current)
		if lerr != nil {
			return echo.NewHTTPError(http.StatusServiceUnavailable).SetInternal(lerr)
		}
		if len(ds) > 0 && ds[0].Current && ds[0].ID == id {
			h.Auth.Logout(c.Request()) // this device: Django's logout()
			if err := messages.Add(ctx, messages.Info, "You are logged out."); err != nil {
				return err
			}
			return c.Redirect(http.StatusSeeOther, devicesPath)
		}
		n, err = h.Users.SignOut(ctx, owner, id)
	default:
		return echo.NewHTTPError(http.StatusBadRequest, "Send signout=<device id> or signout_others=1.")
	}
	if err != nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable).SetInternal(err)
	}
	if err := messages.Add(ctx, messages.Success, signedOutText(n)); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, devicesPath)
}

// signedOutText is the flash message after a sign-out of n sessions.
func signedOutText(n int) string {
	switch n {
	case 0:
		return "Nothing to sign out: those sessions had ended already."
	case 1:
		return "Signed out 1 session."
	}
	return "Signed out " + strconv.Itoa(n) + " sessions."
}

// apiDevice is one session in the JSON of /api/sessions.
type apiDevice struct {
	ID        string `json:"id"`
	Current   bool   `json:"current"`
	UserAgent string `json:"user_agent"`
	IP        string `json:"ip"`
	Created   string `json:"created"`
	LastSeen  string `json:"last_seen"`
}

// apiSessions is GET /api/sessions: the user's sessions as JSON, the
// device ids opaque (never a session key). Like /api/session it reads the
// session outside the session middleware: it never saves a session or
// sends a cookie. An anonymous visitor gets a 403 with a JSON error.
func (h *Handlers) apiSessions(c echo.Context) error {
	var key string
	if ck, err := c.Cookie(h.Sessions.Config().CookieName); err == nil {
		key = ck.Value
	}
	ctx := c.Request().Context()
	s := h.Sessions.Open(ctx, key)
	user, err := h.Auth.UserOf(ctx, s)
	if err == nil {
		err = s.Err()
	}
	c.Response().Header().Add(echo.HeaderVary, echo.HeaderCookie)
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	if err != nil {
		h.log().Error("api/sessions: request.user unavailable", "error", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"error": "The session store is unavailable. Please try again shortly."})
	}
	if user == nil {
		return c.JSON(http.StatusForbidden, map[string]string{"error": "Log in to see your sessions."})
	}
	out := []apiDevice{}
	if h.Users != nil {
		ds, err := h.Users.List(ctx, ownerOf(user), s.Key())
		if err != nil {
			h.log().Error("api/sessions: list", "error", err)
			return c.JSON(http.StatusServiceUnavailable, map[string]string{"error": "The session store is unavailable. Please try again shortly."})
		}
		for _, d := range ds {
			out = append(out, apiDevice{
				ID: d.ID, Current: d.Current, UserAgent: d.UserAgent, IP: d.IP,
				Created: d.Created.UTC().Format(time.RFC3339), LastSeen: d.LastSeen.UTC().Format(time.RFC3339),
			})
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"sessions": out})
}

// ownerOf is the index's owner of user: auth.UserIDOf's label, the id as
// a string.
func ownerOf(u *models.User) string { return strconv.FormatInt(u.ID, 10) }

// validDeviceID reports whether id has the shape of a device id: 16
// lowercase hexadecimal digits.
func validDeviceID(id string) bool {
	if len(id) != 16 {
		return false
	}
	for _, r := range id {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') {
			return false
		}
	}
	return true
}

// deviceView is d as the page shows it: browser and system read from the
// user agent, times in UTC to the minute.
func deviceView(d usersessions.Device) templates.Device {
	browser, system := describeAgent(d.UserAgent)
	return templates.Device{
		ID: d.ID, Browser: browser, System: system, IP: d.IP, Current: d.Current,
		Created: d.Created.UTC().Format("2006-01-02 15:04 UTC"), LastSeen: d.LastSeen.UTC().Format("2006-01-02 15:04 UTC"),
	}
}

// describeAgent reads the browser ("Firefox 128") and the system
// ("Linux", "iOS 17.5") of a User-Agent header with mssola/useragent,
// which also names the programs that are not browsers (curl,
// Go-http-client). What it cannot tell is "Unknown browser" or "an
// unknown system".
func describeAgent(ua string) (browser, system string) {
	if strings.TrimSpace(ua) == "" {
		return "Unknown browser", "an unknown system"
	}
	p := useragent.New(ua)
	name, version := p.Browser()
	browser = name
	if major, _, _ := strings.Cut(version, "."); major != "" && name != "" {
		browser += " " + major
	}
	if browser == "" {
		browser = "Unknown browser"
	}
	os := p.OSInfo()
	switch {
	case p.Platform() == "iPad":
		system = "iPadOS " + os.Version
	case os.Name == "iPhone OS":
		system = "iOS " + os.Version
	case os.Name == "Mac OS X":
		system = "macOS " + os.Version
	case os.Name == "Windows":
		system = "Windows " + os.Version
	case os.Name == "Android":
		system = "Android " + os.Version
	case os.Name != "":
		system = os.Name
	default:
		system = "an unknown system"
	}
	return browser, strings.TrimSpace(system)
}

// clientInfo gives the request's context the client the per-user index
// records (usersessions.Client): its address as the site decides it
// (c.RealIP, TRUSTED_PROXIES) and its User-Agent. It runs outside the
// session middleware, whose store calls carry the request's context.
func clientInfo(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		c.SetRequest(r.WithContext(usersessions.WithClient(r.Context(), usersessions.Client{IP: c.RealIP(), UserAgent: r.UserAgent()})))
		return next(c)
	}
}
