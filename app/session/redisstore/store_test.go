package redisstore_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/redisstore"
	"github.com/djangosessions/gosessions/app/session/sessiontest"
	"github.com/djangosessions/gosessions/internal/redistest"
)

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

const secret = "redisstore test secret key"

func manager(t testing.TB, s session.Store) *session.Manager {
	t.Helper()
	m, err := session.New(session.Config{
		Store:     s,
		SecretKey: secret,
		Logger:    slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestConformance runs the suite with the default grace: the suite's
// records that expired an hour ago are past it, so Redis never keeps them
// (Create over such a key succeeds; Update finds nothing).
func TestConformance(t *testing.T) {
	client := redistest.Client(t)
	sessiontest.Run(t, func(t *testing.T) session.Store {
		return redisstore.New(client, redisstore.WithPrefix(redistest.Prefix(t)))
	})
}

// TestConformanceLongGrace runs it with a grace of two days: expired
// records are still in Redis (Create replaces them; Update swaps them).
func TestConformanceLongGrace(t *testing.T) {
	client := redistest.Client(t)
	sessiontest.Run(t, func(t *testing.T) session.Store {
		return redisstore.New(client, redisstore.WithPrefix(redistest.Prefix(t)), redisstore.WithGrace(48*time.Hour))
	})
}

// TestIncrementsManyClients: managers on clients of their own (a
// connection pool each, as separate processes have) increment one
// counter concurrently; none is lost.
func TestIncrementsManyClients(t *testing.T) {
	prefix := redistest.Prefix(t)
	var managers []*session.Manager
	for range 4 {
		managers = append(managers, manager(t, redisstore.New(redistest.Client(t), redisstore.WithPrefix(prefix))))
	}
	key := sessiontest.NewSession(t, managers[0], map[string]any{"seed": "x"})
	sessiontest.Increment(t, managers, key, 200)
}

// TestRealProcesses runs writers in two real OS processes (this test
// binary, re-executed) on one Redis; no increment is lost.
func TestRealProcesses(t *testing.T) {
	if os.Getenv("REDISSTORE_CHILD_PREFIX") != "" {
		t.Skip("running as the child")
	}
	const perProcess = 100
	prefix := redistest.Prefix(t)
	m := manager(t, redisstore.New(redistest.Client(t), redisstore.WithPrefix(prefix)))
	key := sessiontest.NewSession(t, m, map[string]any{"n": 0})

	// The child finds the server through TEST_REDIS_URL, which Main set.
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "REDISSTORE_CHILD_PREFIX="+prefix, "REDISSTORE_CHILD_KEY="+key, "REDISSTORE_CHILD_N="+strconv.Itoa(perProcess))
	sessiontest.IncrementInTwoProcesses(t, m, key, perProcess, cmd)
}

// TestChildProcess is the other process of TestRealProcesses.
func TestChildProcess(t *testing.T) {
	prefix := os.Getenv("REDISSTORE_CHILD_PREFIX")
	if prefix == "" {
		t.Skip("only run by TestRealProcesses")
	}
	n, _ := strconv.Atoi(os.Getenv("REDISSTORE_CHILD_N"))
	m := manager(t, redisstore.New(redistest.Client(t), redisstore.WithPrefix(prefix)))
	sessiontest.IncrementAsChild(t, m, os.Getenv("REDISSTORE_CHILD_KEY"), n)
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// TestExpiry checks the expiry boundary with an injected clock (Redis's
// own clock plays no part), the exact round trip of expiry times, and the
// keys' TTL: expiry plus grace.
func TestExpiry(t *testing.T) {
	client := redistest.Client(t)
	prefix := redistest.Prefix(t)
	base := time.Now().Add(time.Hour).Truncate(time.Second)
	c := &clock{t: base}
	const grace = 10 * time.Minute
	s := redisstore.New(client, redisstore.WithPrefix(prefix), redisstore.WithClock(c.Now), redisstore.WithGrace(grace))
	ctx := t.Context()

	whole := session.Record{Key: session.NewKey(), Data: "whole", Expires: base.Add(time.Second)}
	frac := session.Record{Key: session.NewKey(), Data: "frac", Expires: base.Add(500*time.Millisecond + 250*time.Microsecond).In(time.FixedZone("UTC-3", -3*3600))}
	for _, rec := range []session.Record{whole, frac} {
		if err := s.Create(ctx, rec); err != nil {
			t.Fatal(err)
		}
		got, err := s.Load(ctx, rec.Key)
		if err != nil || !got.Expires.Equal(rec.Expires) || got.Data != rec.Data {
			t.Errorf("Load(%s) = %+v, %v; want %+v", rec.Key, got, err, rec)
		}
		// The key lives until the expiry plus the grace (by the store's
		// clock; Redis counts the TTL down from there).
		ttl, err := client.PTTL(ctx, prefix+rec.Key).Result()
		want := rec.Expires.Add(grace).Sub(base)
		if err != nil || ttl > want+time.Millisecond || ttl < want-5*time.Second {
			t.Errorf("PTTL(%s) = %v, %v; want about %v", rec.Key, ttl, err, want)
		}
	}

	tests := []struct {
		now        time.Time
		live, dead []string
	}{
		{base, []string{whole.Key, frac.Key}, nil},
		{base.Add(500_249 * time.Microsecond), []string{whole.Key, frac.Key}, nil},
		// Expired at its expiry exactly, like Django's expire_date > now.
		{base.Add(500_250 * time.Microsecond), []string{whole.Key}, []string{frac.Key}},
		{base.Add(time.Second - time.Microsecond), []string{whole.Key}, []string{frac.Key}},
		{base.Add(time.Second), nil, []string{whole.Key, frac.Key}},
		{base.Add(time.Hour), nil, []string{whole.Key, frac.Key}},
	}
	for _, tt := range tests {
		c.Set(tt.now)
		for _, key := range tt.live {
			if _, err := s.Load(ctx, key); err != nil {
				t.Errorf("at %v: Load(%s) = %v, want the record", tt.now, key, err)
			}
		}
		for _, key := range tt.dead {
			if _, err := s.Load(ctx, key); !errors.Is(err, session.ErrNotFound) {
				t.Errorf("at %v: Load(%s) = %v, want ErrNotFound", tt.now, key, err)
			}
		}
	}

	// With the clock past expiry plus grace, a write keeps nothing.
	c.Set(base.Add(time.Hour))
	gone := session.Record{Key: session.NewKey(), Data: "gone", Expires: base}
	if err := s.Create(ctx, gone); err != nil {
		t.Fatal(err)
	}
	if n, err := client.Exists(ctx, prefix+gone.Key).Result(); err != nil || n != 0 {
		t.Errorf("a record past its grace was stored: EXISTS = %d, %v", n, err)
	}
}

// TestUnreachable: with Redis frozen, every method fails (a fault, not a
// result) within the client's timeouts or the context's deadline,
// whichever is shorter, and works again once Redis is back.
func TestUnreachable(t *testing.T) {
	srv := redistest.Start(t)
	// quick has short timeouts; slow has long ones, so that only the
	// context's deadline can end its calls.
	newClient := func(timeout time.Duration) *redis.Client {
		opt := redistest.Options(t, srv.URL())
		opt.ReadTimeout, opt.WriteTimeout, opt.DialTimeout = timeout, timeout, timeout
		opt.MaxRetries = -1
		c := redis.NewClient(opt)
		t.Cleanup(func() { c.Close() })
		return c
	}
	quick, slow := redisstore.New(newClient(200*time.Millisecond)), redisstore.New(newClient(time.Minute))
	rec := session.Record{Key: session.NewKey(), Data: "v1", Expires: time.Now().Add(time.Hour)}
	if err := quick.Create(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	slow.Check(t.Context()) // a connection in its pool

	srv.Pause(t)
	defer srv.Resume(t)
	next := rec
	next.Data = "v2"
	calls := map[string]func(ctx context.Context, s *redisstore.Store) error{
		"Load": func(ctx context.Context, s *redisstore.Store) error { _, err := s.Load(ctx, rec.Key); return err },
		"Create": func(ctx context.Context, s *redisstore.Store) error {
			return s.Create(ctx, session.Record{Key: session.NewKey(), Data: "x", Expires: rec.Expires})
		},
		"Update": func(ctx context.Context, s *redisstore.Store) error { return s.Update(ctx, next, "v1") },
		"Delete": func(ctx context.Context, s *redisstore.Store) error { return s.Delete(ctx, rec.Key, "v1") },
		"Check":  func(ctx context.Context, s *redisstore.Store) error { return s.Check(ctx) },
		"Each": func(ctx context.Context, s *redisstore.Store) error {
			return s.Each(ctx, func(session.Record) error { return nil })
		},
	}
	for name, call := range calls {
		start := time.Now()
		err := call(context.Background(), quick)
		if err == nil || errors.Is(err, session.ErrNotFound) || errors.Is(err, session.ErrExists) || errors.Is(err, session.ErrConflict) {
			t.Errorf("%s on a frozen Redis = %v, want a fault", name, err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%s on a frozen Redis took %v with a 200 ms read timeout", name, d)
		}

		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		start = time.Now()
		err = call(ctx, slow)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s on a frozen Redis with a 50 ms deadline = %v, want context.DeadlineExceeded", name, err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%s on a frozen Redis took %v with a 50 ms deadline: the deadline was ignored", name, d)
		}
	}

	srv.Resume(t)
	got, err := quick.Load(t.Context(), rec.Key)
	if err != nil || got.Data != "v1" {
		t.Errorf("Load once Redis is back = %+v, %v; want the record unchanged", got, err)
	}
}

// TestEach walks every record in batches, expired ones in their grace
// included, and nothing under another prefix.
func TestEach(t *testing.T) {
	client := redistest.Client(t)
	prefix := redistest.Prefix(t)
	s := redisstore.New(client, redisstore.WithPrefix(prefix))
	other := redisstore.New(client, redisstore.WithPrefix(prefix[:len(prefix)-1]+"x:"))
	ctx := t.Context()
	now := time.Now()
	want := map[string]session.Record{}
	n := redisstore.EachBatch*2 + 17
	for i := range n {
		rec := session.Record{Key: session.NewKey(), Data: "d" + strconv.Itoa(i), Expires: now.Add(time.Duration(i-5) * time.Minute).Truncate(time.Millisecond)}
		if err := s.Create(ctx, rec); err != nil {
			t.Fatal(err)
		}
		want[rec.Key] = rec
	}
	if err := other.Create(ctx, session.Record{Key: session.NewKey(), Data: "other", Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	got := map[string]session.Record{}
	if err := s.Each(ctx, func(rec session.Record) error { got[rec.Key] = rec; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("Each saw %d records, want %d", len(got), len(want))
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || g.Data != w.Data || !g.Expires.Equal(w.Expires) {
			t.Errorf("Each gave %+v for %s, want %+v", g, k, w)
		}
	}

	// An error from fn stops the walk and comes back.
	stop := errors.New("stop")
	calls := 0
	err := s.Each(ctx, func(session.Record) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("Each with a failing fn = %v after %d calls, want stop after 1", err, calls)
	}

	// A prefix with glob characters matches itself only.
	glob := redisstore.New(client, redisstore.WithPrefix(prefix+"[*]:"))
	if err := glob.Create(ctx, session.Record{Key: "k", Data: "g", Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	var keys []string
	if err := glob.Each(ctx, func(rec session.Record) error { keys = append(keys, rec.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys, []string{"k"}) {
		t.Errorf("Each under a prefix with glob characters saw %v, want [k]", keys)
	}
}

func TestCheck(t *testing.T) {
	s := redisstore.New(redistest.Client(t), redisstore.WithPrefix(redistest.Prefix(t)))
	if err := s.Check(t.Context()); err != nil {
		t.Errorf("Check = %v", err)
	}
	dead := redisstore.New(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1}))
	if err := dead.Check(t.Context()); err == nil {
		t.Error("Check on a closed port succeeded")
	}
}

// TestUpdateNotRunTwice: when Redis answers an update too late, go-redis
// retries commands on a fresh connection; a compare-and-swap run twice
// would report its own write as a conflict and the manager would replay
// the increment on top of itself. Updates run at most once: the late
// one fails (a fault), and the counter never counts one request twice.
func TestUpdateNotRunTwice(t *testing.T) {
	srv := redistest.Start(t)
	opt := redistest.Options(t, srv.URL())
	opt.ReadTimeout = 100 * time.Millisecond
	opt.MaxRetries = 5
	client := redis.NewClient(opt)
	defer client.Close()
	blocker := redistest.ClientFor(t, srv.URL())
	s := redisstore.New(client)
	m := manager(t, s)
	key := sessiontest.NewSession(t, m, map[string]any{"n": 0})

	saves := 0
	for range 3 {
		sess := m.Open(t.Context(), key)
		sess.Len() // loaded before Redis stalls
		sess.Incr("n", 1)
		// DEBUG SLEEP blocks Redis a little longer than the read
		// timeout: the update is answered too late, and a retry would
		// reach Redis while it still runs the first attempt's queue.
		slept := make(chan error, 1)
		go func() { slept <- blocker.Do(context.Background(), "debug", "sleep", "0.15").Err() }()
		waitBlocked(t, srv.URL())
		if err := sess.Save(); err == nil {
			saves++
		}
		if err := <-slept; err != nil {
			t.Fatal(err)
		}
	}
	got := m.Open(t.Context(), key).GetInt("n", -1)
	if got > 3 || got < saves {
		t.Errorf("n = %d after 3 increments (%d reported saved): an update ran twice or got lost", got, saves)
	}
}

// waitBlocked waits until Redis stops answering (DEBUG SLEEP took hold).
func waitBlocked(t *testing.T, url string) {
	t.Helper()
	opt := redistest.Options(t, url)
	opt.ReadTimeout, opt.MaxRetries = 20*time.Millisecond, -1
	probe := redis.NewClient(opt)
	defer probe.Close()
	for range 500 {
		if err := probe.Ping(context.Background()).Err(); err != nil {
			return
		}
	}
	t.Fatal("Redis never blocked")
}

func TestParseURL(t *testing.T) {
	opt, err := redisstore.ParseURL("redis://:hunter2@127.0.0.1:6380/3")
	if err != nil {
		t.Fatal(err)
	}
	if opt.Addr != "127.0.0.1:6380" || opt.DB != 3 || opt.Password != "hunter2" {
		t.Errorf("ParseURL = addr %s db %d password %q", opt.Addr, opt.DB, opt.Password)
	}
	if opt.DialTimeout != redisstore.RecommendedDialTimeout || opt.ReadTimeout != redisstore.RecommendedReadTimeout ||
		opt.WriteTimeout != redisstore.RecommendedWriteTimeout || opt.PoolTimeout != redisstore.RecommendedPoolTimeout || !opt.ContextTimeoutEnabled {
		t.Errorf("ParseURL timeouts = %v %v %v %v %v, want the recommended ones and context deadlines on",
			opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout, opt.PoolTimeout, opt.ContextTimeoutEnabled)
	}
	opt, err = redisstore.ParseURL("rediss://h:1/0?read_timeout=2s")
	if err != nil || opt.ReadTimeout != 2*time.Second || opt.TLSConfig == nil {
		t.Errorf("ParseURL with read_timeout = %+v, %v; want the URL's 2s and TLS", opt, err)
	}
	for _, bad := range []string{"redis://:hunter2@host:notaport/0", "http://:hunter2@host/0", "redis://:hunter2@host/x", "redis://:hunter2@host/0?what=1"} {
		_, err := redisstore.ParseURL(bad)
		if err == nil {
			t.Errorf("ParseURL(%q) succeeded", bad)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "hunter2") || strings.Contains(msg, "\n") {
			t.Errorf("ParseURL(%q) = %q: want one line without the password", bad, msg)
		}
	}
}
