// Package onedomain holds the end-to-end tests of moving a Django site to
// Go one URL at a time: nginx in front (nginx.conf, the configuration
// docs/one-domain.md shows) sends the URLs already moved to the Go site
// and everything else to the Django reference site (views/django), on one
// host and one database, and a browser (Chromium) and a plain HTTP client
// walk through both, on every Django release of the matrix. It has no
// code of its own.
package onedomain
