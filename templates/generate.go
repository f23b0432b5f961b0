// Package templates holds the demo site's templ components: a base layout
// whose header greets the logged-in user, a session inspector shown on every
// page, and one page per view.
//
// Components take plain view models (see view.go) and import no package of
// this project and no Echo: package views builds the models from the
// request's session. Every value from a session or a form reaches the page
// through templ's escaping; the only raw HTML is a lesson's code panel,
// which templ itself rendered, escaped, once (Lesson.Prerender).
package templates

// The generator runs from the module root (-path ..), as make generate and
// make check do, so the file names inside the generated code match.
//
//go:generate go tool templ generate -path ..
