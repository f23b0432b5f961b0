// Package static holds the site's stylesheet and icon, embedded in the
// binary so the site needs no CDN and works offline.
//
// Caching: the assets are served under their plain names (/static/site.css)
// with a strong ETag, the SHA-256 of their content computed once at start,
// and Cache-Control: public, max-age=3600. A browser reuses its copy for an
// hour without asking, then revalidates with If-None-Match and gets a
// bodiless 304 until the content changes. Content-hashed file names would
// allow "immutable" caching, but every template would then need the hashed
// name from this package; for two small files an hour of staleness at most
// after a deploy is the simpler trade.
package static

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// FS holds the embedded assets.
//
//go:embed *.css *.svg
var FS embed.FS

// cacheControl is sent with every asset (see the package doc).
const cacheControl = "public, max-age=3600"

// asset is one embedded file, ready to serve.
type asset struct {
	name string
	body []byte
	etag string
}

// Register serves the embedded assets under /static/ (GET and HEAD) with
// cache headers and ETag revalidation; an unknown name is a 404 through
// e's error handler. /favicon.ico, which browsers and crawlers ask for
// whatever the page's icon link says, answers with the SVG icon rather
// than a 404 (and a warning in the log) on every first visit.
func Register(e *echo.Echo) {
	assets := map[string]asset{}
	// Reading an embed.FS cannot fail: its files are in the binary.
	entries, _ := FS.ReadDir(".")
	for _, ent := range entries {
		body, _ := FS.ReadFile(ent.Name())
		sum := sha256.Sum256(body)
		assets[ent.Name()] = asset{name: ent.Name(), body: body, etag: fmt.Sprintf(`"%s"`, hex.EncodeToString(sum[:16]))}
	}
	getAndHead := []string{http.MethodGet, http.MethodHead}
	e.Match(getAndHead, "/static/:name", func(c echo.Context) error {
		a, ok := assets[c.Param("name")]
		if !ok {
			return echo.ErrNotFound
		}
		serve(c, a)
		return nil
	})
	icon := assets["favicon.svg"]
	e.Match(getAndHead, "/favicon.ico", func(c echo.Context) error {
		serve(c, icon)
		return nil
	})
}

// serve writes a with the cache headers; http.ServeContent answers
// If-None-Match with a 304 and sets Content-Type from the name.
func serve(c echo.Context, a asset) {
	h := c.Response().Header()
	h.Set(echo.HeaderCacheControl, cacheControl)
	h.Set("ETag", a.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(c.Response(), c.Request(), a.name, time.Time{}, bytes.NewReader(a.body))
}
