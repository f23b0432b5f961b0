// Package auth is the part of Django's django.contrib.auth that a Go site
// needs to share logins with a Django site: the same users (Django's
// auth_user table, through GORM), the same passwords (Django's hashers),
// and the same logins (the three keys Django's login() stores in the
// session), both ways. A user who logs in on either site is logged in on
// both; logging out, or changing the password, on either site ends the
// login on both.
//
// It sits beside the session framework and uses its API (package
// session); the session package knows nothing of users. Like the session
// core it works on net/http: handlers pass the *http.Request (and the
// http.ResponseWriter to Login), middleware is func(http.Handler)
// http.Handler. An Echo handler passes c.Request() and c.Response(), and
// registers [Auth.Middleware] and [Auth.EchoLoginRequired], the two Echo
// adapters.
//
// # Django to Go
//
//	request.user                              a.User(r)   (nil: AnonymousUser)
//	request.user.is_authenticated             u != nil
//	AuthenticationMiddleware                  a.Handler(next) (Echo: a.Middleware())
//	get_user(request)                         a.UserOf(ctx, s)
//	authenticate(request, username, password) a.AuthenticateRequest(r, username, password)
//	authenticate(username=..., password=...)  a.Authenticate(ctx, username, password)
//	login(request, user)                      a.Login(w, r, u, csrf.Rotate)
//	logout(request)                           a.Logout(r)
//	user_logged_in / _out / _login_failed     Config.Hooks.LoggedIn / LoggedOut / LoginFailed
//	@login_required                           a.LoginRequired(next) (Echo: a.EchoLoginRequired)
//	LoginRequiredMiddleware (5.1)             a.LoginRequiredByDefault(exempt) (Echo: a.EchoLoginRequiredByDefault)
//	@login_not_required (5.1)                 LoginNotRequired(paths...), the exempt of the above
//	redirect_to_login(next)                   a.LoginURLFor(next)
//	url_has_allowed_host_and_scheme(...)      SafeRedirect(url, hosts, requireHTTPS)
//	User.objects.create_user(...)             a.CreateUser(ctx, username, password)
//	user.set_password(p); user.save()         a.SetPassword(ctx, username, p)
//	user.check_password(p)                    a.CheckUserPassword(ctx, u, p)
//	PasswordChangeView's form_valid           a.ChangePassword(r, u, p)
//	update_session_auth_hash(request, user)   a.UpdateSessionAuthHash(r, u)   (with Config.Sessions: the other sessions signed out at once)
//	(none: django-user-sessions)              UserIDOf, the label of the per-user index (package usersessions)
//	make_password(p) / check_password(p, h)   MakePassword(p, iterations) / CheckPassword(p, h)
//	is_password_usable(h)                     IsPasswordUsable(h)
//	user.get_session_auth_hash()              (internal: HMAC-SHA256 of the password hash)
//
// # How a login survives, and how it ends
//
// Django's login() stores _auth_user_id (the user's id, as a string),
// _auth_user_backend and _auth_user_hash, an HMAC of the user's password
// hash keyed with SECRET_KEY. On every request Django loads the user and
// recomputes the HMAC: when the password has changed since, the hashes
// differ and the session is flushed. Package auth does exactly the same,
// with the same key salt, so a password changed on either site (or by
// manage changepassword) logs the user out of every other session on both
// sites at its next request, and a tampered hash logs the visitor out.
// ChangePassword keeps the session that made the change logged in, as
// Django's update_session_auth_hash: its key is cycled and its hash is
// the new password's.
// A session made with an old key of SECRET_KEY_FALLBACKS stays logged in
// and is moved to the current key (Django 4.1 and later).
//
// # Limits
//
// Only Django's default user model (auth_user) and ModelBackend-style
// logins are understood: with AUTH_USER_MODEL set to a custom model, or a
// session logged in by a backend not listed in Config.Backends, the
// visitor is anonymous on the Go site. Passwords are checked for Django's
// default hashers (pbkdf2_sha256, pbkdf2_sha1, argon2, bcrypt_sha256);
// others are reported (ErrUnsupportedHasher), never taken for a wrong
// password. Unlike Django, a login on the Go site does not rehash a
// password whose hasher or iteration count is not the preferred one.
//
// Password hashing is bounded (Config.MaxHashing, Config.HashingWait):
// Django is bounded by its worker processes, while a Go server would run
// any number of 100 MiB Argon2 checks at once. Past the bound the answer
// is ErrBusy, for known and unknown usernames alike.
package auth
