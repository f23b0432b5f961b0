package auth

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// ErrBusy reports that an Auth was already computing as many password
// hashes as it allows (Config.MaxHashing) and none finished within
// Config.HashingWait. Nothing was checked or stored: answer 503 with a
// Retry-After, and let the visitor try again.
var ErrBusy = errors.New("auth: too many password hashes at once")

// DefaultHashingWait is how long a password check waits for a free slot
// by default before it gives up with ErrBusy: long enough for a few
// checks ahead of it to finish, short enough for a login form.
const DefaultHashingWait = 2 * time.Second

// HashingStats are counters of an Auth's password hashing since it was
// made.
type HashingStats struct {
	// Limit is the number of hashes allowed at once (Config.MaxHashing).
	Limit int
	// InFlight is the number running now; Peak the most that ever ran at
	// once, never above Limit.
	InFlight, Peak int64
	// Refused counts the hashes that gave up with ErrBusy.
	Refused int64
}

// hashing bounds the password hashes an Auth computes at once. A PBKDF2
// check with Django's count takes a core for half a second or more, and
// an Argon2 check with Django's parameters 100 MiB: Django is bounded by
// its worker processes, a Go server by this.
type hashing struct {
	slots    chan struct{}
	wait     time.Duration // < 0: as long as the context allows
	inFlight atomic.Int64
	peak     atomic.Int64
	refused  atomic.Int64
}

func newHashing(limit int, wait time.Duration) *hashing {
	return &hashing{slots: make(chan struct{}, limit), wait: wait}
}

// do runs hash in a free slot, waiting for one at most h.wait (and never
// past ctx). It returns ErrBusy or ctx's error when it did not run hash.
func (h *hashing) do(ctx context.Context, hash func()) error {
	select {
	case h.slots <- struct{}{}:
	default:
		if err := h.waitForSlot(ctx); err != nil {
			return err
		}
	}
	defer func() { <-h.slots }()
	n := h.inFlight.Add(1)
	defer h.inFlight.Add(-1)
	for p := h.peak.Load(); n > p && !h.peak.CompareAndSwap(p, n); p = h.peak.Load() {
	}
	hash()
	return nil
}

// waitForSlot takes a slot, waiting at most h.wait, or returns why not.
func (h *hashing) waitForSlot(ctx context.Context) error {
	var timeout <-chan time.Time
	if h.wait >= 0 {
		t := time.NewTimer(h.wait)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-timeout:
		h.refused.Add(1)
		return ErrBusy
	case <-ctx.Done():
		return fmt.Errorf("auth: waiting to hash a password: %w", ctx.Err())
	}
}

func (h *hashing) stats() HashingStats {
	return HashingStats{Limit: cap(h.slots), InFlight: h.inFlight.Load(), Peak: h.peak.Load(), Refused: h.refused.Load()}
}
