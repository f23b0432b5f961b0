package views

import (
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/djangosessions/gosessions/app/messages"
	"github.com/djangosessions/gosessions/templates"
	"github.com/labstack/echo/v4"
)

// maxMessageLen bounds a message added through /api/messages, in
// characters: a flash message is a sentence, and the cookie holds 2048
// bytes.
const maxMessageLen = 1000

// flashes returns the request's pending flash messages for the layout and
// consumes them, as a Django template does with
// {% for message in messages %}.
func flashes(c echo.Context) []templates.Flash {
	var out []templates.Flash
	for _, m := range messages.Get(c.Request().Context()) {
		out = append(out, templates.Flash{Level: int(m.Level), LevelTag: m.LevelTag(), Tags: m.Tags(), Text: m.Text})
	}
	return out
}

// apiMessage is one message in the JSON of /api/messages.
type apiMessage struct {
	Level   int    `json:"level"`
	Tags    string `json:"tags"`
	Message string `json:"message"`
}

// apiMessages mirrors Django's get_messages(request) as JSON: it returns
// the pending flash messages and consumes them, from the messages cookie
// and, when they did not all fit, the session.
func (h *Handlers) apiMessages(c echo.Context) error {
	out := []apiMessage{}
	for _, m := range messages.Get(c.Request().Context()) {
		out = append(out, apiMessage{Level: int(m.Level), Tags: m.Tags(), Message: m.Text})
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.JSON(http.StatusOK, map[string]any{"messages": out})
}

// apiMessagesAdd mirrors Django's messages.add_message(request, level,
// message) for a POST (CSRF checked by the middleware): the message is
// shown by the next page of either site. A level below MESSAGE_LEVEL
// (DEBUG, by default) is accepted and not recorded, as in Django.
func (h *Handlers) apiMessagesAdd(c echo.Context) error {
	level, err := strconv.Atoi(strings.TrimSpace(c.FormValue("level")))
	text := c.FormValue("message")
	switch {
	case err != nil || messages.Level(level).Tag() == "":
		return apiError(c, "level must be one of Django's levels: 10, 20, 25, 30 or 40")
	case strings.TrimSpace(text) == "" || !utf8.ValidString(text):
		return apiError(c, "message must be text that is not empty")
	case utf8.RuneCountInString(text) > maxMessageLen:
		return apiError(c, "message has at most "+strconv.Itoa(maxMessageLen)+" characters")
	}
	if err := messages.Add(c.Request().Context(), messages.Level(level), text); err != nil {
		return err
	}
	added := messages.Level(level) >= h.Messages.Config().Level
	status := http.StatusCreated
	if !added {
		status = http.StatusOK
	}
	return c.JSON(status, map[string]any{"added": added, "level": level, "tags": messages.Level(level).Tag(), "message": text})
}

// apiError answers a bad request to a JSON route.
func apiError(c echo.Context, msg string) error {
	return c.JSON(http.StatusBadRequest, map[string]string{"error": msg})
}
