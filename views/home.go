package views

import (
	"net/http"

	"github.com/djangosessions/gosessions/templates"
	"github.com/labstack/echo/v4"
)

// home mirrors Django's home view: it only reads the session. The reads
// happen as the page is built, in (*Handlers).page, pageOf and inspect
// (shown below it): the header's greeting and the session inspector, which
// every page of the site shows.
func (h *Handlers) home(c echo.Context) error {
	f := templates.EditorForm{MaxKeyLen: maxKeyLen}
	return render(c, http.StatusOK, templates.Home(h.page(c, "Django sessions in Go"), homeLinks(), f, h.lessons["/"]))
}

// homeLinks are the links of the home page: every demo, then the other
// pages.
func homeLinks() []templates.Link {
	var links []templates.Link
	for _, d := range demos() {
		links = append(links, templates.Link{Path: d.path, Label: d.path, About: d.about})
	}
	return append(links,
		templates.Link{Path: "/login", Label: "/login", About: "Log in as any name: the session key is cycled and the CSRF token rotated."},
		templates.Link{Path: "/logout", Label: "/logout", About: "Log out with a POST: the session is flushed."},
		templates.Link{Path: "/session", Label: "/session", About: "Store any key and value, with an optional expiry."},
		templates.Link{Path: "/api/session", Label: "/api/session", About: "The session as JSON, read without touching it."},
		templates.Link{Path: "/api/messages", Label: "/api/messages", About: "The pending flash messages as JSON, shared with Django: reading them consumes them."},
		templates.Link{Path: "/accounts/password/", Label: "/accounts/password/", About: "Change a password: this session stays logged in, the user's others end, on both sites."},
		templates.Link{Path: "/learn", Label: "/learn", About: "Every Django session API and setting, and its Go equivalent."},
	)
}

// learn maps Django's session API and settings to this project.
func (h *Handlers) learn(c echo.Context) error {
	sections := append(learnSections(), operateSection(h.MetricsPath))
	return render(c, http.StatusOK, templates.LearnPage(h.page(c, "Django to Go"), sections, h.lessons["/api/session"]))
}
