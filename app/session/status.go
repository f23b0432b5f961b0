package session

import (
	"errors"
	"net/http"
)

// StatusOf returns the HTTP status of a failure to load or save a
// session, the one mapping both the middleware's default error handlers
// and an application's own handlers use:
//
//   - 400 for [ErrInterrupted]: a concurrent request deleted the session
//     (a logout in another tab). Django's SessionInterrupted is a
//     SuspiciousOperation, which Django answers with 400.
//   - 500 for [ErrValue] and [ErrTooLarge]: the application put into the
//     session what cannot be stored (a value JSON cannot hold, or more
//     than Config.MaxSize or a cookie can keep). It fails the same way
//     every time, so it is the server's error, not a moment's
//     unavailability a client should retry; and it is not 413, which
//     says the request body was too large, when a small request may add
//     the key that tips the session over.
//   - 503 for anything else: the store failed, or the request's store
//     budget (Config.StoreTimeout) ran out. A retry may well succeed.
//
// StatusOf(nil) is 200.
func StatusOf(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrInterrupted):
		return http.StatusBadRequest
	case errors.Is(err, ErrValue), errors.Is(err, ErrTooLarge):
		return http.StatusInternalServerError
	}
	return http.StatusServiceUnavailable
}
