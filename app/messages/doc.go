// Package messages is Django's messages framework (django.contrib.messages)
// for a Go site that shares its visitors with a Django site: one-time
// "flash" notifications, added by one request and shown by the next page,
// on either site. A message added by a Django view is shown once by the
// next Go page, with its level, and the other way round.
//
// # Django to Go
//
//	MessageMiddleware                          m.Handler(next) (Echo: m.Middleware())
//	messages.add_message(request, level, text) messages.Add(ctx, level, text)
//	messages.success(request, text, extra_tags) messages.AddTags(ctx, messages.Success, text, tags)
//	for message in get_messages(request)        for _, msg := range messages.Get(ctx)
//	message.message / .level / .tags           msg.Text / msg.Level / msg.Tags()
//	message.level_tag / .extra_tags            msg.LevelTag() / msg.ExtraTags
//	constants.DEBUG ... ERROR                  messages.Debug ... messages.Error
//	MESSAGE_LEVEL                              Config.Level
//
// ctx is the request's context (r.Context(), or c.Request().Context() in
// Echo). Get consumes: the messages it returns are removed when the
// response is sent, as iterating over them in a Django template does, so
// a site's layout calls it on every page.
//
// # Storage
//
// Messages are stored exactly as Django's default storage, FallbackStorage,
// stores them, so both sites read and write the same places:
//
//   - first the "messages" cookie, CookieStorage's: a JSON list of
//     ["__json_message", safe, level, text, extra_tags] items, signed as
//     Django's get_cookie_signer().sign_object(compress=True) signs it
//     (zlib-compressed when that is shorter, base64, the time of signing,
//     HMAC-SHA256 with the salt "django.contrib.messages" and the key
//     "django.http.cookies" + SECRET_KEY; package signing's
//     TimestampSigner), with the session cookie's domain, Secure,
//     HttpOnly and SameSite, the path "/" and no expiry;
//   - a cookie holds at most MaxCookieSize (2048) bytes: the oldest
//     messages that fit stay in it, with the marker
//     "__messagesnotfinished__" last, and the others go to the session
//     under "_messages", as SessionStorage keeps them (a JSON string).
//
// Every Django release from 3.2 (the first to sign the cookie with
// sign_object) reads what this package writes, and it reads what each of
// them writes, and Django 3.1's format too (the JSON itself, signed).
// The only byte that depends on the release is an empty extra_tags,
// which Django 4.1 and later write and earlier releases leave out:
// Config.DjangoVersion picks it. The compressed form's zlib bytes are this
// package's own (Django reads any zlib stream), so a list of messages
// long enough to be compressed may split between cookie and session at a
// slightly different place than Django would split it.
//
// # Differences from Django
//
// A messages cookie that fails its signature, or holds only the
// not-finished marker, is deleted the next time messages are stored or
// consumed; Django's FallbackStorage leaves it in place until a response
// stores messages in the cookie again.
package messages
