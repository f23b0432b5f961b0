package auth

import (
	"context"
	"net/http"
	"sync"

	"github.com/djangosessions/gosessions/models"
)

// Handler returns next wrapped in Django's AuthenticationMiddleware, for
// any net/http router: within it [Auth.User] loads the request's user at
// most once and remembers it (Django's lazy request.user). Put it inside
// the session middleware. It is optional: User works without it, asking
// the database on each call.
func (a *Auth) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, withUserSlot(r))
	})
}

// userSlot remembers one request's user once it is known.
type userSlot struct {
	mu    sync.Mutex
	known bool
	user  *models.User // nil: anonymous
}

type slotKey struct{}

// slotOf returns the request's slot, or nil when no auth middleware gave
// it one. A nil slot remembers nothing.
func slotOf(ctx context.Context) *userSlot {
	slot, _ := ctx.Value(slotKey{}).(*userSlot)
	return slot
}

// withUserSlot returns r with a slot for its user: r itself when it has
// one already.
func withUserSlot(r *http.Request) *http.Request {
	if slotOf(r.Context()) != nil {
		return r
	}
	return r.WithContext(context.WithValue(r.Context(), slotKey{}, &userSlot{}))
}

func (s *userSlot) get() (*models.User, bool) {
	if s == nil {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.user, s.known
}

func (s *userSlot) set(u *models.User) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.user, s.known = u, true
	s.mu.Unlock()
}
