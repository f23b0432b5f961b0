// Package responsehook is the response step of a middleware that only
// adds to the response's headers (Django's process_response of
// CsrfViewMiddleware and MessageMiddleware, which set their cookies):
// a ResponseWriter that calls the step once, just before the response
// starts, whoever starts it, and the Vary: Cookie such a step adds.
// Packages csrf and messages use both; package session only VaryCookie,
// its writer being its own (a failed save replaces the response).
package responsehook

import (
	"bufio"
	"net"
	"net/http"
	"strings"
)

// Writer calls its step with the response's headers once, before the
// status line goes out: at the first WriteHeader (other than an
// informational 1xx), Write, Flush or Hijack, or at Finish for a
// handler that wrote nothing.
type Writer struct {
	http.ResponseWriter
	step    func(h http.Header)
	started bool
}

// New returns w wrapped so that step runs when the response starts.
func New(w http.ResponseWriter, step func(h http.Header)) *Writer {
	return &Writer{ResponseWriter: w, step: step}
}

// Started reports whether the step has run: the response has started.
func (w *Writer) Started() bool { return w.started }

// Finish runs the step if the response has not started (a handler that
// wrote nothing: net/http sends an empty 200 after it returns, with the
// headers set by then).
func (w *Writer) Finish() {
	if !w.started {
		w.started = true
		w.step(w.Header())
	}
}

// WriteHeader runs the step, then sends the status; an informational
// status (1xx but 101) is not the response yet and passes through.
func (w *Writer) WriteHeader(code int) {
	if code < 100 || code >= 200 || code == http.StatusSwitchingProtocols {
		w.Finish()
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write runs the step, then writes p.
func (w *Writer) Write(p []byte) (int, error) {
	w.Finish()
	return w.ResponseWriter.Write(p)
}

// Flush runs the step, then sends what was written so far.
func (w *Writer) Flush() {
	w.Finish()
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack runs the step, then hands over the connection.
func (w *Writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.Finish()
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap returns the underlying writer, for http.ResponseController.
func (w *Writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// VaryCookie adds Cookie to h's Vary unless it is there already (or Vary
// is *), as Django's patch_vary_headers(response, ("Cookie",)): a
// response that read or set a cookie depends on it.
func VaryCookie(h http.Header) {
	for _, v := range h.Values("Vary") {
		for f := range strings.SplitSeq(v, ",") {
			if f = strings.TrimSpace(f); strings.EqualFold(f, "Cookie") || f == "*" {
				return
			}
		}
	}
	h.Add("Vary", "Cookie")
}
