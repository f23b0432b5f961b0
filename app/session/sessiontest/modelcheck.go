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
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/djangosessions/gosessions/app/session"
)

// ModelConfig describes an engine to [ModelCheck].
type ModelConfig struct {
	// Engine prepares the engine's storage for one history, whose clock
	// is now (every store's expiry must follow it: session.Config.Now is
	// set to it, and the stores' WithClock must be too), and returns how
	// to open stores on it and reach behind their backs.
	Engine func(t *testing.T, now func() time.Time) ModelEngine
	// BypassWindow: the engine documents that a write behind its back
	// may be served stale for a while (redisstore.CachedStore: for at
	// most WithMaxAge after the entry was cached, and until a write
	// through the store touches the key). The model then lets a load
	// after ModelEngine.Expire return the data as it was before. No other
	// staleness is allowed.
	BypassWindow bool
	// Processes is how many stores (simulated processes) ModelCheck
	// opens, each with its own session.Manager; 3 when 0.
	Processes int
	// Child, when not nil, returns a command that re-executes the test
	// binary to run [ModelCheckChild] on the same storage, with env
	// (ModelEngine.ChildEnv and ModelCheck's own) added to its
	// environment: a real second OS process, whose history is merged
	// with this process's. Clock jumps need every operation stopped, so
	// runs with a child process make none.
	Child func(t *testing.T, env []string) *exec.Cmd
}

// ModelEngine is an engine's storage for one history.
type ModelEngine struct {
	// Open returns one more store on the storage, as one more process
	// would open it (connections and caches of its own); a store without
	// shared storage (memstore) returns the same store each time.
	Open func() session.Store
	// Expire, when not nil, moves the expiry of key's record to at
	// directly in the storage, behind every store's back (raw SQL, a
	// Redis command), as an operator ending a session would; a missing
	// key is not an error.
	Expire func(ctx context.Context, key string, at time.Time) error
	// ChildEnv is what a child process needs to open the same storage
	// (with ModelConfig.Child).
	ChildEnv []string
	// Index, when not nil, returns the per-user index of one more process
	// on the storage (package usersessions, through internal/indextest in
	// this repository), which that process's manager feeds (its Watcher)
	// and ModelCheck checks: whenever no operation is in flight, what each
	// process's index lists for a label must be exactly the sessions a
	// load through that process finds live with that label, no more and
	// no less; meanwhile listings run concurrently with the operations.
	// Labels are ModelLabel's.
	Index func() ModelIndex
}

// ModelIndex is an index of sessions by label, as ModelCheck and
// IndexCheck drive it: the session managers' Watcher, its listing, and its
// sign-out of every other device.
type ModelIndex interface {
	session.Watcher
	// Listed returns the keys of the sessions the index lists for label,
	// checked through m.
	Listed(ctx context.Context, m *session.Manager, label string) ([]string, error)
	// SignOutOthers ends every session of label but those of the device
	// of the session current, through m, and returns how many it ended.
	SignOutOthers(ctx context.Context, m *session.Manager, label, current string) (int, error)
}

// ModelLabel is the label of the model's sessions: their "user", which a
// key cycle (a login) sets; "" for none. An index under test labels
// with it.
func ModelLabel(data map[string]any) string {
	switch v := data["user"].(type) {
	case json.Number:
		return v.String()
	case string:
		return v
	}
	return ""
}

// modelUsers are the labels the model's logins give.
var modelUsers = []string{"0", "1", "2"}

// Environment variables of ModelCheck.
const (
	// EnvSeed replays one seed (the operations of a run, not the
	// interleaving the scheduler chose: replay a failing seed a few
	// times).
	EnvSeed = "MODELCHECK_SEED"
	// EnvTime runs histories with random seeds for this long (a Go
	// duration: 2m), per engine, instead of one short run with a fixed
	// seed.
	EnvTime = "MODELCHECK_TIME"
	// EnvOps sets the operations per history.
	EnvOps = "MODELCHECK_OPS"
)

// Fixed parameters of a history.
const (
	modelSlots    = 3   // sessions the clients share
	modelClients  = 6   // concurrent clients in this process
	modelFixed    = 1   // the seed of make test's short run
	modelOps      = 240 // operations per history in make test
	modelRound    = 8   // operations of each client between two possible clock jumps
	modelCheckFor = time.Minute
	cookieAge     = time.Hour
)

// ModelCheck runs random concurrent operations on a few shared sessions
// through several session.Managers over the engine (and a child OS
// process with cfg.Child), records each call's start, end, input and
// output, and checks the history with a linearizability checker
// (porcupine) against a sequential model of a session store: a key maps
// to its data; a cycle moves the data to a new key; a save of a session
// deleted meanwhile returns ErrInterrupted and changes nothing (an update
// or a cycle never brings a deleted session back); an expired session
// reads as absent; and every read returns the latest write (no lost
// update, no stale read), but for what cfg.BypassWindow allows.
//
// The operations: load and read, Set, Incr, an update of several keys,
// Delete of a key, CycleKey with a login's Set, Flush, the store's
// unconditional Delete (a logout by manage), a revoke (Load, then a
// conditional Delete until deleted or gone), an expiry moved into the
// past behind the stores' backs (cfg.Expire), and the clock (Config.Now
// and the stores' clocks) moved past every session's expiry.
//
// By default it checks one history of a fixed seed (make test); with
// MODELCHECK_TIME it checks histories of random seeds for that long, and
// with MODELCHECK_SEED it replays one seed. A failing history's seed is
// in the failure, and the history is written as an HTML visualization.
func ModelCheck(t *testing.T, cfg ModelConfig) {
	t.Helper()
	ops := modelOps
	if v, err := strconv.Atoi(os.Getenv(EnvOps)); err == nil && v > 0 {
		ops = v
	}
	histories, total := 0, 0
	indexNote := ""
	for seed := range seeds(t) {
		// A subtest per history: the engine's storage of each is
		// released when it ends (its cleanups).
		n, ok, indexed := 0, false, false
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			n, ok, indexed = checkHistory(t, cfg, seed, ops)
		})
		if indexed {
			indexNote = ", and the per-user index exact whenever none was in flight"
		}
		histories++
		total += n
		if !ok {
			t.Logf("model check: stopped at history %d (seed %d), after %d operations", histories, seed, total)
			return
		}
	}
	t.Logf("model check %s: %d %s, %d operations, every one linearizable%s", t.Name(), histories, plural(histories, "history", "histories"), total, indexNote)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// clock is the shared, settable clock of a history.
type clock struct{ ns atomic.Int64 }

func (c *clock) Now() time.Time { return time.Unix(0, c.ns.Load()) }

// jar is the slots' current session keys, shared by the clients (a
// browser's cookie jar): in memory, or in files when an OS process
// shares it.
type jar interface {
	get(slot int) string
	set(slot int, key string)
}

type memJar struct {
	mu   sync.Mutex
	keys [modelSlots]string
}

func (j *memJar) get(slot int) string { j.mu.Lock(); defer j.mu.Unlock(); return j.keys[slot] }
func (j *memJar) set(slot int, key string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.keys[slot] = key
}

// fileJar keeps each slot's key in a file of dir, replaced atomically.
type fileJar struct{ dir string }

func (j fileJar) get(slot int) string {
	b, _ := os.ReadFile(filepath.Join(j.dir, strconv.Itoa(slot)))
	return string(b)
}

func (j fileJar) set(slot int, key string) {
	tmp, err := os.CreateTemp(j.dir, "tmp")
	if err != nil {
		return
	}
	tmp.WriteString(key)
	tmp.Close()
	os.Rename(tmp.Name(), filepath.Join(j.dir, strconv.Itoa(slot)))
}

// recorded is one operation of the history.
type recorded struct {
	Client int    `json:"client"`
	In     input  `json:"in"`
	Out    output `json:"out"`
	Call   int64  `json:"call"`
	Return int64  `json:"return"`
}

// runner runs one process's side of a history.
type runner struct {
	t        *testing.T
	cfg      ModelConfig
	engine   ModelEngine
	clock    *clock
	jar      jar
	stores   []session.Store
	managers []*session.Manager
	indexes  []ModelIndex // one per manager, with ModelEngine.Index

	mu          sync.Mutex
	history     []recorded
	failed      atomic.Bool
	indexFailed atomic.Bool // failed by an index check, which said why
}

func newRunner(t *testing.T, cfg ModelConfig, c *clock, j jar) *runner {
	r := &runner{t: t, cfg: cfg, engine: cfg.Engine(t, c.Now), clock: c, jar: j}
	n := cfg.Processes
	if n <= 0 {
		n = 3
	}
	for range n {
		st := r.engine.Open()
		cfg := session.Config{
			Store: st, SecretKey: "sessiontest secret key", Logger: slog.New(slog.DiscardHandler),
			Now: c.Now, CookieAge: cookieAge, StoreTimeout: 30 * time.Second,
		}
		if r.engine.Index != nil {
			idx := r.engine.Index()
			cfg.Watcher = idx
			r.indexes = append(r.indexes, idx)
		}
		m, err := session.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		r.stores, r.managers = append(r.stores, st), append(r.managers, m)
	}
	return r
}

// checkIndex checks, with no operation in flight, that every process's
// index lists for each label exactly the sessions that a load through
// that process finds live with that label, among keys (every key the
// history used): no live session missing, no dead one listed.
func (r *runner) checkIndex(ctx context.Context, seed uint64, keys map[string]bool) bool {
	ok := true
	for p, idx := range r.indexes {
		m := r.managers[p]
		truth := map[string]map[string]bool{}
		for k := range keys {
			_, data, err := m.Peek(ctx, k)
			if errors.Is(err, session.ErrNotFound) {
				continue
			}
			if err != nil {
				r.fault("index check: load", err)
				return false
			}
			if l := ModelLabel(data); l != "" {
				if truth[l] == nil {
					truth[l] = map[string]bool{}
				}
				truth[l][k] = true
			}
		}
		for _, l := range modelUsers {
			listed, err := idx.Listed(ctx, m, l)
			if err != nil {
				r.fault("index check: list", err)
				return false
			}
			seen := map[string]bool{}
			for _, k := range listed {
				seen[k] = true
				if !truth[l][k] {
					ok = false
					r.t.Errorf("model check: seed %d: process %d's index lists %s under %q, which is not a live session of %q (replay with %s=%d)", seed, p, short(k), l, l, EnvSeed, seed)
				}
			}
			for k := range truth[l] {
				if !seen[k] {
					ok = false
					r.t.Errorf("model check: seed %d: process %d's index misses %s, a live session of %q (replay with %s=%d)", seed, p, short(k), l, EnvSeed, seed)
				}
			}
		}
	}
	return ok
}

// historyKeys returns every session key the history used.
func historyKeys(history []recorded) map[string]bool {
	keys := map[string]bool{}
	for _, h := range history {
		for _, k := range []string{h.In.Key, h.Out.NewKey} {
			if k != "" {
				keys[k] = true
			}
		}
	}
	return keys
}

// list runs a listing of a random label through a random process, while
// operations are in flight: its answer is not checked (only a fault is),
// but it drops dead entries concurrently with the writes, which the
// checks between rounds then vouch for.
func (r *runner) list(ctx context.Context, rng *rand.Rand) {
	if len(r.indexes) == 0 {
		return
	}
	p := rng.IntN(len(r.indexes))
	if _, err := r.indexes[p].Listed(ctx, r.managers[p], modelUsers[rng.IntN(len(modelUsers))]); err != nil {
		r.fault("list", err)
	}
}

func (r *runner) record(client int, in input, call int64, out output) {
	ret := time.Now().UnixNano()
	r.mu.Lock()
	r.history = append(r.history, recorded{Client: client, In: in, Out: out, Call: call, Return: ret})
	r.mu.Unlock()
}

// fault fails the history: a store fault is not a result the model knows.
func (r *runner) fault(what string, err error) {
	r.failed.Store(true)
	r.t.Errorf("model check: %s: %v", what, err)
}

// canonical is data as the model keeps it: JSON, keys sorted.
func canonical(data map[string]any) string {
	b, err := json.Marshal(data)
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return string(b)
}

// newSession stores a session for slot through m, recorded.
func (r *runner) newSession(client, slot int) {
	in := input{Kind: opSet, Slot: slot, Values: map[string]string{"slot": strconv.Itoa(slot)}}
	call := time.Now().UnixNano()
	s := r.managers[0].Open(context.Background(), "")
	s.Set("slot", slot)
	if err := s.Save(); err != nil {
		r.fault("create a session", err)
		return
	}
	r.record(client, in, call, output{NewKey: s.Key()})
	r.jar.set(slot, s.Key())
}

// do runs one random operation of client on a random slot.
func (r *runner) do(ctx context.Context, rng *rand.Rand, client int) {
	slot := rng.IntN(modelSlots)
	key := r.jar.get(slot)
	p := client % len(r.managers)
	m, st := r.managers[p], r.stores[p]
	val := func() string { return strconv.Itoa(rng.IntN(3)) }
	in := input{Slot: slot, Key: key}
	call := time.Now().UnixNano()
	var out output
	n := rng.IntN(100)
	switch {
	case n < 30:
		in.Kind = opRead
		s := m.Open(ctx, key)
		out.Data = canonical(s.Items())
		out.Loaded = s.Key() != ""
		if err := s.Err(); err != nil {
			r.fault("load", err)
			return
		}
	case n < 45, n < 53, n < 61, n < 65, n < 74:
		s := m.Open(ctx, key)
		s.Len()
		if err := s.Err(); err != nil {
			r.fault("load", err)
			return
		}
		out.Loaded = s.Key() != ""
		switch {
		case n < 45:
			// Now and then the user, on the same key (no login's cycle):
			// the index must follow a label that changes under a key.
			in.Kind, in.Values = opSet, map[string]string{[]string{"a", "b", "a", "b", "user"}[rng.IntN(5)]: val()}
			for k, v := range in.Values {
				s.Set(k, jsonValue(v))
			}
		case n < 53:
			in.Kind, in.Values = opIncr, map[string]string{"n": ""}
			s.Incr("n", 1)
		case n < 61:
			in.Kind, in.Values = opUpdate, map[string]string{"a": val(), "b": val(), "c": strconv.Quote("x" + val())}
			u := map[string]any{}
			for k, v := range in.Values {
				u[k] = jsonValue(v)
			}
			s.Update(u)
		case n < 65:
			in.Kind, in.Values = opPop, map[string]string{"a": ""}
			s.Delete("a")
		default:
			in.Kind, in.Values = opCycle, map[string]string{"user": val()}
			s.CycleKey()
			s.Set("user", jsonValue(in.Values["user"]))
		}
		err := s.Save()
		switch {
		case errors.Is(err, session.ErrInterrupted):
			out.Err = "interrupted"
		case err != nil:
			r.fault(string(in.Kind), err)
			return
		}
		out.NewKey = s.Key()
		if err == nil && out.NewKey != "" && out.NewKey != key {
			r.jar.set(slot, out.NewKey)
		}
	case n < 80:
		in.Kind = opFlush
		s := m.Open(ctx, key)
		s.Len()
		out.Loaded = s.Key() != ""
		s.Flush()
		if err := s.Save(); err != nil {
			r.fault("flush", err)
			return
		}
	case n < 84:
		in.Kind = opStoreDelete
		if err := st.Delete(ctx, key, ""); err != nil {
			r.fault("store delete", err)
			return
		}
	case n < 92:
		in.Kind = opRevoke
		out.Revoke = r.revoke(ctx, m, st, key, &out)
		if out.Revoke == "" {
			return
		}
	default:
		if r.engine.Expire == nil {
			return // not this engine's
		}
		in.Kind = opExpire
		if err := r.engine.Expire(ctx, key, r.clock.Now().Add(-time.Minute)); err != nil {
			r.fault("expire", err)
			return
		}
	}
	r.record(client, in, call, out)
}

// revoke is manage sessions revoke's loop on one key: Load, then the
// conditional Delete of the data read, again after a conflict.
func (r *runner) revoke(ctx context.Context, m *session.Manager, st session.Store, key string, out *output) string {
	for range 100 {
		rec, err := st.Load(ctx, key)
		if errors.Is(err, session.ErrNotFound) {
			return "absent"
		}
		if err != nil {
			r.fault("revoke: load", err)
			return ""
		}
		data, err := m.Decode(rec.Data)
		if err != nil {
			r.fault("revoke: decode", err)
			return ""
		}
		switch err := st.Delete(ctx, key, rec.Data); {
		case err == nil:
			out.Data = canonical(data)
			return "deleted"
		case errors.Is(err, session.ErrNotFound):
			return "gone"
		case !errors.Is(err, session.ErrConflict):
			r.fault("revoke: delete", err)
			return ""
		}
	}
	r.fault("revoke", errors.New("100 conflicts in a row"))
	return ""
}

// clients runs n clients (ids from base) for ops operations in all, in
// rounds; between rounds, when jumps, the clock may move past every
// expiry with no operation in flight.
func (r *runner) clients(seed uint64, base, n, ops int, jumps bool) {
	rngs := make([]*rand.Rand, n)
	for i := range rngs {
		rngs[i] = rand.New(rand.NewPCG(seed, uint64(base+i)))
	}
	driver := rand.New(rand.NewPCG(seed, 1<<32))
	lister := rand.New(rand.NewPCG(seed, 1<<33))
	ctx := context.Background()
	for done := 0; done < ops && !r.failed.Load(); {
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				for range modelRound {
					r.do(ctx, rngs[i], base+i)
				}
			})
		}
		if len(r.indexes) > 0 {
			wg.Go(func() {
				for range modelRound / 2 {
					r.list(ctx, lister)
				}
			})
		}
		wg.Wait()
		done += n * modelRound
		if jumps && len(r.indexes) > 0 && !r.failed.Load() {
			// No operation in flight (jumps: no other process either).
			r.mu.Lock()
			keys := historyKeys(r.history)
			r.mu.Unlock()
			if !r.checkIndex(ctx, seed, keys) {
				r.indexFailed.Store(true)
				r.failed.Store(true)
			}
		}
		if jumps && driver.IntN(4) == 0 {
			call := time.Now().UnixNano()
			r.clock.ns.Add(int64(2 * cookieAge))
			r.record(base, input{Kind: opClockJump, Slot: -1}, call, output{})
		}
	}
}

// Environment of a child process.
const (
	envChildDir   = "MODELCHECK_CHILD_DIR"
	envChildSeed  = "MODELCHECK_CHILD_SEED"
	envChildClock = "MODELCHECK_CHILD_CLOCK"
	envChildOps   = "MODELCHECK_CHILD_OPS"
	childClients  = 100 // the child's client ids start here
	// childHistoryFile, in the child's directory, is its history.
	childHistoryFile = "history.json"
)

// checkHistory runs and checks one history; it returns its number of
// operations, whether it passed, and whether it checked an index.
func checkHistory(t *testing.T, cfg ModelConfig, seed uint64, ops int) (int, bool, bool) {
	t.Helper()
	c := &clock{}
	c.ns.Store(time.Now().Truncate(time.Second).UnixNano())
	var j jar = &memJar{}
	var dir string
	if cfg.Child != nil {
		dir = t.TempDir()
		j = fileJar{dir}
	}
	r := newRunner(t, cfg, c, j)
	for slot := range modelSlots {
		r.newSession(0, slot)
	}
	var childHistory func() []recorded
	if cfg.Child != nil {
		cmd := cfg.Child(t, append(slices.Clone(r.engine.ChildEnv),
			envChildDir+"="+dir, envChildSeed+"="+strconv.FormatUint(seed, 10),
			envChildClock+"="+strconv.FormatInt(c.ns.Load(), 10), envChildOps+"="+strconv.Itoa(ops/2),
		))
		childHistory = startChild[recorded](t, "model check", seed, cmd, filepath.Join(dir, childHistoryFile))
	}
	r.clients(seed, 1, modelClients, ops, cfg.Child == nil)
	history := r.history
	if childHistory != nil {
		history = append(history, childHistory()...)
	}
	indexed := len(r.indexes) > 0
	if indexed && !r.failed.Load() && !r.checkIndex(context.Background(), seed, historyKeys(history)) {
		return len(history), false, indexed
	}
	if r.failed.Load() {
		if !r.indexFailed.Load() {
			t.Errorf("model check: seed %d: a store fault stopped the history (replay with %s=%d)", seed, EnvSeed, seed)
		}
		return len(history), false, indexed
	}
	return len(history), check(t, cfg, seed, history), indexed
}

// check checks history against the model.
func check(t *testing.T, cfg ModelConfig, seed uint64, history []recorded) bool {
	t.Helper()
	ops := make([]porcupine.Operation, len(history))
	for i, h := range history {
		ops[i] = porcupine.Operation{ClientId: h.Client, Input: h.In, Output: h.Out, Call: h.Call, Return: h.Return}
	}
	model := modelOptions{bypassWindow: cfg.BypassWindow}.porcupineModel()
	res, info := porcupine.CheckOperationsVerbose(model, ops, modelCheckFor)
	switch res {
	case porcupine.Ok:
		return true
	case porcupine.Unknown:
		t.Logf("model check: seed %d: the checker gave up after %v (not counted as a failure)", seed, modelCheckFor)
		return true
	}
	path := filepath.Join(os.TempDir(), fmt.Sprintf("modelcheck-%s-%d.html", sanitize(t.Name()), seed))
	if err := porcupine.VisualizePath(model, info, path); err != nil {
		path = "(not written: " + err.Error() + ")"
	}
	raw := filepath.Join(os.TempDir(), fmt.Sprintf("modelcheck-%s-%d.json", sanitize(t.Name()), seed))
	if b, err := json.Marshal(history); err == nil {
		os.WriteFile(raw, b, 0o644)
	}
	t.Errorf("model check: seed %d: the history of %d operations is not linearizable: no order of them is a run of a session store "+
		"(replay the seed with %s=%d; visualization %s, history %s)", seed, len(history), EnvSeed, seed, path, raw)
	return false
}

func sanitize(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	return string(b)
}

// ModelCheckChild is the child process's side of [ModelCheck] with
// cfg.Child: the test that cfg.Child runs calls it, with a cfg whose
// Engine opens the storage that ModelEngine.ChildEnv names. It reports
// false when the process is not such a child (the test then returns).
// It runs its clients on the same storage and sessions and leaves its
// history for the parent.
func ModelCheckChild(t *testing.T, cfg ModelConfig) bool {
	dir := os.Getenv(envChildDir)
	if dir == "" {
		return false
	}
	seed, _ := strconv.ParseUint(os.Getenv(envChildSeed), 10, 64)
	ns, _ := strconv.ParseInt(os.Getenv(envChildClock), 10, 64)
	ops, _ := strconv.Atoi(os.Getenv(envChildOps))
	c := &clock{}
	c.ns.Store(ns)
	r := newRunner(t, cfg, c, fileJar{dir})
	r.clients(seed^0x5eed, childClients, modelClients/2, ops, false)
	leaveResults(t, filepath.Join(dir, childHistoryFile), r.history)
	return true
}

// jsonValue is the value whose JSON text is v.
func jsonValue(v string) any {
	d := json.NewDecoder(strings.NewReader(v))
	d.UseNumber()
	var x any
	d.Decode(&x)
	return x
}
