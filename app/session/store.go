package session

import (
	"context"
	"errors"
	"time"
)

// Record is one stored session as a [Store] sees it. The store treats Data
// as an opaque string: encoding, signing and merging are this package's
// business.
type Record struct {
	// Key is the session key (the cookie value).
	Key string
	// Data is the signed, encoded session dictionary (Django's format).
	// It doubles as the record's version: Update and Delete compare it.
	Data string
	// Expires is the absolute expiry time; a record is dead from then on.
	Expires time.Time
}

// Sentinel errors of the [Store] contract. They are results, not faults:
// callers test them with errors.Is.
var (
	// ErrNotFound: no live record has that key (never stored, deleted, or
	// expired); for Update and a conditional Delete, no record at all.
	ErrNotFound = errors.New("session: record not found")
	// ErrExists: Create found the key taken.
	ErrExists = errors.New("session: key already exists")
	// ErrConflict: Update or a conditional Delete found the record's data
	// changed since it was read (another request or process wrote it).
	ErrConflict = errors.New("session: record changed concurrently")
)

// Store keeps session records. It is the whole interface a backend
// implements; every method takes the request's context first and must be
// safe for concurrent use by many goroutines and by several processes
// sharing the same storage.
//
// Every method honours its context: it fails, with the context's error
// wrapped, when the context is already done, and gives up any wait (a
// lock, a queue, a connection) when the context ends. The manager bounds
// each request's store calls by a deadline (Config.StoreTimeout), so a
// store that ignored it would turn an outage into a queue.
//
// Not-found, key-taken and changed-meanwhile are results, reported with
// [ErrNotFound], [ErrExists] and [ErrConflict]. Any other error is a system
// fault (database down, disk full, context cancelled); the middleware then
// saves nothing and answers through its error hook.
//
// Creating and updating are separate operations, never an upsert: that is
// what stops a request from resurrecting a session that another request
// deleted (logout in another tab).
type Store interface {
	// Load returns the live record for key. A missing or expired record is
	// ErrNotFound; Load never creates a record.
	Load(ctx context.Context, key string) (Record, error)

	// Create inserts rec and fails with ErrExists when its key is taken by
	// a live record. The key of an expired record is either still taken
	// (ErrExists: the database keeps the row until clearsessions) or
	// reclaimed (Create replaces it: a store that drops expired records by
	// itself, like Redis); either way the expired record never loads again.
	Create(ctx context.Context, rec Record) error

	// Update replaces the record with key rec.Key by rec if and only if the
	// stored data still equals old, atomically (compare-and-swap). It
	// returns ErrNotFound when no record has that key and ErrConflict when
	// the data differs. Update does not check expiry: it swaps an expired
	// record like a live one, unless the store has already reclaimed it
	// (then ErrNotFound, as for a deleted record).
	Update(ctx context.Context, rec Record, old string) error

	// Delete removes the record with key.
	//
	// With old empty the delete is unconditional and idempotent: a missing
	// record is not an error (a logout of a session that is already gone
	// succeeds).
	//
	// With old not empty it is a compare-and-delete, atomically: it
	// removes the record only if the stored data still equals old, and
	// like Update returns ErrNotFound when no record has that key and
	// ErrConflict when the data differs. Telling the two apart is what
	// lets a key cycle (create the new record, then delete the old one)
	// notice that the old record was deleted meanwhile, by a logout or a
	// revoke, and undo itself instead of bringing the session back under
	// its new key. Like Update it does not check expiry.
	Delete(ctx context.Context, key string, old string) error
}
