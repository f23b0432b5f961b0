package views

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/djangosessions/gosessions/templates"
	"github.com/labstack/echo/v4"
)

// The load benchmark (app/loadtest) measures what sessions cost by
// comparing each session route with a baseline in the same binary and the
// same run: the same page rendered from fixed values, without the session
// middleware and without CSRF. The ratio of the two isolates the session's
// cost; the raw route (Echo answering a fixed string) relates the figures
// to the measurements of other frameworks.

// baselineToken stands for the CSRF token: as long as a real one (a
// masked token, 64 characters), so the baseline pages are as long as the
// real ones.
const baselineToken = "baselinecsrftokenofsixtyfourcharactersasdjangosmaskedtokenxxxxxx"

// baselineShortKey stands for the start of a session key.
const baselineShortKey = "baseline…"

// baselineCookieAge is the expiry age the baseline pages show, Django's
// default SESSION_COOKIE_AGE.
const baselineCookieAge = 1209600

// RegisterBaseline adds the load benchmark's baseline routes to e:
// /baseline/get and /baseline/visits render the pages of /get and /visits
// (same layout, inspector, lesson) for a session holding the values the
// benchmark's clients have (after /set and /visits), but from fixed values
// with no session and no CSRF middleware; /baseline/raw answers a fixed
// string, like the raw Echo of the figures; /debug/pprof/profile
// records a CPU profile (make bench-profile). They are for the
// benchmark only: the site registers them when BENCH_ROUTES is set, never
// by default. Call it after [Handlers.Register], whose lessons the pages
// show.
func (h *Handlers) RegisterBaseline(e *echo.Echo) error {
	if h.lessons == nil {
		return errors.New("views: RegisterBaseline needs Register to run first")
	}
	e.GET("/baseline/raw", baselineRaw)
	e.GET("/baseline/get", h.baselineGet)
	e.GET("/baseline/visits", h.baselineVisits)
	// make bench-profile records the site's CPU profile under load.
	e.GET("/debug/pprof/profile", cpuProfile)
	return nil
}

// cpuProfile records a CPU profile for ?seconds=N (default 30) and sends
// it, as net/http/pprof's Profile does, but with runtime/pprof alone:
// importing net/http/pprof would register its handlers on
// http.DefaultServeMux for the whole program. One profile runs at a time;
// another request meanwhile gets a 409.
func cpuProfile(c echo.Context) error {
	secs, err := strconv.Atoi(c.QueryParam("seconds"))
	if err != nil || secs <= 0 {
		secs = 30
	}
	d := time.Duration(secs) * time.Second
	if srv, ok := c.Request().Context().Value(http.ServerContextKey).(*http.Server); ok && srv.WriteTimeout != 0 && d >= srv.WriteTimeout {
		return echo.NewHTTPError(http.StatusBadRequest, "profile duration exceeds the server's write timeout")
	}
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, echo.MIMEOctetStream)
	w.Header().Set(echo.HeaderContentDisposition, `attachment; filename="profile"`)
	if err := pprof.StartCPUProfile(w); err != nil {
		// Nothing written yet: another profile is running.
		w.Header().Del(echo.HeaderContentType)
		w.Header().Del(echo.HeaderContentDisposition)
		return echo.NewHTTPError(http.StatusConflict, "a CPU profile is already being recorded").SetInternal(err)
	}
	select {
	case <-time.After(d):
	case <-c.Request().Context().Done():
	}
	pprof.StopCPUProfile()
	return nil
}

// baselineRaw answers a fixed string: what Echo alone costs.
func baselineRaw(c echo.Context) error {
	return c.String(http.StatusOK, "Hello, World!")
}

// baselineGet renders the page of get from fixed values.
func (h *Handlers) baselineGet(c echo.Context) error {
	data := baselineData(1)
	msg := fmt.Sprintf("User: %s, Role: %s, Logins: %s", display(data["username"]), display(data["role"]), display(data["login_count"]))
	return h.baselineResult(c, "/get", msg, data, false)
}

// baselineVisits renders the page of visits from fixed values.
func (h *Handlers) baselineVisits(c echo.Context) error {
	data := baselineData(42)
	return h.baselineResult(c, "/visits", fmt.Sprintf("You have visited this page %d times.", 42), data, true)
}

// baselineData is the data of a benchmark client's session, as decoded
// from the store (numbers are json.Number), with visits visits.
func baselineData(visits int) map[string]any {
	return map[string]any{
		"login_count": json.Number("1"),
		"role":        "admin",
		"username":    "harun_dev",
		"visits":      json.Number(fmt.Sprint(visits)),
	}
}

// baselineResult renders the result page of the demo at path as result
// does, with an inspector built from data as inspect builds it.
func (h *Handlers) baselineResult(c echo.Context, path, message string, data map[string]any, modified bool) error {
	d := h.demos[path]
	view := templates.SessionView{
		ShortKey:   baselineShortKey,
		ExpiryAge:  baselineCookieAge,
		ExpiryDate: time.Now().Add(baselineCookieAge * time.Second).UTC().Format("2006-01-02 15:04:05 UTC"),
		CookieAge:  baselineCookieAge,
		Modified:   modified,
		Accessed:   true,
	}
	for _, k := range []string{"login_count", "role", "username", "visits"} { // sorted, as Keys returns them
		view.Items = append(view.Items, templates.Item{Key: k, Value: jsonText(data[k]), Type: jsonType(data[k])})
	}
	p := templates.Page{Title: d.title, Path: path, Username: display(data["username"]), CSRFToken: baselineToken, Session: view, Nav: h.navs[path]}
	r := templates.Result{Message: message, About: d.result, Expiry: d.expiry, Lesson: h.lessons[path]}
	if d.form {
		r.Action = d.path
	}
	return render(c, http.StatusOK, templates.ResultPage(p, r))
}
