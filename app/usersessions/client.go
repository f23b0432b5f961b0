package usersessions

import (
	"context"
	"net/http"
)

// Client is what the index records of the client of a request: its
// address (as the site decides it, behind TRUSTED_PROXIES) and its
// User-Agent header.
type Client struct {
	IP        string
	UserAgent string
}

type clientKey struct{}

// WithClient returns ctx carrying c: the index reads it from the context
// of the store calls the session manager makes for the request, so it
// must be set outside the session middleware (see Middleware).
func WithClient(ctx context.Context, c Client) context.Context {
	return context.WithValue(ctx, clientKey{}, c)
}

// clientFrom returns the Client in ctx, or the zero Client.
func clientFrom(ctx context.Context) Client {
	c, _ := ctx.Value(clientKey{}).(Client)
	return c
}

// Middleware returns net/http middleware that gives each request's
// context its Client: ip(r) (the site's rule for the client address) and
// the User-Agent header. Put it outside the session middleware.
func Middleware(ip func(r *http.Request) string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c := Client{IP: ip(r), UserAgent: r.UserAgent()}
			next.ServeHTTP(w, r.WithContext(WithClient(r.Context(), c)))
		})
	}
}
