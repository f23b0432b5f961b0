// Package usersessions keeps the per-user index of sessions: which
// sessions belong to which user, with when each device logged in, when
// it was last seen, its address and its browser. It is what lists a
// user's sessions ("where you're signed in"), signs out one device or
// every other one, and lets manage list and revoke the sessions of one
// user in time proportional to that user's sessions rather than to the
// table.
//
// The index lives beside each engine's records, in the same place: the
// database's gosessions_usersession table for the db and cached_db
// engines ([SQL], migration 000005 on SQLite and PostgreSQL; Django's
// django_session is never changed, so a Django site sharing the database
// keeps working), Redis keys for the cache engine on Redis ([Redis]),
// and this process's memory for the cache engine without CACHE_URL
// ([Memory]). The signed_cookies engine keeps nothing on the server:
// there is no list of its sessions to keep, and nothing to end them.
//
// # Layering
//
// Package session knows nothing of users; an [Index] is its
// session.Watcher (session.Config.Watcher), labelling a session's data
// with its owner through Config.Label, which package auth supplies (the
// logged-in user's id). The session manager tells it of every write of a
// labelled session before the write, and of every removal (a logout's
// flush, a key cycle's old key) after it: so a login, a logout and a key
// cycle reach the index whoever makes them, auth's Login and Logout, a
// password change, or code calling CycleKey and Flush itself.
//
// # Exact
//
// For sessions written through this project, no live session of a user
// is ever missing from what [Sessions.List] returns, and no dead one is
// in it, under concurrent logins, logouts, key cycles and sign-outs. It
// takes no transaction across the store and the index, only an order:
//
//   - an entry is written before its record (Writing, on the request's
//     store budget; if it fails, the record is not written): a live
//     session is never missing;
//   - an entry is removed only once its record is gone (Removed, a
//     sign-out's delete), or when a reader finds the session not live
//     and the entry has not been written for Config.Grace (a young entry
//     may have its record about to be created): nothing live is ever
//     dropped;
//   - every listing checks each entry against the store as a load would
//     (present, not expired, not past its absolute timeout, still that
//     user's): nothing dead is listed, whoever ended it.
//
// Writing the entry atomically with the record, in the store's group
// commit, would make the index exact too, but only for the database, and
// only by teaching each store about users; this order works on every
// engine through the session layer's hook, at the price of an index write
// per login (and per Config.SeenEvery for the last seen), and of reading
// the store for each entry of a listing.
//
// A sign-out ([Sessions.SignOut], [Sessions.SignOutOthers]) deletes with
// the store's compare-and-delete and goes over the user's entries until a
// pass finds none new, so that neither a request of the signed-out device
// in flight nor a key cycle it makes meanwhile brings a session back (see
// signOut).
//
// # Sessions written elsewhere
//
// A Django site's logins, logouts, key cycles and clearsessions bypass
// the Go side. Meanwhile the index knows of a session Django logged in
// only once the Go site sees it used (Seen indexes it) or `manage sessions
// reindex` runs; until then the session is missing from the lists of its
// user. A session Django logged out or cycled is in the index until a
// listing finds it dead: it is never listed (the listing checks the
// store), and it is dropped then, or by `manage clearsessions`.
package usersessions
