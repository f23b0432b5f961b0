package usersessions

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/signing"
)

// Sessions lists and ends the sessions of owners: the index says which
// sessions an owner may have, the session manager's store which of them
// are live. Make it with [Index.Sessions].
type Sessions struct {
	x *Index
	m *session.Manager
}

// Sessions returns the index read through m, the manager whose Watcher
// the index is (its store, its clock, its secret key).
func (x *Index) Sessions(m *session.Manager) *Sessions { return &Sessions{x: x, m: m} }

// Device is one live session of an owner, as a list of devices shows it.
type Device struct {
	// ID is the opaque device id: it names the device in a sign-out and
	// is never the session key.
	ID string `json:"id"`
	// Key is the session key: a credential, for operators' tools only
	// (manage shows its first characters). Never show it to the user.
	Key string `json:"-"`
	// Current: the session of the request that asked.
	Current bool `json:"current"`
	// IP and UserAgent are the client's at the last recorded use.
	IP        string `json:"ip"`
	UserAgent string `json:"user_agent"`
	// Created is the device's login; LastSeen its last recorded use (at
	// most Config.SeenEvery old while it is in use).
	Created  time.Time `json:"created"`
	LastSeen time.Time `json:"last_seen"`
	// Expires is when the session ends unless used or changed.
	Expires time.Time `json:"-"`
}

// List returns the live sessions of owner, one per device (two keys of
// one device, a key cycle in flight, are shown once: the newer),
// current's device first, then the most recently seen. current is the
// session key of the request that asks ("" for none).
//
// Every entry is checked against the store as a load would see it (the
// record present, not expired, not past its absolute timeout, still
// owner's): nothing dead is listed, whoever ended it (a logout on a
// Django site, clearsessions). An entry whose session is not live, and
// that was last written more than Config.Grace ago, is dropped from the
// index as it is found. The time is that of owner's entries, not of the
// table.
func (s *Sessions) List(ctx context.Context, owner, current string) ([]Device, error) {
	entries, err := s.x.b.Owned(ctx, owner)
	if err != nil {
		return nil, err
	}
	var out []Device
	byDevice := map[string]int{}
	for _, e := range entries {
		rec, data, err := s.m.Peek(ctx, e.Key)
		switch {
		case errors.Is(err, session.ErrNotFound):
			if err := s.dropDead(ctx, e); err != nil {
				return nil, err
			}
			continue
		case errors.Is(err, signing.ErrBadSignature), errors.Is(err, signing.ErrMalformed):
			continue // nobody's login
		case err != nil:
			return nil, fmt.Errorf("usersessions: check session %s: %w", short(e.Key), err)
		}
		if s.x.cfg.Label(data) != owner {
			continue // another user's now: not owner's
		}
		d := Device{
			ID: e.Device, Key: e.Key, Current: current != "" && e.Key == current,
			IP: e.IP, UserAgent: e.UserAgent, Created: e.Created, LastSeen: e.LastSeen, Expires: rec.Expires,
		}
		if i, ok := byDevice[e.Device]; ok {
			d.Current = d.Current || out[i].Current
			out[i] = d // entries come by Seq: this one is newer
			continue
		}
		byDevice[e.Device] = len(out)
		out = append(out, d)
	}
	slices.SortStableFunc(out, func(a, b Device) int {
		if a.Current != b.Current {
			if a.Current {
				return -1
			}
			return 1
		}
		return b.LastSeen.Compare(a.LastSeen)
	})
	return out, nil
}

// dropDead removes e, whose session was not found live, if it was last
// written more than the grace period ago.
func (s *Sessions) dropDead(ctx context.Context, e Entry) error {
	before := s.x.cfg.Now().Add(-s.x.cfg.Grace)
	if !e.Touched.Before(before) {
		return nil // maybe about to be created, or saved again
	}
	dropped, err := s.x.b.Drop(ctx, e.Owner, e.Key, before)
	if dropped {
		s.x.dropped.Add(1)
	}
	return err
}

// maxSignOutPasses bounds the passes of a sign-out (see signOut).
const maxSignOutPasses = 20

// ErrStillMoving reports a sign-out whose last pass still found new
// sessions of the owner: a client creating or moving them faster than the
// sign-out ends them.
var ErrStillMoving = errors.New("usersessions: sessions of the owner kept appearing; sign out again")

// SignOut ends the sessions of owner's device (its opaque id), and
// returns how many it ended. Neither a request of that device in flight
// nor a key cycle it makes meanwhile brings one back (see signOut).
func (s *Sessions) SignOut(ctx context.Context, owner, device string) (int, error) {
	return s.signOut(ctx, owner, func(e Entry) bool { return e.Device != device })
}

// SignOutOthers ends every session of owner but those of the device of
// the session current (the request's), and returns how many it ended.
// Without an entry for current, it keeps that session alone.
func (s *Sessions) SignOutOthers(ctx context.Context, owner, current string) (int, error) {
	cur, ok, err := s.x.b.Get(ctx, owner, current)
	if err != nil {
		return 0, err
	}
	return s.signOut(ctx, owner, func(e Entry) bool {
		return e.Key == current || ok && e.Device == cur.Device
	})
}

// SignOutAll ends every session of owner (manage sessions revoke --user)
// and returns how many it ended.
func (s *Sessions) SignOutAll(ctx context.Context, owner string) (int, error) {
	return s.signOut(ctx, owner, func(Entry) bool { return false })
}

// signOut ends the sessions of owner's entries that keep does not keep.
//
// It goes over the owner's entries in passes, each in Seq order, ending
// each session not handled before, until a pass finds no entry it has
// not handled. A session's entry is written before its record, and a key
// cycle's new entry after the old one's (which it reads), so: a session
// moving to a new key meanwhile is either caught under its old key before
// the move completes (the move then fails: its compare-and-delete finds
// the old record gone, ErrInterrupted), or it completed and the new
// entry, written before, shows up in this pass or the next, whose listing
// is taken after this pass's deletions. A request in flight that saves a
// session ended here fails the same way (no update brings a record
// back). So when signOut returns, no session of the device that existed
// when it began is left, under any key; only a new login can add one.
func (s *Sessions) signOut(ctx context.Context, owner string, keep func(Entry) bool) (int, error) {
	handled := map[string]bool{}
	ended := 0
	for range maxSignOutPasses {
		entries, err := s.x.b.Owned(ctx, owner)
		if err != nil {
			return ended, err
		}
		fresh := false
		for _, e := range entries {
			if keep(e) || handled[e.Key] {
				continue
			}
			fresh = true
			handled[e.Key] = true
			done, err := s.end(ctx, owner, e)
			if err != nil {
				return ended, err
			}
			if done {
				ended++
				s.x.signedOut.Add(1)
			}
		}
		if !fresh {
			return ended, nil
		}
	}
	return ended, ErrStillMoving
}

// end ends the session of e if it is live and still owner's, and reports
// whether it did. The delete is conditional on the data it read, so a
// session that a request gave to another user meanwhile is left alone;
// a record not live (expired, not yet created) is deleted unconditionally
// when present, so that no request can save it back to life. Only a
// record this call deleted has its entries removed: an entry whose record
// was not there may have its record about to be created, and stays for a
// reader to drop after the grace period.
func (s *Sessions) end(ctx context.Context, owner string, e Entry) (bool, error) {
	st := s.m.Config().Store
	for range 100 {
		rec, data, err := s.m.Peek(ctx, e.Key)
		switch {
		case errors.Is(err, session.ErrNotFound):
			if err := st.Delete(ctx, e.Key, ""); err != nil {
				return false, fmt.Errorf("usersessions: delete session %s: %w", short(e.Key), err)
			}
			return false, nil
		case errors.Is(err, signing.ErrBadSignature), errors.Is(err, signing.ErrMalformed):
			return false, nil
		case err != nil:
			return false, fmt.Errorf("usersessions: check session %s: %w", short(e.Key), err)
		}
		if s.x.cfg.Label(data) != owner {
			return false, nil
		}
		err = st.Delete(ctx, e.Key, rec.Data)
		switch {
		case err == nil:
			if err := s.x.b.RemoveKey(ctx, e.Key); err != nil {
				s.x.cfg.Logger.Warn("usersessions: a signed-out session stays in the index until a reader drops it", "key_hash", session.KeyHash(e.Key), "error", err)
			}
			s.x.known.forget(e.Key)
			return true, nil
		case errors.Is(err, session.ErrNotFound):
			return false, nil // gone meanwhile
		case !errors.Is(err, session.ErrConflict):
			return false, fmt.Errorf("usersessions: delete session %s: %w", short(e.Key), err)
		}
		// Changed meanwhile: look again.
	}
	return false, fmt.Errorf("usersessions: session %s kept changing while it was signed out", short(e.Key))
}

// Sweep removes the entries whose session is not live and that were last
// written more than the grace period ago, over the whole index
// (manage clearsessions), and returns how many.
func (s *Sessions) Sweep(ctx context.Context) (int64, error) {
	now := s.x.cfg.Now()
	n, err := s.x.b.Sweep(ctx, now.Add(-s.x.cfg.Grace), now, func(ctx context.Context, key string) (bool, error) {
		_, _, err := s.m.Peek(ctx, key)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, session.ErrNotFound), errors.Is(err, signing.ErrBadSignature), errors.Is(err, signing.ErrMalformed):
			return false, nil
		}
		return false, err
	})
	s.x.dropped.Add(n)
	return n, err
}

// Top returns the n owners with the most entries (dead ones not yet
// dropped included), and the index's entries and owners in all.
func (x *Index) Top(ctx context.Context, n int) (top []OwnerCount, entries, owners int64, err error) {
	if entries, owners, err = x.b.Count(ctx); err != nil {
		return nil, 0, 0, err
	}
	top, err = x.b.Top(ctx, n)
	slices.SortStableFunc(top, func(a, b OwnerCount) int { return cmp.Compare(b.Entries, a.Entries) })
	return top, entries, owners, err
}
