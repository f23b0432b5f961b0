package database

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// listenPing is how long a listener waits for a notification before it
// checks that its connection is still alive.
const listenPing = 5 * time.Second

// ListenerName is the application_name of a Listener's connection, as
// pg_stat_activity shows it.
const ListenerName = "gosessions listener"

// ErrNotListening is what Fence returns while the listener's connection is
// down: notifications may be lost, so nothing it heard can be trusted.
var ErrNotListening = errors.New("database: not listening")

// Listener receives PostgreSQL's notifications on a connection of its own
// (see Listen).
type Listener struct {
	db      *DB
	channel string
	notify  func(payload string)
	state   func(listening bool)

	mu      sync.Mutex
	up      bool
	waiting []chan error // fences asked for, not begun
	wake    func()       // interrupts the current wait for a notification

	stop context.CancelFunc
	done chan struct{}
}

// Listen receives PostgreSQL's notifications on channel, on a connection
// of its own, until Stop: notify gets each payload, in commit order.
// listening(true) is called once the LISTEN is in place, listening(false)
// when the connection is lost; notifications sent meanwhile are lost, so a
// listener must then assume anything changed. It reconnects by itself,
// with backoff (50 ms doubling to 2 s), and logs the first failure of each
// outage. Only a PostgreSQL DB opened from a URL (package
// database/postgres) can listen.
func (db *DB) Listen(channel string, notify func(payload string), listening func(bool)) (*Listener, error) {
	if db.Engine != PostgreSQL || db.url.pg == nil {
		return nil, errors.New("database: Listen needs a PostgreSQL database opened from its URL (package database/postgres)")
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &Listener{db: db, channel: channel, notify: notify, state: listening, stop: cancel, done: make(chan struct{})}
	go l.run(ctx)
	return l, nil
}

// Stop stops listening and waits until the connection is closed.
func (l *Listener) Stop() {
	l.stop()
	<-l.done
}

// Fence returns once every notification of every transaction that
// committed before Fence was called has been passed to notify: it waits
// for a round trip on the listening connection that began after the call
// (PostgreSQL delivers the notifications pending for a connection before
// it reports a query done). Concurrent fences share round trips. It
// returns ErrNotListening while the connection is down, and ctx's error
// if ctx ends first.
func (l *Listener) Fence(ctx context.Context) error {
	ch := make(chan error, 1)
	l.mu.Lock()
	if !l.up {
		l.mu.Unlock()
		return ErrNotListening
	}
	l.waiting = append(l.waiting, ch)
	wake := l.wake
	l.mu.Unlock()
	if wake != nil {
		wake()
	}
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run keeps a connection listening until ctx ends.
func (l *Listener) run(ctx context.Context) {
	defer close(l.done)
	backoff := 50 * time.Millisecond
	logged := false
	for {
		started := time.Now()
		err := l.listenOnce(ctx)
		l.setUp(false, err)
		if ctx.Err() != nil {
			return
		}
		if time.Since(started) > time.Minute {
			backoff, logged = 50*time.Millisecond, false // a new outage
		}
		if !logged {
			l.db.log.Warn("database: lost the connection that listens for session changes; the session cache is off until it is back", "channel", l.channel, "error", redact(err, l.db.url.secrets))
			logged = true
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// setUp records whether the connection listens; when it stops, the
// fences waiting fail, and the listener's owner is told.
func (l *Listener) setUp(up bool, err error) {
	l.mu.Lock()
	l.up = up
	var failed []chan error
	if !up {
		failed, l.waiting = l.waiting, nil
	}
	l.mu.Unlock()
	for _, ch := range failed {
		ch <- fmt.Errorf("%w: %v", ErrNotListening, err)
	}
	l.state(up)
}

// listenOnce connects, listens and delivers notifications and fences until
// the connection fails or ctx ends.
func (l *Listener) listenOnce(ctx context.Context) error {
	cfg := l.db.url.pg.Config.Copy()
	cfg.OnNotification = func(_ *pgconn.PgConn, n *pgconn.Notification) { l.notify(n.Payload) }
	// So that operators (and tests) can tell it in pg_stat_activity.
	cfg.RuntimeParams["application_name"] = ListenerName
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{l.channel}.Sanitize()).ReadAll(); err != nil {
		return err
	}
	l.setUp(true, nil)
	for {
		l.mu.Lock()
		fences := l.waiting
		l.waiting = nil
		wait, cancel := context.WithTimeout(ctx, listenPing)
		if len(fences) > 0 {
			cancel()
		} else {
			l.wake = cancel
		}
		l.mu.Unlock()

		if len(fences) > 0 {
			// The round trip: notifications committed before it arrive
			// (through OnNotification) before it completes.
			_, err := conn.Exec(ctx, "SELECT 1").ReadAll()
			for _, ch := range fences {
				ch <- err
			}
			if err != nil {
				return err
			}
			continue
		}
		err := conn.WaitForNotification(wait)
		cancel()
		l.mu.Lock()
		l.wake = nil
		l.mu.Unlock()
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, context.Canceled):
			// Woken for a fence.
		case errors.Is(err, context.DeadlineExceeded):
			// Quiet for a while: make sure the connection still works.
			if _, err := conn.Exec(ctx, "SELECT 1").ReadAll(); err != nil {
				return err
			}
		default:
			return err
		}
	}
}
