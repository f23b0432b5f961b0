package session

import (
	"context"
	"sync"
	"time"
)

// callCtx is the context of one store call (see Session.storeCall): the
// request's values, not its cancellation, and a deadline, the end of what
// is left of the request's store budget.
//
// It is context.WithTimeout(context.WithoutCancel(ctx), left) made cheap
// for the common case. A store call that never waits (a cache hit, a
// write that leads its group commit) only asks Err and Deadline, which
// read the clock; the Done channel and the timer that closes it at the
// deadline are made only when something first asks for Done, that is,
// when something waits. Every wait is still bounded: whoever selects on
// Done gets a channel that closes at the deadline, and Err reports
// DeadlineExceeded from the deadline on, asked or not. The call's end
// stops the timer, if any, and ends the context (Canceled), as cancel
// does.
type callCtx struct {
	parent   context.Context // values only
	start    time.Time
	deadline time.Time

	mu    sync.Mutex
	done  chan struct{} // nil until Done is called
	timer *time.Timer   // closes done at the deadline; nil until Done
	err   error         // set once ended
}

func newCallCtx(parent context.Context, start time.Time, left time.Duration) *callCtx {
	return &callCtx{parent: parent, start: start, deadline: start.Add(max(left, 0))}
}

// Deadline implements context.Context.
func (c *callCtx) Deadline() (time.Time, bool) { return c.deadline, true }

// Value implements context.Context: the request's values.
func (c *callCtx) Value(key any) any { return c.parent.Value(key) }

// Done implements context.Context. The first call makes the channel and,
// unless the context has already ended, the timer that closes it at the
// deadline.
func (c *callCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done != nil {
		return c.done
	}
	c.done = make(chan struct{})
	if c.err == nil {
		if left := time.Until(c.deadline); left > 0 {
			c.timer = time.AfterFunc(left, c.expire)
			return c.done
		}
		c.err = context.DeadlineExceeded
	}
	close(c.done)
	return c.done
}

// Err implements context.Context: DeadlineExceeded from the deadline on,
// Canceled once the call ended, nil before.
func (c *callCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil && !time.Now().Before(c.deadline) {
		c.endLocked(context.DeadlineExceeded)
	}
	return c.err
}

// expire ends the context at its deadline (the timer's function).
func (c *callCtx) expire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.endLocked(context.DeadlineExceeded)
	}
}

// end ends the context when its call returns, like a CancelFunc.
func (c *callCtx) end() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.endLocked(context.Canceled)
	}
}

// endLocked records err, closes done and stops the timer; the caller holds
// c.mu and has checked that c.err is nil.
func (c *callCtx) endLocked(err error) {
	c.err = err
	if c.done != nil {
		close(c.done)
	}
	if c.timer != nil {
		c.timer.Stop()
	}
}

// String names the context in panics and logs, as the standard ones do.
func (c *callCtx) String() string { return "session.storeCall" }
