package sessiontest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app/session"
)

// IndexConfig describes an engine to [IndexCheck].
type IndexConfig struct {
	// Engine opens the engine's storage for the run, on the real clock;
	// its ModelEngine must have Open and Index.
	Engine func(t *testing.T) ModelEngine
	// Child, when not nil, returns a command that re-executes the test
	// binary to run [IndexCheckChild] on the same storage, with env
	// (ModelEngine.ChildEnv and IndexCheck's own) added to its
	// environment: the devices of a second OS process.
	Child func(t *testing.T, env []string) *exec.Cmd
}

// Environment of IndexCheck's child process.
const (
	envIndexDir  = "INDEXCHECK_CHILD_DIR"
	envIndexSeed = "INDEXCHECK_CHILD_SEED"
	// childEventsFile, in the child's directory, is its events.
	childEventsFile = "events.json"
)

// Fixed parameters of an index check.
const (
	indexUsers   = 2  // users, each with devices in every process
	indexDevices = 3  // devices of each user in each process
	indexOps     = 40 // operations of each device
)

// indexEvent is one operation of a device, with its start and end (the
// machine's clock, which every process reads).
type indexEvent struct {
	Kind   string   `json:"kind"`   // login, request, cycle, logout, signout, list
	User   string   `json:"user"`   // the device's user, the label
	Device string   `json:"device"` // process/user/device/login: one login's sessions
	Key    string   `json:"key"`    // the session the operation used
	NewKey string   `json:"new"`    // a login's session, a cycle's new key
	OK     bool     `json:"ok"`     // a request served, a cycle done
	Tried  string   `json:"tried"`  // the new key of a cycle that failed: stored, then taken back
	Keys   []string `json:"keys"`   // what a listing listed
	Start  int64    `json:"start"`
	End    int64    `json:"end"`
}

// IndexCheck runs devices of a few users, in this process and (with
// cfg.Child) in a second OS process, on one storage: each logs in, makes
// requests, cycles its key (a password change, a login again), logs out,
// signs out every other device of its user, and lists its user's
// sessions, at random. Every operation's start and end are recorded, and
// the run is checked:
//
//   - no signed-out session serves another request: a session of another
//     device of the user that existed when a "sign out all other
//     devices" began, or that a key cycle of such a session made while it
//     ran, is never served, nor cycled, by a request that starts after
//     the sign-out returned, nor listed by a listing that starts after it
//     (but for the new key of such a key cycle still in flight, stored
//     until the cycle finds its old record gone and takes it back);
//   - no dead session is listed: a listing never lists a session that had
//     certainly ended (logged out, moved to a new key, signed out, seen
//     gone by a request) before the listing began;
//   - no live session is missing: a listing lists every session of its
//     user that certainly lived throughout it;
//   - at the end, with nothing in flight, every process's index lists
//     exactly the sessions a load through it finds live for each user.
//
// make test runs one seed; with MODELCHECK_TIME it runs random seeds for
// that long (make modelcheck), and MODELCHECK_SEED replays one (the same
// operations; the interleaving is the scheduler's).
func IndexCheck(t *testing.T, cfg IndexConfig) {
	t.Helper()
	runs, ops, signOuts := 0, 0, 0
	for seed := range seeds(t) {
		ok := t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			events := indexRun(t, cfg, seed)
			ops += len(events)
			for _, e := range events {
				if e.Kind == "signout" {
					signOuts++
				}
			}
		})
		runs++
		if !ok {
			t.Logf("index check: stopped at run %d (seed %d)", runs, seed)
			return
		}
	}
	t.Logf("index check %s: %d %s, %d operations, %d sign-outs of all other devices: no signed-out session served, no listing wrong", t.Name(), runs, plural(runs, "run", "runs"), ops, signOuts)
}

// indexRun is one run of IndexCheck on a fresh storage; it returns the
// events of every process.
func indexRun(t *testing.T, cfg IndexConfig, seed uint64) []indexEvent {
	t.Helper()
	eng := cfg.Engine(t)
	var childEvents func() []indexEvent
	if cfg.Child != nil {
		dir := t.TempDir()
		cmd := cfg.Child(t, append(slices.Clone(eng.ChildEnv), envIndexDir+"="+dir, envIndexSeed+"="+strconv.FormatUint(seed, 10)))
		childEvents = startChild[indexEvent](t, "index check", seed, cmd, filepath.Join(dir, childEventsFile))
	}
	p := newIndexProcess(t, eng, 0)
	events := p.run(seed)
	if childEvents != nil {
		events = append(events, childEvents()...)
	}
	if t.Failed() {
		return events
	}
	if !checkIndexEvents(t, seed, events) {
		path := filepath.Join(os.TempDir(), fmt.Sprintf("indexcheck-%s-%d.json", sanitize(t.Name()), seed))
		if b, err := json.Marshal(events); err == nil && os.WriteFile(path, b, 0o644) == nil {
			t.Logf("index check: the events are in %s", path)
		}
	}
	p.final(seed, events)
	return events
}

// IndexCheckChild is the child process's side of [IndexCheck]: the test
// that cfg.Child runs calls it, with a cfg whose Engine opens the storage
// that ModelEngine.ChildEnv names. It reports false when the process is
// not such a child.
func IndexCheckChild(t *testing.T, cfg IndexConfig) bool {
	dir := os.Getenv(envIndexDir)
	if dir == "" {
		return false
	}
	seed, _ := strconv.ParseUint(os.Getenv(envIndexSeed), 10, 64)
	p := newIndexProcess(t, cfg.Engine(t), 1)
	leaveResults(t, filepath.Join(dir, childEventsFile), p.run(seed^0xc41d))
	return true
}

// indexProcess is one process's devices: two managers (and indexes) on
// stores of their own.
type indexProcess struct {
	t        *testing.T
	proc     int
	managers []*session.Manager
	indexes  []ModelIndex

	mu     sync.Mutex
	events []indexEvent
}

func newIndexProcess(t *testing.T, eng ModelEngine, proc int) *indexProcess {
	p := &indexProcess{t: t, proc: proc}
	for range 2 {
		idx := eng.Index()
		m, err := session.New(session.Config{
			Store: eng.Open(), SecretKey: "sessiontest secret key", Logger: slog.New(slog.DiscardHandler),
			StoreTimeout: 30 * time.Second, Watcher: idx,
		})
		if err != nil {
			t.Fatal(err)
		}
		p.managers, p.indexes = append(p.managers, m), append(p.indexes, idx)
	}
	return p
}

// run runs every device of the process to its end and returns the events.
func (p *indexProcess) run(seed uint64) []indexEvent {
	var wg sync.WaitGroup
	for u := range indexUsers {
		for d := range indexDevices {
			wg.Go(func() { p.device(seed, strconv.Itoa(u), d) })
		}
	}
	wg.Wait()
	return p.events
}

// device is one device of user: indexOps random operations.
func (p *indexProcess) device(seed uint64, user string, d int) {
	u, _ := strconv.Atoi(user)
	rng := rand.New(rand.NewPCG(seed, uint64(p.proc*1000+u*10+d)))
	m, idx := p.managers[d%2], p.indexes[d%2]
	ctx := context.Background()
	key, gen := "", 0
	for range indexOps {
		if p.t.Failed() {
			return
		}
		e := indexEvent{User: user, Device: fmt.Sprintf("%d/%s/%d/%d", p.proc, user, d, gen), Key: key, Start: time.Now().UnixNano()}
		n := rng.IntN(100)
		switch {
		case key == "":
			e.Kind = "login"
			s := m.Open(ctx, "")
			s.Set("user", user)
			if err := s.Save(); err != nil {
				p.t.Errorf("index check: login: %v", err)
				return
			}
			key, e.NewKey = s.Key(), s.Key()
		case n < 40:
			e.Kind = "request"
			s := m.Open(ctx, key)
			if ModelLabel(s.Items()) == user {
				s.Incr("n", 1)
				err := s.Save()
				switch {
				case err == nil:
					e.OK = true
				case !errors.Is(err, session.ErrInterrupted):
					p.t.Errorf("index check: request: %v", err)
					return
				}
			}
		case n < 55:
			e.Kind = "cycle"
			s := m.Open(ctx, key)
			if ModelLabel(s.Items()) == user {
				s.CycleKey()
				err := s.Save()
				switch {
				case err == nil:
					e.OK, e.NewKey = true, s.Key()
				case errors.Is(err, session.ErrInterrupted):
					if s.Key() != key {
						e.Tried = s.Key()
					}
				default:
					p.t.Errorf("index check: cycle: %v", err)
					return
				}
			}
		case n < 63:
			e.Kind = "logout"
			s := m.Open(ctx, key)
			s.Len()
			s.Flush()
			if err := s.Save(); err != nil {
				p.t.Errorf("index check: logout: %v", err)
				return
			}
		case n < 78:
			e.Kind = "signout"
			if _, err := idx.SignOutOthers(ctx, m, user, key); err != nil {
				p.t.Errorf("index check: sign out other devices: %v", err)
				return
			}
		default:
			e.Kind = "list"
			keys, err := idx.Listed(ctx, m, user)
			if err != nil {
				p.t.Errorf("index check: list: %v", err)
				return
			}
			e.Keys = keys
		}
		e.End = time.Now().UnixNano()
		switch {
		case e.Kind == "logout", e.Kind == "request" && !e.OK, e.Kind == "cycle" && !e.OK:
			key, gen = "", gen+1 // logged out, or found signed out: a new login next
		case e.NewKey != "":
			key = e.NewKey
		}
		p.mu.Lock()
		p.events = append(p.events, e)
		p.mu.Unlock()
	}
}

// final checks, with nothing in flight, that each index lists exactly
// the sessions a load finds live for each user.
func (p *indexProcess) final(seed uint64, events []indexEvent) {
	ctx := context.Background()
	keys := map[string]bool{}
	for _, e := range events {
		for _, k := range append([]string{e.Key, e.NewKey, e.Tried}, e.Keys...) {
			if k != "" {
				keys[k] = true
			}
		}
	}
	for i, idx := range p.indexes {
		m := p.managers[i]
		for u := range indexUsers {
			user := strconv.Itoa(u)
			want := map[string]bool{}
			for k := range keys {
				if _, data, err := m.Peek(ctx, k); err == nil && ModelLabel(data) == user {
					want[k] = true
				}
			}
			listed, err := idx.Listed(ctx, m, user)
			if err != nil {
				p.t.Fatal(err)
			}
			if len(listed) != len(want) {
				p.t.Errorf("index check (seed %d): at the end the index lists %d sessions of user %s, %d are live", seed, len(listed), user, len(want))
			}
			for _, k := range listed {
				if !want[k] {
					p.t.Errorf("index check (seed %d): at the end the index lists %s, not a live session of user %s", seed, short(k), user)
				}
			}
		}
	}
}

// keyLife is what the events say of one session key.
type keyLife struct {
	user, device string
	// made is the operation that created the key (a login, a cycle).
	made indexEvent
	// deaths are the operations that ended the key, or found it ended:
	// a logout of it, a cycle from it that succeeded, a request or a
	// cycle that found it gone.
	deaths []indexEvent
	// from is the key a cycle made this one from.
	from string
}

// checkIndexEvents checks the properties IndexCheck promises on events,
// and reports whether they hold.
func checkIndexEvents(t *testing.T, seed uint64, events []indexEvent) bool {
	t.Helper()
	ok := true
	lives := map[string]*keyLife{}
	for _, e := range events {
		if e.NewKey != "" {
			l := &keyLife{user: e.User, device: e.Device, made: e}
			if e.Kind == "cycle" {
				l.from = e.Key
			}
			lives[e.NewKey] = l
		}
		if e.Tried != "" {
			// Live for a moment within the cycle, gone by its end.
			lives[e.Tried] = &keyLife{user: e.User, device: e.Device, made: e, deaths: []indexEvent{e}, from: e.Key}
		}
	}
	for _, e := range events {
		l := lives[e.Key]
		if l == nil {
			continue
		}
		switch {
		case e.Kind == "logout", e.Kind == "cycle", e.Kind == "request" && !e.OK:
			l.deaths = append(l.deaths, e)
		}
	}
	fail := func(format string, args ...any) {
		ok = false
		t.Errorf("index check (seed %d: replay with %s=%d): %s", seed, EnvSeed, seed, fmt.Sprintf(format, args...))
	}

	// Sign-outs: the sessions they doom, and nothing of them served after.
	for _, s := range events {
		if s.Kind != "signout" {
			continue
		}
		doomed := map[string]bool{}
		for k, l := range lives {
			if l.user == s.User && l.device != s.Device && l.made.End < s.Start {
				doomed[k] = true
			}
		}
		for changed := true; changed; { // and the keys cycles of those made meanwhile
			changed = false
			for k, l := range lives {
				if !doomed[k] && l.from != "" && doomed[l.from] && l.made.Start < s.End {
					doomed[k], changed = true, true
				}
			}
		}
		for _, e := range events {
			if !doomed[e.Key] || e.Start <= s.End {
				continue
			}
			if (e.Kind == "request" || e.Kind == "cycle") && e.OK {
				fail("a %s of %s, signed out by device %s's sign-out of all other devices, succeeded after the sign-out returned", e.Kind, short(e.Key), s.Device)
			}
		}
		for _, e := range events {
			if e.Kind != "list" || e.User != s.User || e.Start <= s.End {
				continue
			}
			for _, k := range e.Keys {
				// The new key of a key cycle in flight is in the store
				// until the cycle finds its old record signed out and
				// takes it back: a listing meanwhile may see it; it never
				// serves a request (see above), and later listings do not
				// see it (below).
				if l := lives[k]; doomed[k] && !(l.made.Kind == "cycle" && !l.made.OK && e.Start < l.made.End) {
					fail("a listing of user %s that began after a sign-out of all other devices lists %s, which that sign-out ended", s.User, short(k))
				}
			}
		}
	}

	// Listings: nothing certainly dead, everything certainly live.
	for _, e := range events {
		if e.Kind != "list" {
			continue
		}
		listed := map[string]bool{}
		for _, k := range e.Keys {
			listed[k] = true
			l := lives[k]
			switch {
			case l == nil:
				fail("a listing of user %s lists %s, which no operation of the run made", e.User, short(k))
				continue
			case l.user != e.User:
				fail("a listing of user %s lists %s, a session of user %s", e.User, short(k), l.user)
			case l.made.Start > e.End:
				fail("a listing lists %s, made after the listing returned", short(k))
			}
			for _, d := range l.deaths {
				if d.End < e.Start {
					fail("a listing of user %s lists %s, which a %s ended (or found gone) before the listing began", e.User, short(k), d.Kind)
				}
			}
		}
		for k, l := range lives {
			if l.user != e.User || l.made.End >= e.Start || listed[k] {
				continue
			}
			// Certainly live throughout the listing: nothing that could
			// end it began before the listing ended.
			live := true
			for _, d := range l.deaths {
				if d.Start < e.End {
					live = false
				}
			}
			for _, s := range events {
				if s.Kind == "signout" && s.User == l.user && s.Device != l.device && s.Start < e.End {
					live = false // maybe signed out
				}
			}
			if live {
				fail("a listing of user %s misses %s, a session that lived throughout it", e.User, short(k))
			}
		}
	}
	return ok
}
