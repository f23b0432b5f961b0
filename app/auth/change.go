package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/models"
)

// CheckUserPassword reports whether password is u's, Django's
// user.check_password(raw): a password change form asks for the old
// password with it. An unusable password never matches; a hash this
// package cannot check is an error (see CheckPassword). The hashing takes
// a slot of Config.MaxHashing (ErrBusy past Config.HashingWait).
func (a *Auth) CheckUserPassword(ctx context.Context, u *models.User, password string) (bool, error) {
	if u == nil {
		return false, errors.New("auth: CheckUserPassword needs a user")
	}
	var ok bool
	var err error
	if herr := a.hashing.do(ctx, func() { ok, err = CheckPassword(password, u.Password) }); herr != nil {
		return false, herr
	}
	return ok, err
}

// ChangePassword gives u a new password and keeps the request's session
// logged in, as Django's PasswordChangeView does with a valid form:
// user.set_password(password); user.save(); update_session_auth_hash(
// request, user). Every other session of u, on the Go site and on the
// Django site, holds the hash of the old password and ends at its next
// request. u.Password holds the new hash afterwards.
//
// The route needs the session middleware. The hashing takes a slot of
// Config.MaxHashing. The error is an empty password (ErrEmptyPassword),
// ErrBusy (too many hashes at once: answer 503 with Retry-After), a user
// no longer stored (ErrNoUser) or a database fault; the password is then
// unchanged.
func (a *Auth) ChangePassword(r *http.Request, u *models.User, password string) error {
	if u == nil || u.ID == 0 {
		return errors.New("auth: ChangePassword needs a stored user")
	}
	if password == "" {
		return ErrEmptyPassword
	}
	if session.FromContext(r.Context()) == nil {
		return errNoSession
	}
	if a.cfg.SecretKey == "" {
		return errNoSecretKey
	}
	encoded, err := a.makePassword(r.Context(), password)
	if err != nil {
		return err
	}
	res := a.cfg.DB.WithContext(r.Context()).Model(&models.User{}).Where("id = ?", u.ID).Update("password", encoded)
	if res.Error != nil {
		return fmt.Errorf("auth: set the password of user %d: %w", u.ID, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("%w: id %d", ErrNoUser, u.ID)
	}
	u.Password = encoded
	return a.UpdateSessionAuthHash(r, u)
}

// UpdateSessionAuthHash keeps the request's session logged in after u's
// password changed, as Django's update_session_auth_hash(request, user):
// the session gets a new key (cycle_key: whoever held the old key is
// left with nothing) and, when the session is u's login, the session auth
// hash of u's new password, so that both sites still see u logged in
// here. Every other session of u keeps the old hash and ends at its next
// request. u.Password must be the new hash (ChangePassword does all of
// this).
//
// The route needs the session middleware.
func (a *Auth) UpdateSessionAuthHash(r *http.Request, u *models.User) error {
	if u == nil {
		return errors.New("auth: UpdateSessionAuthHash needs a user")
	}
	if a.cfg.SecretKey == "" {
		return errNoSecretKey
	}
	s := session.FromContext(r.Context())
	if s == nil {
		return errNoSession
	}
	s.CycleKey()
	// request.user == user, decided by the session's user id: loading
	// request.user now would compare the stored hash with the new
	// password's, and flush the session this call is keeping.
	if raw, ok := s.Lookup(SessionKey); ok {
		if id, valid := parseUserID(raw); valid && id == u.ID {
			s.Set(HashSessionKey, sessionAuthHash(a.cfg.SecretKey, u.Password))
			slotOf(r.Context()).set(u)
		}
	}
	return nil
}
