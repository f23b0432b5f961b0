package session

import (
	"context"
	"errors"
	"testing"
	"time"
)

type ctxTestKey struct{}

// TestCallCtxBehavesLikeWithTimeout checks the store call's context against
// what context.WithTimeout(context.WithoutCancel(parent), left) promises:
// the parent's values, not its cancellation; a Done channel that closes at
// the deadline; Err from then on; Canceled once the call ends.
func TestCallCtxBehavesLikeWithTimeout(t *testing.T) {
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), ctxTestKey{}, "v"))
	cancel() // the request went away: a store call must not see it

	c := newCallCtx(parent, time.Now(), time.Hour)
	if got := c.Value(ctxTestKey{}); got != "v" {
		t.Errorf("Value = %v, want the parent's value", got)
	}
	if err := c.Err(); err != nil {
		t.Errorf("Err before the deadline = %v, want nil (the parent's cancellation must not pass)", err)
	}
	if d, ok := c.Deadline(); !ok || time.Until(d) < 59*time.Minute {
		t.Errorf("Deadline = %v, %v; want about an hour from now", d, ok)
	}
	done := c.Done()
	select {
	case <-done:
		t.Fatal("Done closed before the deadline")
	default:
	}
	c.end()
	<-done // end closes it
	if err := c.Err(); !errors.Is(err, context.Canceled) {
		t.Errorf("Err after end = %v, want Canceled", err)
	}
	if c.Done() != done {
		t.Error("Done returned another channel after the first")
	}
}

// TestCallCtxDeadline checks that a waiter is released at the deadline,
// and that Err reports the deadline even when nobody asked for Done.
func TestCallCtxDeadline(t *testing.T) {
	c := newCallCtx(context.Background(), time.Now(), 20*time.Millisecond)
	<-c.Done() // released by the timer, or the test times out
	if err := c.Err(); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Err after the deadline = %v, want DeadlineExceeded", err)
	}
	c.end()
	if err := c.Err(); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Err after end = %v, want DeadlineExceeded still", err)
	}

	// Past its deadline, without a Done channel: Err says so, and a Done
	// asked for afterwards is already closed.
	past := newCallCtx(context.Background(), time.Now().Add(-time.Second), 0)
	if err := past.Err(); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Err of a spent budget = %v, want DeadlineExceeded", err)
	}
	select {
	case <-past.Done():
	default:
		t.Error("Done of an expired context is not closed")
	}

	// No budget left and Done asked first: closed at once.
	spent := newCallCtx(context.Background(), time.Now(), -time.Second)
	select {
	case <-spent.Done():
	default:
		t.Error("Done of a context with no budget left is not closed")
	}
	if err := spent.Err(); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Err = %v, want DeadlineExceeded", err)
	}
}
