package usersessions

import (
	"context"
	"time"
)

// Entry is one session of one owner in the index: a row of
// gosessions_usersession, a hash in Redis. The index knows only what it
// was told; whether the session is still live is the store's to say
// (see Sessions.List).
type Entry struct {
	// Owner is the label the session was indexed under (auth's: the
	// user's id, as a string).
	Owner string
	// Key is the session key. It is a credential: never show it.
	Key string
	// Seq orders the entries of the index by creation: an entry written
	// after another one was written has a greater Seq.
	Seq int64
	// Device is an opaque id shown instead of the key: a key cycle's new
	// session carries its old session's, so a device keeps its id
	// across logins' cycles and password changes.
	Device string
	// Created is when the device's session was first indexed (its
	// login); LastSeen when a request last used it (updated at a bounded
	// rate); Touched when the entry was last written (Put).
	Created, LastSeen, Touched time.Time
	// IP and UserAgent are the client's, at the last Put that had them.
	IP, UserAgent string
}

// Backend keeps the entries: the database's table (SQL), Redis's keys
// (Redis), or this process's memory (Memory), beside the store of the
// session engine. Its methods are single atomic steps; the index builds
// its exactness from their order (see the package doc). A Backend is
// safe for concurrent use.
type Backend interface {
	// Put writes e: a new entry with all of e's fields (Seq assigned by
	// the backend, greater than every Seq assigned before), or, when the
	// entry of e.Owner and e.Key exists, its LastSeen and Touched, and
	// its IP and UserAgent where e's are not empty; its Seq, Device and
	// Created stay.
	Put(ctx context.Context, e Entry) error
	// Get returns the entry of owner and key.
	Get(ctx context.Context, owner, key string) (Entry, bool, error)
	// Owned returns the entries of owner, by Seq.
	Owned(ctx context.Context, owner string) ([]Entry, error)
	// RemoveKey removes the entries of key, every owner's.
	RemoveKey(ctx context.Context, key string) error
	// Drop removes the entry of owner and key if it was last touched
	// before t, atomically, and reports whether it did.
	Drop(ctx context.Context, owner, key string, before time.Time) (bool, error)
	// Count returns how many entries and owners the index holds.
	Count(ctx context.Context) (entries, owners int64, err error)
	// Top returns the n owners with the most entries, most first.
	Top(ctx context.Context, n int) ([]OwnerCount, error)
	// Sweep removes the entries touched before t whose session is not
	// live at now (gone or expired), and returns how many. live tells
	// whether a session is; a backend beside the sessions' own table
	// asks the table instead.
	Sweep(ctx context.Context, before, now time.Time, live func(ctx context.Context, key string) (bool, error)) (int64, error)
}

// OwnerCount is how many entries an owner has.
type OwnerCount struct {
	Owner   string
	Entries int64
}

// Bounds of an entry's fields, those of the table's columns: a longer
// owner is refused, a longer address or user agent cut.
const (
	maxOwner     = 150
	maxIP        = 64
	maxUserAgent = 512
)

// trim cuts s to at most n bytes, on a character boundary.
func trim(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
