// Package session is a port of Django's session framework
// (django.contrib.sessions) to Go, for Echo and for net/http.
//
// A [Manager], built from a [Config] holding Django's SESSION_* settings,
// provides the middleware, for Echo ([Manager.Middleware]) and for any
// net/http router ([Manager.Handler]), the same code behind both. Each
// request gets a [Session], found with [From] (Echo) or [FromContext]
// (net/http, or anywhere without panicking), with Django's dictionary API;
// the middleware loads it lazily and saves it just before the response
// starts. Storage is pluggable through the small [Store] interface:
// package dbstore keeps Django's django_session table through GORM on
// SQLite or PostgreSQL (Django's db engine), package redisstore keeps
// sessions in Redis (Django's cache engine) or puts Redis in front of
// dbstore as a write-through cache (Django's cached_db), memstore keeps
// them in process memory (tests, one process), and [Config.SignedCookies]
// keeps them in the cookie itself (Django's signed_cookies engine). Every
// store passes the same conformance suite (package sessiontest).
//
// # Django to Go
//
//	request.session[key]                     s.Lookup(key)
//	request.session.get(key, default)        s.Get(key, def), s.GetString, s.GetInt, ..., Get[T](s, key)
//	request.session[key] = value             s.Set(key, value)
//	del request.session[key]                 s.Delete(key)   (a missing key is not an error)
//	request.session.pop(key, default)        s.Pop(key, def)
//	request.session.setdefault(key, value)   s.SetDefault(key, value)
//	request.session.update(d)                s.Update(d)
//	key in request.session                   s.Has(key)
//	keys() / items() / len()                 s.Keys() / s.Items() / s.Len()
//	request.session["n"] += 1                s.Incr("n", 1)   (never loses a concurrent increment)
//	request.session.modified = True          s.MarkModified(key)   (after changing session[key] in place)
//	clear() / flush() / cycle_key()          s.Clear() / s.Flush() / s.CycleKey()
//	set_expiry(300) / (0) / (dt) / (None)    s.SetExpiry(300) / s.SetExpiry(0) / s.SetExpiryAt(t) / s.ResetExpiry()
//	get_expiry_age() / get_expiry_date()     s.ExpiryAge() / s.ExpiryDate()
//	get_expire_at_browser_close()            s.ExpireAtBrowserClose()
//	is_empty() / modified / accessed         s.IsEmpty() / s.Modified() / s.Accessed()
//	session.save()                           s.Save()
//	SessionStore(session_key=k)              m.Open(ctx, k)
//
// # Format
//
// Data is a JSON object signed in Django's own format (django.core.signing,
// package signing here, with the [SessionSalt] salt, HMAC-SHA256,
// optional zlib), so a Django site with the same SECRET_KEY and table reads
// what Go writes and the other way round. JSON rather than gob means a
// changed Go type never breaks a stored session. Numbers are kept as
// json.Number, so 42 stays an integer. Data that fails its signature or
// does not decode loads as an empty session, with a warning logged.
//
// # No lost updates
//
// Django and the usual Go session libraries write a request's whole
// dictionary back at the end: of two overlapping requests that change
// different keys, the last one to finish silently erases the other's
// change, and concurrent "visits += 1" lose counts. This package saves a
// request's session as the list of operations it performed (set, delete,
// pop, clear, setdefault, increment). A value changed in place is marked
// per key ([Session.MarkModified]), never as a whole-session "modified"
// flag, which would write back every key. The save is a compare-and-swap on the
// stored record: [Store.Update] replaces the data only if it still equals
// the data the request loaded. When another request or process got there
// first, the session reloads the record, replays its operations on the
// fresh data and tries again. Each failed attempt means another save
// succeeded, so the loop always progresses, and because the check is in the
// store, it holds for any number of processes sharing one database.
//
// Creating and updating are separate store operations. A request whose
// session was deleted meanwhile (a logout in another tab, an operator's
// revoke) gets [ErrInterrupted] (400) rather than bringing the session
// back, whether it updates the session or moves it to a new key: CycleKey
// creates the new record and then deletes the old one with a
// compare-and-delete, and when that finds the old record gone it removes
// the new one and fails the same way. Flush and CycleKey are carried out
// when the response starts, so a request that fails with a 5xx changes
// nothing at all.
//
// # Writing a Store
//
// The [Store] interface is small, and its contract is what the guarantees
// above rest on: Create never overwrites a live record, Update is a
// compare-and-swap on the data, and a conditional Delete (old not empty)
// is a compare-and-delete that returns [ErrNotFound] when the record is
// gone and [ErrConflict] when its data changed, while the unconditional
// Delete (old empty) of a missing record succeeds. A store that reported
// success for a conditional delete of a missing record would let a key
// cycle resurrect a session that was logged out. Package sessiontest
// checks every clause (sessiontest.Run) and, with a linearizability
// checker, the whole save algorithm over random concurrent requests on
// the store (sessiontest.ModelCheck).
//
// # Values
//
// A value is stored as JSON, as Django stores it, and reads back in its
// JSON form: numbers as json.Number (exact, so 42 stays an integer),
// objects as map[string]any, arrays as []any; [Get] converts back into a
// Go type. Some values come back changed, as in Django: a time.Time as an
// ISO 8601 string in UTC, to the microsecond ([Session.GetTime] reads it);
// a map with non-string keys with its keys as strings; an array as a list.
// What JSON would silently lose is refused with [ErrValue]: NaN and
// infinities, channels and functions, a struct with unexported fields
// (encoding/json skips them: export them or give the type a MarshalJSON
// method), values nested deeper than [MaxDepth]. A session over
// [Config.MaxSize] is not saved ([ErrTooLarge]), so that nothing is written
// that could not be read back.
//
// # Bounded waits
//
// Each request has one store budget, [Config.StoreTimeout]: every wait for
// the store in it, over all its loads and saves and the wait for another
// save of the same session in this process, comes out of that budget. When
// the store is stuck (another process holds the database's lock) the
// request fails within the budget, a 503 by default, and the next request
// tries again, instead of joining a queue as long as the outage. Saves of
// different sessions never wait for each other.
//
// Store calls carry the request's values but not its cancellation: a
// client that goes away does not cut a save in half, and a session kept
// after its request (a goroutine that saves it later) still saves.
//
// # Errors
//
// A store fault never produces a half-written response: the save runs in
// the response writer before the status line goes out, and a failure
// replaces the handler's response through [Config.ErrorHandler] (by default
// a logged 503). A load fault is kept in the session ([Session.Err]) and
// reported the same way.
package session
