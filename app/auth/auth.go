package auth

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/models"
)

// The session keys of a Django login (django.contrib.auth.__init__).
const (
	// SessionKey holds the user's primary key as a string (SESSION_KEY).
	SessionKey = "_auth_user_id"
	// BackendSessionKey holds the dotted path of the authentication
	// backend that logged the user in (BACKEND_SESSION_KEY).
	BackendSessionKey = "_auth_user_backend"
	// HashSessionKey holds the session auth hash, an HMAC of the user's
	// password hash (HASH_SESSION_KEY).
	HashSessionKey = "_auth_user_hash"
)

// ModelBackend is Django's default authentication backend: users of
// auth_user, checked by password, inactive users refused. It is the
// backend this package logs users in with.
const ModelBackend = "django.contrib.auth.backends.ModelBackend"

// Config holds the settings of an [Auth]. DB is required, and SecretKey
// for everything about requests (User, UserOf, Login); managing users
// (CreateUser, SetPassword, Authenticate) does without it.
type Config struct {
	// DB holds Django's auth_user table.
	DB *gorm.DB
	// SecretKey is Django's SECRET_KEY: the session auth hash is keyed
	// with it, so it must be the Django site's.
	SecretKey string
	// SecretKeyFallbacks are older keys (SECRET_KEY_FALLBACKS): a session
	// whose auth hash was made with one of them stays logged in, and gets
	// a new key and a hash made with SecretKey, as in Django 4.1 and
	// later.
	SecretKeyFallbacks []string
	// Iterations is the PBKDF2 iteration count of new password hashes.
	// Default: that of Django 5.2, the newest LTS, PBKDF2Iterations(
	// DefaultDjangoVersion); use PBKDF2Iterations with the version of the
	// Django site that shares the database.
	Iterations int
	// Backends are the values of _auth_user_backend accepted as logged in
	// (Django's AUTHENTICATION_BACKENDS), each of which must find its
	// users as ModelBackend does: by primary key in auth_user, active
	// only. Default: ModelBackend alone. A session logged in by any other
	// backend is anonymous here.
	Backends []string
	// LoginURL is where LoginRequired sends anonymous visitors
	// (LOGIN_URL). Default "/accounts/login/".
	LoginURL string
	// LoginRedirectURL is where a login goes when it has no safe next
	// page (LOGIN_REDIRECT_URL). Default "/accounts/profile/".
	LoginRedirectURL string
	// RedirectFieldName is the query parameter and form field carrying the
	// page to return to (REDIRECT_FIELD_NAME). Default "next".
	RedirectFieldName string
	// IsSecure reports whether a request came over HTTPS, Django's
	// request.is_secure(): RedirectAfterLogin then refuses a next page on
	// plain http. Default: the connection is TLS (r.TLS != nil); a site
	// behind a proxy passes its SECURE_PROXY_SSL_HEADER rule.
	IsSecure func(*http.Request) bool
	// MaxHashing bounds the password hashes computed at once by
	// Authenticate (the check of a user's password, and the hash it runs
	// in its place for an unknown user, alike), CreateUser and SetPassword.
	// A PBKDF2 check with Django's count takes a core for half a second or
	// more, an Argon2 check with Django's parameters 100 MiB of memory.
	// Default GOMAXPROCS.
	MaxHashing int
	// HashingWait is how long a hash waits for a free slot before it gives
	// up with ErrBusy (the site answers 503 and Retry-After). Default
	// DefaultHashingWait; negative: as long as the context allows, for
	// commands that have no one to answer quickly (manage).
	HashingWait time.Duration
	// Logger receives warnings: sessions naming a user that cannot be
	// loaded, hashes of unsupported hashers. Default: discard.
	Logger *slog.Logger
	// Now is the clock of last_login and date_joined. Default time.Now.
	Now func() time.Time
	// Hooks are called at logins and logouts (Django's signals
	// user_logged_in, user_logged_out and user_login_failed).
	Hooks Hooks
	// Sessions, when not nil, is the per-user index of sessions
	// (usersessions.Sessions): UpdateSessionAuthHash, and so
	// ChangePassword, signs out the user's other sessions through it at
	// once, rather than at their next request. The index is fed by the
	// session manager's Watcher, labelled by UserIDOf.
	Sessions SessionIndex
}

// SessionIndex is what a password change needs of the per-user index of
// sessions (usersessions.Sessions has it): to end every session of
// owner (a user id, as UserIDOf gives it) but those of the device of the
// session current.
type SessionIndex interface {
	SignOutOthers(ctx context.Context, owner, current string) (int, error)
}

// UserIDOf returns the user id a session's data is logged in as, as a
// string ("42"), or "" for an anonymous session: the label of the
// per-user index of sessions (usersessions.Config.Label), which sees a
// session as its user's whatever the backend that logged it in. It
// reads _auth_user_id as UserOf does, and is quick enough for every load
// and save.
func UserIDOf(data map[string]any) string {
	raw, ok := data[SessionKey]
	if !ok {
		return ""
	}
	id, ok := parseUserID(raw)
	if !ok {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

// Hooks are functions called at logins and logouts, Django's
// user_logged_in, user_logged_out and user_login_failed signals: a site
// counts them, logs them, or keeps an index of each user's sessions.
// Each list runs in order, on the request's goroutine, so a hook should
// be quick and must not write the response. The request's context holds
// its session (session.FromContext).
type Hooks struct {
	// LoggedIn runs at the end of every Login (user_logged_in), after the
	// session was flushed or its key cycled and the login stored in it:
	// the session's Key() is its new key, which the response's cookie
	// will carry (with SignedCookies, where the key is the signed data,
	// it is made when the session is saved).
	LoggedIn []func(r *http.Request, u *models.User)
	// LoggedOut runs at the start of every Logout (user_logged_out),
	// before the session is flushed, so that the session still holds the
	// login being ended; u is the user logging out, or nil when the
	// visitor was not logged in.
	LoggedOut []func(r *http.Request, u *models.User)
	// LoginFailed runs when AuthenticateRequest finds no user for the
	// credentials (user_login_failed): an unknown username, a wrong or
	// unusable password, an inactive user, a hash that cannot be checked.
	// It gets the username as typed; never the password.
	LoginFailed []func(r *http.Request, username string)
}

// Auth is Django's django.contrib.auth for a Go site that shares the
// database and SECRET_KEY with a Django site: who the user of a request
// is, login, logout, and the users themselves. It is safe for concurrent
// use.
type Auth struct {
	cfg     Config
	hashing *hashing
}

// New validates cfg, fills its defaults and returns an Auth.
func New(cfg Config) (*Auth, error) {
	if cfg.DB == nil {
		return nil, errors.New("auth: Config.DB is required")
	}
	if cfg.Iterations == 0 {
		cfg.Iterations, _ = PBKDF2Iterations(DefaultDjangoVersion)
	}
	if cfg.Iterations < 1 || cfg.Iterations > maxIterations {
		return nil, fmt.Errorf("auth: Config.Iterations %d out of range (1 to %d)", cfg.Iterations, maxIterations)
	}
	if len(cfg.Backends) == 0 {
		cfg.Backends = []string{ModelBackend}
	}
	if cfg.LoginURL == "" {
		cfg.LoginURL = "/accounts/login/"
	}
	if cfg.LoginRedirectURL == "" {
		cfg.LoginRedirectURL = "/accounts/profile/"
	}
	if cfg.RedirectFieldName == "" {
		cfg.RedirectFieldName = "next"
	}
	if cfg.IsSecure == nil {
		cfg.IsSecure = func(r *http.Request) bool { return r.TLS != nil }
	}
	if cfg.MaxHashing == 0 {
		cfg.MaxHashing = runtime.GOMAXPROCS(0)
	}
	if cfg.MaxHashing < 0 {
		return nil, fmt.Errorf("auth: Config.MaxHashing %d is negative", cfg.MaxHashing)
	}
	if cfg.HashingWait == 0 {
		cfg.HashingWait = DefaultHashingWait
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Auth{cfg: cfg, hashing: newHashing(cfg.MaxHashing, cfg.HashingWait)}, nil
}

// HashingStats returns the counters of the password hashing.
func (a *Auth) HashingStats() HashingStats { return a.hashing.stats() }

// Config returns the configuration, defaults filled in.
func (a *Auth) Config() Config { return a.cfg }

// errNoSecretKey is returned where a session auth hash is needed without
// a SECRET_KEY: an empty key would make hashes anyone can compute.
var errNoSecretKey = errors.New("auth: Config.SecretKey is not set")

// User returns the user of the request, Django's request.user, or nil for
// the anonymous user. Without a session middleware on the route the
// visitor is anonymous. The error is a database fault (the caller answers
// 503, as for a session store fault); everything else about a session that
// names no usable user makes the visitor anonymous, as in Django (see
// UserOf).
//
// Behind [Auth.Handler], [Auth.Middleware] or a login-required middleware
// the user is loaded once per request and remembered: after Login it is
// the new user, after Logout nil. Elsewhere each call asks the session and
// the database again, with the same answer.
func (a *Auth) User(r *http.Request) (*models.User, error) {
	ctx := r.Context()
	slot := slotOf(ctx)
	if u, known := slot.get(); known {
		return u, nil
	}
	s := session.FromContext(ctx)
	if s == nil {
		return nil, nil
	}
	u, err := a.UserOf(ctx, s)
	if err != nil {
		return nil, err
	}
	slot.set(u)
	return u, nil
}

// UserOf returns the user logged in to session s, or nil, exactly as
// Django's get_user() decides:
//
//   - no _auth_user_id or _auth_user_backend, or a backend not in
//     Config.Backends: anonymous;
//   - a user id that is no row of auth_user (an unknown or deleted user),
//     or an inactive user: anonymous, the session kept as it is;
//   - an _auth_user_hash that does not match the user's password hash
//     (the password changed, or the hash was tampered with): the session
//     is flushed (the visitor logged out), anonymous;
//   - a hash made with one of Config.SecretKeyFallbacks: logged in, and
//     the session gets a new key and a hash made with SecretKey.
//
// Where Django fails with a 500, on an _auth_user_id that is not an
// integer, the visitor is anonymous here and a warning is logged. The
// flush and the key cycle are saved with the session, as every change is:
// a session opened with Manager.Open and never saved is left as it is.
func (a *Auth) UserOf(ctx context.Context, s *session.Session) (*models.User, error) {
	if a.cfg.SecretKey == "" {
		return nil, errNoSecretKey
	}
	rawID, ok := s.Lookup(SessionKey)
	if !ok {
		return nil, nil
	}
	backend, ok := s.Lookup(BackendSessionKey)
	if name, isString := backend.(string); !ok || !isString || !slices.Contains(a.cfg.Backends, name) {
		return nil, nil
	}
	id, ok := parseUserID(rawID)
	if !ok {
		a.cfg.Logger.Warn("auth: session holds a user id that is not an integer; treating the visitor as anonymous", "key_hash", session.KeyHash(s.Key()))
		return nil, nil
	}
	u, err := a.userByID(ctx, id)
	if err != nil || u == nil || !u.IsActive {
		return nil, err
	}
	current := sessionAuthHash(a.cfg.SecretKey, u.Password)
	stored, _ := s.Get(HashSessionKey, "").(string)
	if stored != "" && equal(stored, current) {
		return u, nil
	}
	if stored != "" {
		for _, fallback := range a.cfg.SecretKeyFallbacks {
			if equal(stored, sessionAuthHash(fallback, u.Password)) {
				s.CycleKey()
				s.Set(HashSessionKey, current)
				return u, nil
			}
		}
	}
	s.Flush()
	return nil, nil
}

// userByID loads a user by primary key; nil when there is none.
func (a *Auth) userByID(ctx context.Context, id int64) (*models.User, error) {
	var u models.User
	err := a.cfg.DB.WithContext(ctx).Where("id = ?", id).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("auth: load user %d: %w", id, err)
	}
	return &u, nil
}

// parseUserID reads _auth_user_id: Django stores the primary key as a
// string ("1"); a JSON integer is accepted too, as Django's int() accepts
// it.
func parseUserID(v any) (int64, bool) {
	var s string
	switch v := v.(type) {
	case string:
		s = strings.TrimSpace(v)
	case json.Number:
		s = v.String()
	default:
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// Login logs u in on the request's session, as Django's login() does, so
// that a Django site sharing the session sees request.user as u:
//
//   - a session logged in as another user, or as u with a stale hash, is
//     flushed first (a new, empty session: nothing of the previous user's
//     is kept); an anonymous session gets a new key and keeps its data
//     (cycle_key, against session fixation); u logging in again with a
//     matching hash keeps both;
//   - the three keys are stored: _auth_user_id (the id as a string),
//     _auth_user_backend (ModelBackend) and _auth_user_hash;
//   - rotateCSRF, when not nil, is called with w and r to give the
//     visitor a new CSRF token, as Django's rotate_token(): a token seen
//     before login is worthless after it. The CSRF middleware belongs to
//     the site, so the site passes its rotation here (package csrf's
//     Rotate, Django's own format);
//   - last_login is set to now (Django's update_last_login);
//   - the clock of the session's absolute timeout restarts
//     (session.Session.RestartAbsoluteTimeout), when that timeout is on.
//
// The route needs the session middleware. The error is a database fault,
// or a route without a session, and leaves the session as it was.
func (a *Auth) Login(w http.ResponseWriter, r *http.Request, u *models.User, rotateCSRF func(http.ResponseWriter, *http.Request)) error {
	if u == nil || u.ID == 0 {
		return errors.New("auth: Login needs a stored user")
	}
	if a.cfg.SecretKey == "" {
		return errNoSecretKey
	}
	s := session.FromContext(r.Context())
	if s == nil {
		return errNoSession
	}
	now := models.DateTime{Time: a.cfg.Now()}
	err := a.cfg.DB.WithContext(r.Context()).Model(&models.User{}).Where("id = ?", u.ID).Update("last_login", now).Error
	if err != nil {
		return fmt.Errorf("auth: update last_login of user %d: %w", u.ID, err)
	}
	u.LastLogin = &now

	current := sessionAuthHash(a.cfg.SecretKey, u.Password)
	if rawID, ok := s.Lookup(SessionKey); ok {
		id, valid := parseUserID(rawID)
		stored, _ := s.Get(HashSessionKey, "").(string)
		if !valid || id != u.ID || !equal(stored, current) {
			s.Flush()
			s.CycleKey() // the new, empty session's key, chosen now
		}
	} else {
		s.CycleKey()
	}
	s.Set(SessionKey, strconv.FormatInt(u.ID, 10))
	s.Set(BackendSessionKey, ModelBackend)
	s.Set(HashSessionKey, current)
	// The absolute timeout counts from the login (SESSION_ABSOLUTE_TIMEOUT;
	// nothing is stored while it is off).
	s.RestartAbsoluteTimeout()
	slotOf(r.Context()).set(u)
	if rotateCSRF != nil {
		rotateCSRF(w, r)
	}
	for _, hook := range a.cfg.Hooks.LoggedIn {
		hook(r, u)
	}
	return nil
}

// errNoSession is Login's answer on a route without the session
// middleware.
var errNoSession = errors.New("auth: no session for this request: register the session middleware on this route")

// Logout logs the visitor out, as Django's logout(): the LoggedOut hooks
// run (with the user, or nil for an anonymous visitor), then the session
// is flushed (its data, its stored record and its cookie) and the
// request's user becomes anonymous. The route needs the session
// middleware: without it Logout panics, as session.From does, since a
// logout that did nothing would leave the visitor logged in.
func (a *Auth) Logout(r *http.Request) {
	s := session.FromContext(r.Context())
	if s == nil {
		panic(errNoSession.Error())
	}
	if len(a.cfg.Hooks.LoggedOut) > 0 {
		u, err := a.User(r)
		if err != nil {
			// The logout goes ahead: the hooks learn of it without the user.
			a.cfg.Logger.Warn("auth: logout: the user could not be loaded for the logout hooks", "error", err)
		}
		for _, hook := range a.cfg.Hooks.LoggedOut {
			hook(r, u)
		}
	}
	s.Flush()
	slotOf(r.Context()).set(nil)
}

// Authenticate returns the active user whose username and password these
// are, as Django's authenticate() with ModelBackend; nil, and no error,
// when there is none: an unknown username, a wrong or unusable password,
// an inactive user. The password hasher runs in every case, so that the
// answer takes as long for an unknown user as for a wrong password.
//
// The hashing is bounded (Config.MaxHashing): past the bound, after
// Config.HashingWait, the error is ErrBusy, for a known user and an
// unknown one alike, so that the bound tells nothing about which
// usernames exist.
//
// The username is normalized (NFKC) as Django's login form does. A hash
// this package cannot check is not taken for a wrong password: the error
// wraps ErrUnsupportedHasher or ErrMalformedHash, and is logged.
func (a *Auth) Authenticate(ctx context.Context, username, password string) (*models.User, error) {
	u, err := a.userByName(ctx, NormalizeUsername(username))
	if err != nil {
		return nil, err
	}
	if u == nil || !IsPasswordUsable(u.Password) {
		return nil, a.hashing.do(ctx, func() { a.burn(password) })
	}
	var ok bool
	var checkErr error
	if err := a.hashing.do(ctx, func() {
		if ok, checkErr = CheckPassword(password, u.Password); checkErr != nil {
			a.burn(password)
		}
	}); err != nil {
		return nil, err // ErrBusy, or ctx ended while it waited
	}
	if checkErr != nil {
		a.cfg.Logger.Warn("auth: cannot check the password of a user", "user_id", u.ID, "error", checkErr)
		return nil, fmt.Errorf("auth: check the password of user %d: %w", u.ID, checkErr)
	}
	if !ok || !u.IsActive {
		return nil, nil
	}
	return u, nil
}

// AuthenticateRequest is Authenticate for a login attempt of request r,
// Django's authenticate(request, username=..., password=...): when no
// user is found for the credentials (an unknown username, a wrong or
// unusable password, an inactive user, or a hash this package cannot
// check), the LoginFailed hooks run with r and the username. A database
// fault is no failed login: it runs no hook.
func (a *Auth) AuthenticateRequest(r *http.Request, username, password string) (*models.User, error) {
	u, err := a.Authenticate(r.Context(), username, password)
	if u == nil && (err == nil || errors.Is(err, ErrUnsupportedHasher) || errors.Is(err, ErrMalformedHash)) {
		for _, hook := range a.cfg.Hooks.LoginFailed {
			hook(r, username)
		}
	}
	return u, err
}

// burn hashes password once with the default hasher and drops the result,
// as Django does for a missing user or an unusable password (#20760). It
// runs within a slot of a.hashing, as the check it stands for would.
func (a *Auth) burn(password string) {
	_, _ = MakePassword(password, a.cfg.Iterations)
}

// userByName loads a user by username; nil when there is none.
func (a *Auth) userByName(ctx context.Context, username string) (*models.User, error) {
	var u models.User
	err := a.cfg.DB.WithContext(ctx).Where("username = ?", username).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("auth: load user %q: %w", username, err)
	}
	return &u, nil
}
