package views

import (
	"github.com/djangosessions/gosessions/app/engine"
	"github.com/djangosessions/gosessions/templates"
)

// engineRows are the /learn rows of the engines, from the engine
// registry: what each does here and how the site builds it.
func engineRows() []templates.LearnRow {
	var rows []templates.LearnRow
	for _, e := range engine.All() {
		goCode := e.GoCode
		if !e.Offered() {
			goCode = "SESSION_ENGINE=" + string(e.Name) + "  // refused at start"
		}
		rows = append(rows, templates.LearnRow{
			Django: `SESSION_ENGINE = "` + e.Name.Django() + `"`,
			Go:     goCode,
			Note:   e.Note,
			Demo:   e.Demo,
		})
	}
	return rows
}

// learnSections is the /learn table: every Django session API and setting
// with its Go equivalent here and the page that shows it at work. A test
// checks that every demo link answers.
func learnSections() []templates.LearnSection {
	return []templates.LearnSection{
		{Title: "The session API (request.session)", Rows: []templates.LearnRow{
			{Django: `request.session[key] = value`, Go: `s := session.From(c); s.Set(key, value)`, Demo: "/set"},
			{Django: `request.session.get(key, default)`, Go: `s.Get(key, def), s.GetString(key, "Guest"), s.GetInt(key, 0), session.Get[T](s, key)`, Demo: "/get"},
			{Django: `request.session[key]`, Go: `v, ok := s.Lookup(key)`, Demo: "/get"},
			{Django: `key in request.session`, Go: `s.Has(key)`, Demo: "/get"},
			{Django: `del request.session[key]`, Go: `s.Delete(key)  // a missing key is not an error`, Demo: "/delete"},
			{Django: `request.session.pop(key, default)`, Go: `s.Pop(key, def)`, Demo: "/pop"},
			{Django: `request.session.setdefault(key, value)`, Go: `s.SetDefault(key, value)`, Demo: "/session"},
			{Django: `request.session.update(d)`, Go: `s.Update(d)  // s.Set for each pair`, Demo: "/set"},
			{Django: `request.session.keys(), .items(), len(request.session)`, Go: `s.Keys(), s.Items(), s.Len()`, Demo: "/"},
			{Django: `request.session["n"] = request.session.get("n", 0) + 1`, Go: `s.Incr("n", 1)  // never loses a concurrent increment`, Demo: "/visits"},
			{Django: `request.session.clear()`, Go: `s.Clear()`, Demo: "/clear"},
			{Django: `request.session.flush()`, Go: `s.Flush()`, Demo: "/flush"},
			{Django: `django.contrib.auth.logout(request)`, Go: `s.Flush()`, Demo: "/logout"},
			{Django: `request.session.cycle_key()`, Go: `s.CycleKey()`, Demo: "/login"},
			{Django: `request.session.cycle_key(); request.session["username"] = name`, Go: `s.CycleKey(); s.Set("username", name); csrf.Rotate(c.Response(), c.Request())`, Demo: "/login",
				Note: "The session-only login: a name, no password, no _auth_user_* keys; to the session and the CSRF token it does what login() does. The real login() is in the next table, at /accounts/login/."},
			{Django: `django.middleware.csrf.rotate_token(request)`, Go: `csrf.Rotate(c.Response(), c.Request())  // package csrf, Django's format`, Demo: "/login"},
			{Django: `request.session.set_expiry(300)`, Go: `s.SetExpiry(300)`, Demo: "/set?expiry=300"},
			{Django: `request.session.set_expiry(0)`, Go: `s.SetExpiry(0)  // expire at browser close`, Demo: "/set?expiry=0"},
			{Django: `request.session.set_expiry(datetime)`, Go: `s.SetExpiryAt(t)`, Demo: "/session"},
			{Django: `request.session.set_expiry(None)`, Go: `s.ResetExpiry()`, Demo: "/session"},
			{Django: `request.session.get_expiry_age()`, Go: `s.ExpiryAge()`, Demo: "/api/session"},
			{Django: `request.session.get_expiry_date()`, Go: `s.ExpiryDate()`, Demo: "/"},
			{Django: `request.session.get_expire_at_browser_close()`, Go: `s.ExpireAtBrowserClose()`, Demo: "/api/session"},
			{Django: `request.session.get_session_cookie_age()`, Go: `s.CookieAge()`, Demo: "/",
				Note: "The inspector's Cookie age: SESSION_COOKIE_AGE, whatever the session's own expiry."},
			{Django: `request.session.session_key`, Go: `s.Key()`, Demo: "/"},
			{Django: `request.session.is_empty()`, Go: `s.IsEmpty()`, Demo: "/flush"},
			{Django: `request.session.modified, .accessed`, Go: `s.Modified(), s.Accessed()`, Demo: "/set"},
			{Django: `request.session[key].append(x); request.session.modified = True`, Go: `s.MarkModified(key)  // after changing the list or dict under key in place`,
				Note: "Not offered by a page here (no demo changes a value in place), but the API is: per key, the value as it is now is saved as if set again and only that key is written, so a concurrent request's change to another key is kept, where a whole-session modified flag would write back every key and lose it."},
			{Django: `request.session.save()`, Go: `s.Save()`, Demo: "/visits"},
			{Django: `request.session.set_test_cookie()`, Go: `s.SetTestCookie()`, Demo: "/testcookie"},
			{Django: `request.session.test_cookie_worked()`, Go: `s.TestCookieWorked()`, Demo: "/testcookie"},
			{Django: `request.session.delete_test_cookie()`, Go: `s.DeleteTestCookie()  // absent is not an error`, Demo: "/testcookie"},
			{Django: `SessionStore.clear_expired()`, Go: `r, err := store.ClearExpired(ctx, dbstore.ClearOptions{})  // r.Deleted`, Demo: "/set?expiry=60",
				Note: "No request calls it: go run ./manage clearsessions does, in short batches that leave the site's writes room, and prints how many sessions it deleted. A session set to expire in 60 s is one it deletes a minute later. Redis needs no clearing: its keys expire by themselves."},
			{Django: `SessionStore(session_key=key)`, Go: `manager.Open(ctx, key)`, Demo: "/api/session"},
			{Django: `SessionMiddleware`, Go: `manager.Middleware()  // session.New(sc)`, Demo: "/"},
			{Django: `SessionInterrupted (400)`, Go: `session.ErrInterrupted`, Demo: "/visits"},
		}},
		{Title: "Settings (session.Config, from the environment)", Rows: []templates.LearnRow{
			{Django: `SESSION_COOKIE_NAME`, Go: `Config.CookieName  // "sessionid"`, Demo: "/api/session"},
			{Django: `SESSION_COOKIE_AGE`, Go: `Config.CookieAge  // two weeks`, Demo: "/set"},
			{Django: `SESSION_COOKIE_DOMAIN`, Go: `Config.CookieDomain`, Demo: "/set"},
			{Django: `SESSION_COOKIE_PATH`, Go: `Config.CookiePath  // "/"`, Demo: "/set"},
			{Django: `SESSION_COOKIE_SECURE`, Go: `Config.CookieSecure`, Demo: "/set"},
			{Django: `SESSION_COOKIE_HTTPONLY`, Go: `Config.DisableCookieHTTPOnly  // false: HttpOnly`, Demo: "/set"},
			{Django: `SESSION_COOKIE_SAMESITE`, Go: `Config.CookieSameSite  // http.SameSiteLaxMode`, Demo: "/set"},
			{Django: `SESSION_EXPIRE_AT_BROWSER_CLOSE`, Go: `Config.ExpireAtBrowserClose`, Demo: "/set?expiry=0"},
			{Django: `SESSION_SAVE_EVERY_REQUEST`, Go: `Config.SaveEveryRequest`, Demo: "/visits"},
			{Django: `SESSION_IDLE_TIMEOUT  (none in Django)`, Go: `Config.IdleTimeout  // SESSION_IDLE_TIMEOUT seconds, 0: off`, Demo: "/",
				Note: "A session unused that long is over. It lives in expire_date, lowered to the last use plus the timeout, so a Django site sharing the sessions honours it too; a request that uses the session writes it again once its expiry has fallen a tenth of the timeout behind (a write per tenth of the timeout, not a read of anything on each request). The inspector shows when it ends."},
			{Django: `SESSION_ABSOLUTE_TIMEOUT  (none in Django)`, Go: `Config.AbsoluteTimeout; s.RestartAbsoluteTimeout()  // h.Auth.Login calls it`, Demo: "/accounts/login/",
				Note: "A session ends that long after its login, whatever its activity; the clock (_session_start in the data, written only while the setting is on) restarts at login(), not at other key cycles, and lowers expire_date too."},
			{Django: `SESSION_SERIALIZER`, Go: `s.Set(key, value)  // always JSON; what JSON cannot hold is session.ErrValue`, Demo: "/session",
				Note: "Django's default JSONSerializer, the only one: numbers read back as json.Number, so integers stay exact."},
			{Django: `SESSION_CACHE_ALIAS`, Go: `CACHE_URL=redis://127.0.0.1:6379/0  // the cache of the cache and cached_db engines`, Demo: "/get",
				Note: "Django names a cache of CACHES; here CACHE_URL is that cache, Redis. Apart from it, the db engines keep SESSION_CACHE_SIZE sessions in process memory (10000; 0 turns it off)."},
			{Django: `CACHES["default"]["OPTIONS"]["MAX_ENTRIES"]`, Go: `CACHE_MAX_ENTRIES=10000  // memstore.WithMaxEntries(10000)`, Demo: "/set",
				Note: "The sessions the cache engine keeps in process memory without CACHE_URL (10000): beyond it the least recently used is evicted, and expired ones are swept as requests come. An evicted session is gone, like an expired one."},
			{Django: `SESSION_FILE_PATH`, Go: `sc.Store = store  // any session.Store is a backend`,
				Note: "Not offered: there is no file engine (see the engines below)."},
			{Django: `SECRET_KEY, SECRET_KEY_FALLBACKS`, Go: `Config.SecretKey, Config.SecretKeyFallbacks  // signs the data Django's way`, Demo: "/api/session"},
			{Django: `manage.py clearsessions`, Go: `go run ./manage clearsessions`, Demo: "/set?expiry=60",
				Note: "Calls dbstore's ClearExpired on the database and prints how many sessions it deleted."},
		}},
		{Title: "Logins (django.contrib.auth, package app/auth)", Rows: []templates.LearnRow{
			{Django: `request.user`, Go: `u, err := h.Auth.User(c.Request())  // *models.User, nil for AnonymousUser`, Demo: "/accounts/login/?next=/accounts/profile/",
				Note: "Loaded once per request from auth_user by _auth_user_id; the session's _auth_user_hash must match the user's password hash (a mismatch flushes the session), as Django's get_user() decides. The header shows it beside the session's username."},
			{Django: `request.user.is_authenticated`, Go: `u != nil`, Demo: "/accounts/login/?next=/accounts/profile/"},
			{Django: `authenticate(request, username=..., password=...)`, Go: `h.Auth.AuthenticateRequest(c.Request(), username, password)`, Demo: "/accounts/login/",
				Note: "ModelBackend: Django's password hashers (pbkdf2_sha256, pbkdf2_sha1, argon2, bcrypt_sha256), inactive users refused; others reported, never taken for a wrong password. At most GOMAXPROCS hashes run at once (the dummy hash for an unknown user included): past that, after a short wait, a 503 with Retry-After. Without a request (manage), Authenticate(ctx, username, password)."},
			{Django: `login(request, user)`, Go: `h.Auth.Login(c.Response(), c.Request(), user, csrf.Rotate)`, Demo: "/accounts/login/",
				Note: "Flushes the session of another user (or a stale hash), cycles the key otherwise, stores _auth_user_id, _auth_user_backend and _auth_user_hash, rotates the CSRF token: Django sees the same user."},
			{Django: `logout(request)`, Go: `h.Auth.Logout(c.Request())  // s.Flush(), request.user anonymous`, Demo: "/accounts/login/?next=/accounts/profile/"},
			{Django: `@login_required`, Go: `e.GET(path, hf, h.Auth.EchoLoginRequired)  // net/http: h.Auth.LoginRequired(hf)`, Demo: "/accounts/login/?next=/accounts/profile/",
				Note: "Anonymous visitors get a 302 to LOGIN_URL?next=<the page>, quoted as Django quotes it."},
			{Django: `MIDDLEWARE += ["django.contrib.auth.middleware.LoginRequiredMiddleware"]  # Django 5.1`, Go: `e.Group("/accounts", h.Auth.EchoLoginRequiredByDefault(auth.LoginNotRequired("/accounts/login/")))  // net/http: h.Auth.LoginRequiredByDefault(exempt)`, Demo: "/accounts/login/?next=/accounts/password/",
				Note: "The inverse form: every page under it needs a login unless marked, so a page added later is closed until someone opens it. Here the whole /accounts/ tree is behind it (views.(*Handlers).registerAccounts); the demos, /healthz, /readyz, /metrics and the static files are not."},
			{Django: `@login_not_required  # Django 5.1`, Go: `auth.LoginNotRequired("/accounts/login/", "/accounts/logout/")`, Demo: "/accounts/login/",
				Note: "The exempt pages, declared next to the routes: the login page (LOGIN_URL's page is always reachable) and the logout, which flushes any visitor's session."},
			{Django: `LOGIN_URL, LOGIN_REDIRECT_URL`, Go: `LOGIN_URL=/accounts/login/ LOGIN_REDIRECT_URL=/accounts/profile/  // or -login-url, -login-redirect-url`, Demo: "/accounts/login/?next=/accounts/profile/",
				Note: "Where a page that needs a login sends anonymous visitors, and where a login goes without a safe next page: settings of the site, as in Django."},
			{Django: `PasswordChangeView; update_session_auth_hash(request, user)`, Go: `h.Auth.ChangePassword(c.Request(), u, password)  // which keeps this session as auth.(*Auth).UpdateSessionAuthHash does`, Demo: "/accounts/login/?next=/accounts/password/",
				Note: "Django's PasswordChangeForm (old_password, new_password1, new_password2): this session stays logged in, with a new key and the new password's _auth_user_hash; every other session of the user, on this site and on a Django site sharing the database, is logged out at its next request."},
			{Django: `user_logged_in, user_logged_out, user_login_failed  # signals`, Go: `var hooks auth.Hooks; hooks.LoggedIn = append(hooks.LoggedIn, func(r *http.Request, u *models.User) {})`, Demo: "/accounts/login/",
				Note: "Registered on auth.Config.Hooks, called with the request (and its session) and the user; a failed login with the username as typed, never the password. This site logs each login and logout (INFO, the user id) and each failed login (WARN), and counts them in its metrics (app/authhooks.go)."},
			{Django: `url_has_allowed_host_and_scheme(next, {request.get_host()})`, Go: `h.Auth.RedirectAfterLogin(c.Request(), next)  // auth.SafeRedirect`, Demo: "/accounts/login/?next=//evil.example/",
				Note: "An open-redirect next is replaced by LOGIN_REDIRECT_URL, with Django's rules (tested against Django's own cases), and a next with a tab, newline or other control character too (browsers drop tabs and newlines: /<TAB>//evil.example/ is //evil.example/ to them)."},
			{Django: `user.set_password(p); user.save()`, Go: `go run ./manage changepassword NAME`, Demo: "/accounts/login/?next=/accounts/profile/",
				Note: "Every other session of that user, on both sites, is logged out at its next request."},
			{Django: `[s for s in Session.objects.iterator() if s.get_decoded().get(SESSION_KEY) == str(user.pk)]`, Go: `h.Users.List(ctx, ownerOf(user), s.Key())  // usersessions: the per-user index, each entry checked against the store`, Demo: "/accounts/login/?next=/accounts/sessions/",
				Note: "Where you're signed in: Django has no list of a user's sessions (django-user-sessions keeps a table of its own); here the index is fed by the session manager's Watcher, every login indexed before its record is written, and each listing checks the store, so no live session is missing and no dead one listed."},
			{Django: `for s in mine: if s.session_key != request.session.session_key: s.delete()`, Go: `h.Users.SignOutOthers(ctx, ownerOf(user), s.Key())  // and h.Users.SignOut(ctx, ownerOf(user), deviceID)`, Demo: "/accounts/login/?next=/accounts/sessions/",
				Note: "Sign out all other devices: each session deleted by compare-and-delete, the user's entries gone over again until nothing new shows, so that no request in flight and no key cycle of a signed-out device brings it back."},
			{Django: `update_session_auth_hash(request, user)`, Go: `h.Auth.UpdateSessionAuthHash(c.Request(), user)  // h.Auth.ChangePassword(c.Request(), user, p) does it`, Demo: "/accounts/login/?next=/accounts/profile/",
				Note: "This session stays logged in under a new key; with the per-user index the user's other devices are signed out at once, not only at their next request."},
			{Django: `manage.py createsuperuser`, Go: `go run ./manage createuser NAME`, Demo: "/accounts/login/",
				Note: "A plain active user; the password is asked twice without echo, or read with --password-stdin. DJANGO_VERSION sets the PBKDF2 iteration count to the Django site's."},
		}},
		{Title: "Flash messages (django.contrib.messages, package app/messages)", Rows: []templates.LearnRow{
			{Django: `MessageMiddleware`, Go: `e.Use(h.Messages.Middleware())  // inside the session middleware`, Demo: "/"},
			{Django: `messages.add_message(request, messages.SUCCESS, "Saved.")`, Go: `messages.Add(ctx, messages.Success, "Saved.")`, Demo: "/session",
				Note: "Shown once by the next page that reads the messages, on this site or on a Django site sharing SECRET_KEY (and the session, for what does not fit in the cookie). The editor's save adds one; so do the login and the logout under /accounts/ and the password change."},
			{Django: `messages.success(request, text, extra_tags="sticky")`, Go: `messages.AddTags(ctx, messages.Success, name, "sticky")`, Demo: "/session"},
			{Django: `{% for message in messages %}{{ message.tags }}: {{ message }}{% endfor %}`, Go: `for _, msg := range messages.Get(ctx) { _ = msg.Tags() + ": " + msg.Text }`, Demo: "/",
				Note: "Every page shows the pending messages above its title and consumes them, as a Django base template does (flashes, called by (*Handlers).page)."},
			{Django: `messages.DEBUG, INFO, SUCCESS, WARNING, ERROR`, Go: `messages.Debug, messages.Info, messages.Success, messages.Warning, messages.Error`, Demo: "/api/messages",
				Note: "10, 20, 25, 30 and 40, with Django's tags. MESSAGE_LEVEL is INFO, as Django's: a DEBUG message is not recorded."},
			{Django: `MESSAGE_STORAGE = "django.contrib.messages.storage.fallback.FallbackStorage"`, Go: `h.Messages.Config()  // the default, and the only storage`, Demo: "/api/messages",
				Note: "The messages cookie first, signed exactly as Django's CookieStorage signs it (salt django.contrib.messages, its JSON with __json_message markers, zlib when shorter, SECRET_KEY); what does not fit in its 2048 bytes goes to the session under _messages, as SessionStorage keeps it, and the cookie ends with Django's not-finished marker. Read from and written by Django 3.2 to 5.2."},
			{Django: `JsonResponse([... for m in get_messages(request)])`, Go: `h.apiMessages(c)`, Demo: "/api/messages",
				Note: "GET returns the pending messages as JSON and consumes them; a POST of level and message (with the CSRF token) adds one."},
		}},
		{Title: "CSRF (django.middleware.csrf, package app/csrf)", Rows: []templates.LearnRow{
			{Django: `{% csrf_token %}  # get_token(request)`, Go: `csrf.Token(c.Request())  // <input name="csrfmiddlewaretoken">`, Demo: "/session",
				Note: "Django's format: the cookie holds a 32-character secret, each form a 64-character token masked afresh. A Django site on the same domain accepts the site's tokens and the site accepts Django's, both forms, so a form left open in another tab stays valid."},
			{Django: `MIDDLEWARE = [..., "django.middleware.csrf.CsrfViewMiddleware"]`, Go: `g, err := csrf.New(csrf.DefaultConfig()); e.Use(g.Middleware())  // net/http: g.Handler(next)`, Demo: "/session",
				Note: "A POST without a valid token is a 403 with Django's reason; the Origin must be the site's own or trusted (Django 4.0 and later). Stricter than Django: a request the browser marks cross-site or same-site (Sec-Fetch-Site) is refused unless its Origin is trusted."},
			{Django: `CSRF_COOKIE_NAME = "csrftoken"; CSRF_COOKIE_AGE = 31449600; CSRF_COOKIE_PATH = "/"; CSRF_COOKIE_SAMESITE = "Lax"; CSRF_HEADER_NAME = "HTTP_X_CSRFTOKEN"; CSRF_TRUSTED_ORIGINS = []; CSRF_USE_SESSIONS = False`,
				Go:   `csrf.Config{CookieName: "csrftoken", CookieAge: 31449600 * time.Second, CookiePath: "/", CookieSameSite: http.SameSiteLaxMode, HeaderName: "X-CSRFToken", TrustedOrigins: nil, UseSessions: false}`,
				Demo: "/session",
				Note: "Set from the environment with Django's names and defaults (also CSRF_COOKIE_DOMAIN, CSRF_COOKIE_SECURE, CSRF_COOKIE_HTTPONLY). With CSRF_USE_SESSIONS=True the secret is kept in the session under _csrftoken, shared with Django like the rest; DJANGO_VERSION 3.2 keeps it masked, as Django 3.2 does."},
		}},
		{Title: "Engines (SESSION_ENGINE: what this site does with each today)", Rows: engineRows()},
	}
}
