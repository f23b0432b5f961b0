package session

import (
	"context"
	"fmt"
	"time"
)

// A Watcher follows the records a [Manager] writes and removes, so that
// something kept beside the store stays exact: the sessions of each user
// (package usersessions, fed by package auth, which knows what a user
// is). This package knows nothing of users: a watcher gives a session's
// data a label ("" for none; auth's is the logged-in user's id), and the
// manager tells it, under that label, of every write before it happens
// and of every removal after it happened.
//
// The order is what makes an index exact without a transaction across
// the store and the index: an entry written before its record exists
// means a live session is never missing from the index, and an entry
// removed only after its record is gone means the index never loses one
// that is still there. What the index still lists of dead sessions (a
// logout on another site, a process that died between the two steps) it
// must check against the store when it reads.
//
// The calls run on the request's goroutine within its store budget
// (Config.StoreTimeout: their context has its deadline and the request's
// values). They must be safe for concurrent use.
type Watcher interface {
	// Label returns the label of a session's data, "" for none. It is
	// called on the hot path (every load and every save): it must be a
	// quick look at data, which it must not change.
	Label(data map[string]any) string
	// Writing is called before the manager writes a record whose data
	// has a label. An error stops the write: the save fails with it (a
	// 503, as for a store fault), and the record is not written.
	Writing(ctx context.Context, w Write) error
	// Seen is called when a request loads a record whose data has a
	// label: the watcher may note the activity (at a bounded rate: it
	// runs on every such load), and learn of sessions written by others
	// (a Django site) that it did not see written. Its failures are the
	// watcher's to log; the request goes on.
	Seen(ctx context.Context, key, label string)
	// Removed is called after the manager removed the record of key,
	// whatever its label: a flush (logout), the old key of a key cycle,
	// and the new record a key cycle takes back when it finds its old
	// one deleted meanwhile.
	Removed(ctx context.Context, key string)
}

// Write is a write the manager is about to make, as a [Watcher] sees it.
type Write struct {
	// Key is the record's key.
	Key string
	// Create: a new record, of a new session or of a key cycle (From),
	// rather than an update of the record Key.
	Create bool
	// From is the key a key cycle moves the session from; "" otherwise.
	From string
	// Label is the label of the data written.
	Label string
	// Before is the label of the record this write is based on, as the
	// request read it: the record it updates, or a key cycle's old
	// record; "" for a new session.
	Before string
	// BaseExpires is when that record expires (or expired) as read;
	// zero for a new session. A write based on a record that has expired
	// (Update does not check expiry) brings it back to life.
	BaseExpires time.Time
	// Expires is when the record written expires.
	Expires time.Time
}

// watchWrite tells the watcher of a write about to happen; the caller
// holds s.mu. It does nothing without a watcher or for unlabelled data.
func (s *Session) watchWrite(w Write) error {
	wt := s.m.cfg.Watcher
	if wt == nil {
		return nil
	}
	if w.Label = wt.Label(s.data); w.Label == "" {
		return nil
	}
	w.Before, w.BaseExpires = s.label, s.baseExpires
	if w.Create && w.From == "" {
		w.Before, w.BaseExpires = "", time.Time{}
	}
	ctx := s.storeCall()
	err := wt.Writing(ctx, w)
	s.endCall(ctx)
	if err != nil {
		return fmt.Errorf("session: watcher refused the write of %s: %w", KeyHash(w.Key), err)
	}
	return nil
}

// watchRemoved tells the watcher that the record of key is gone; the
// caller holds s.mu.
func (s *Session) watchRemoved(key string) {
	if wt := s.m.cfg.Watcher; wt != nil {
		ctx := s.storeCall()
		wt.Removed(ctx, key)
		s.endCall(ctx)
	}
}

// watchLoaded notes the label of the record just loaded (s.data, from
// s.rowKey) and tells the watcher it was seen; the caller holds s.mu.
func (s *Session) watchLoaded(seen bool) {
	wt := s.m.cfg.Watcher
	if wt == nil {
		return
	}
	s.label = wt.Label(s.data)
	if seen && s.label != "" {
		ctx := s.storeCall()
		wt.Seen(ctx, s.rowKey, s.label)
		s.endCall(ctx)
	}
}
