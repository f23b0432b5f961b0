package views

import "github.com/djangosessions/gosessions/templates"

// learnSections is the /learn table: every Django session API and setting
// with its Go equivalent here and the page that shows it at work. A test
// checks that every demo link answers.
func learnSections() []templates.LearnSection {
	return []templates.LearnSection{
		{Title: "The session API (request.session)", Rows: []templates.LearnRow{
			{Django: `request.session[key] = value`, Go: `s := session.From(c); s.Set(key, value)`, Demo: "/set"},
			{Django: `request.session.get(key, default)`, Go: `s.Get(key, def), s.GetString(key, def), s.GetInt(key, def), session.Get[T](s, key)`, Demo: "/get"},
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
			{Django: `django.contrib.auth.login(request, user)`, Go: `s.CycleKey(); s.Set("username", name)`, Demo: "/login"},
			{Django: `request.session.set_expiry(300)`, Go: `s.SetExpiry(300)`, Demo: "/set?expiry=300"},
			{Django: `request.session.set_expiry(0)`, Go: `s.SetExpiry(0)  // expire at browser close`, Demo: "/set?expiry=0"},
			{Django: `request.session.set_expiry(datetime)`, Go: `s.SetExpiryAt(t)`, Demo: "/session"},
			{Django: `request.session.set_expiry(None)`, Go: `s.ResetExpiry()`, Demo: "/session"},
			{Django: `request.session.get_expiry_age()`, Go: `s.ExpiryAge()`, Demo: "/api/session"},
			{Django: `request.session.get_expiry_date()`, Go: `s.ExpiryDate()`, Demo: "/"},
			{Django: `request.session.get_expire_at_browser_close()`, Go: `s.ExpireAtBrowserClose()`, Demo: "/api/session"},
			{Django: `request.session.session_key`, Go: `s.Key()`, Demo: "/"},
			{Django: `request.session.is_empty()`, Go: `s.IsEmpty()`, Demo: "/flush"},
			{Django: `request.session.modified, .accessed`, Go: `s.Modified(), s.Accessed()`, Demo: "/set"},
			{Django: `request.session.save()`, Go: `s.Save()`, Demo: "/visits"},
			{Django: `SessionStore(session_key=key)`, Go: `manager.Open(ctx, key)`, Demo: "/api/session"},
			{Django: `SessionMiddleware`, Go: `manager.Middleware()  // session.New(cfg)`, Demo: "/"},
			{Django: `SessionInterrupted (400)`, Go: `session.ErrInterrupted`, Demo: "/visits"},
		}},
		{Title: "Settings (session.Config, from the environment)", Rows: []templates.LearnRow{
			{Django: `SESSION_ENGINE = "...backends.db"`, Go: `Config.Store = dbstore.New(db)  // SESSION_ENGINE=db`, Demo: "/"},
			{Django: `SESSION_ENGINE = "...backends.cached_db"`, Go: `Config.Store = dbstore.New(db, dbstore.WithCache(n))  // SESSION_ENGINE=cached_db`, Demo: "/visits"},
			{Django: `SESSION_ENGINE = "...backends.cache"`, Go: `Config.Store = memstore.New(nil)  // SESSION_ENGINE=cache, one process`, Demo: "/visits"},
			{Django: `SESSION_COOKIE_NAME`, Go: `Config.CookieName  // "sessionid"`, Demo: "/api/session"},
			{Django: `SESSION_COOKIE_AGE`, Go: `Config.CookieAge  // two weeks`, Demo: "/set"},
			{Django: `SESSION_COOKIE_DOMAIN`, Go: `Config.CookieDomain`, Demo: "/set"},
			{Django: `SESSION_COOKIE_PATH`, Go: `Config.CookiePath  // "/"`, Demo: "/set"},
			{Django: `SESSION_COOKIE_SECURE`, Go: `Config.CookieSecure`, Demo: "/set"},
			{Django: `SESSION_COOKIE_HTTPONLY`, Go: `Config.CookieHTTPOnly  // true`, Demo: "/set"},
			{Django: `SESSION_COOKIE_SAMESITE`, Go: `Config.CookieSameSite  // http.SameSiteLaxMode`, Demo: "/set"},
			{Django: `SESSION_EXPIRE_AT_BROWSER_CLOSE`, Go: `Config.ExpireAtBrowserClose`, Demo: "/set?expiry=0"},
			{Django: `SESSION_SAVE_EVERY_REQUEST`, Go: `Config.SaveEveryRequest`, Demo: "/visits"},
			{Django: `SESSION_SERIALIZER`, Go: `JSON, always (json.Number keeps integers exact)`, Demo: "/session"},
			{Django: `SESSION_CACHE_ALIAS`, Go: `SESSION_CACHE_SIZE: sessions the db engines keep in memory`, Demo: "/get"},
			{Django: `SESSION_FILE_PATH`, Go: `no file store: a backend is any session.Store`, Demo: "/"},
			{Django: `SECRET_KEY, SECRET_KEY_FALLBACKS`, Go: `Config.SecretKey, Config.SecretKeyFallbacks  // signs the data Django's way`, Demo: "/api/session"},
			{Django: `manage.py clearsessions`, Go: `go run ./manage clearsessions`, Demo: "/set?expiry=60"},
		}},
	}
}
