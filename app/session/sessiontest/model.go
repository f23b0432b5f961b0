package sessiontest

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/anishathalye/porcupine"
)

// The sequential model of a session store that ModelCheck checks
// histories against. A partition of the history is one session "slot"
// (the sessions a browser holds in turn: a key cycle moves the slot to a
// new key, a write on a gone session starts a new one); its state is the
// records of the keys the slot has used.

// opKind is what one operation of the history did.
type opKind string

const (
	opRead        opKind = "read"         // Open, Items
	opSet         opKind = "set"          // Set(name, value), Save
	opIncr        opKind = "incr"         // Incr(name, 1), Save
	opUpdate      opKind = "update"       // Update(several names), Save
	opPop         opKind = "pop"          // Delete(name), Save
	opCycle       opKind = "cycle"        // CycleKey, Set(name, value) (a login), Save
	opFlush       opKind = "flush"        // Flush, Save (a logout)
	opStoreDelete opKind = "store-delete" // Store.Delete(key, "") (manage sessions delete)
	opRevoke      opKind = "revoke"       // Load, then Store.Delete(key, data as read) until it is deleted or gone
	opExpire      opKind = "expire"       // the record's expiry moved into the past behind the stores' backs
	opClockJump   opKind = "clock"        // the clock moves past every record's expiry (no operation in flight)
)

// input is an operation as called.
type input struct {
	Kind   opKind            `json:"kind"`
	Slot   int               `json:"slot"` // -1: every slot (a clock jump)
	Key    string            `json:"key"`  // the session key the operation opened ("" for a new session)
	Values map[string]string `json:"values,omitempty"`
}

// output is what an operation returned.
type output struct {
	// Loaded: the session key opened a record (Open found it).
	Loaded bool `json:"loaded,omitempty"`
	// Data is the session's data as read (opRead, and opRevoke's
	// deleted record), canonical JSON.
	Data string `json:"data,omitempty"`
	// Err is "" or "interrupted" (ErrInterrupted).
	Err string `json:"err,omitempty"`
	// NewKey is the session's key after the save ("" when nothing was
	// stored).
	NewKey string `json:"new_key,omitempty"`
	// Revoke is "absent" (nothing loaded), "deleted" or "gone".
	Revoke string `json:"revoke,omitempty"`
}

// mrecord is the model's view of one stored record.
type mrecord struct {
	data string // canonical JSON
	// live: loads find it. A record expired behind the stores' backs is
	// not live but still there: an update that read it before may
	// swap it (Update does not check expiry, as Django's save does not),
	// which makes it live again: revivable.
	live, revivable bool
	// stale is data a load may still return although the record is not
	// live (the cached_db window for writes that bypass Redis), when
	// hasStale.
	stale    string
	hasStale bool
}

// state is the records of one slot. It is never changed in place.
type state map[string]mrecord

// modelOptions are what an engine's documents allow beyond the contract.
type modelOptions struct {
	// bypassWindow: a write behind the stores' backs (opExpire) may be
	// served stale, from a cache entry cached before it, until a write
	// through the store touches the key (redisstore.CachedStore:
	// WithMaxAge, longer than any run).
	bypassWindow bool
}

func (s state) with(key string, r mrecord) state {
	n := maps.Clone(s)
	n[key] = r
	return n
}

func (s state) without(key string) state {
	if _, ok := s[key]; !ok {
		return s
	}
	n := maps.Clone(s)
	delete(n, key)
	return n
}

// visible reports whether a load of key finds a record.
func (s state) visible(key string) bool {
	r, ok := s[key]
	return ok && r.live
}

// apply is the change of a write operation to data (canonical JSON).
func apply(in input, data string) string {
	m := map[string]json.RawMessage{}
	json.Unmarshal([]byte(data), &m)
	switch in.Kind {
	case opSet, opUpdate, opCycle:
		for k, v := range in.Values {
			m[k] = json.RawMessage(v)
		}
	case opIncr:
		for k := range in.Values {
			n, _ := strconv.ParseInt(string(m[k]), 10, 64)
			m[k] = json.RawMessage(strconv.FormatInt(n+1, 10))
		}
	case opPop:
		for k := range in.Values {
			delete(m, k)
		}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// step returns the states the store may be in after an operation with
// in and out in state s; none when the operation could not have returned
// out.
func (o modelOptions) step(s state, in input, out output) []state {
	one := func(n state) []state { return []state{n} }
	cur, present := s[in.Key]
	touched := func(n state) state { // a write through the store clears a stale entry
		if r, ok := n[in.Key]; ok && r.hasStale {
			r.hasStale, r.stale = false, ""
			return n.with(in.Key, r)
		}
		return n
	}
	switch in.Kind {
	case opClockJump:
		n := state{}
		for k, r := range s {
			n[k] = mrecord{data: r.data}
		}
		return one(n)
	case opExpire:
		if !present {
			return one(s)
		}
		r := cur
		if o.bypassWindow && r.live {
			r.stale, r.hasStale = r.data, true
		}
		r.live, r.revivable = false, true
		return one(s.with(in.Key, r))
	case opStoreDelete:
		return one(s.without(in.Key))
	case opRead:
		if !out.Loaded {
			if !s.visible(in.Key) && out.Data == "{}" {
				return one(s)
			}
			return nil
		}
		if s.visible(in.Key) && cur.data == out.Data || o.bypassWindow && present && cur.hasStale && cur.stale == out.Data {
			return one(s)
		}
		return nil
	case opRevoke:
		switch out.Revoke {
		case "absent":
			if !s.visible(in.Key) {
				return one(s)
			}
		case "deleted":
			if present && cur.data == out.Data {
				return one(s.without(in.Key))
			}
		case "gone":
			if !present {
				return one(s)
			}
		}
		return nil
	case opFlush:
		if out.Err != "" {
			return nil
		}
		if out.Loaded {
			return one(s.without(in.Key))
		}
		if !s.visible(in.Key) {
			return one(s)
		}
		return nil
	}
	// The writes: set, incr, update, pop, cycle.
	switch {
	case out.Err == "interrupted":
		// The record the request read was deleted, or expired, before
		// its save.
		if out.Loaded && (!present || !cur.live) {
			return one(touched(s))
		}
		return nil
	case out.Err != "":
		return nil
	case !out.Loaded:
		// A new session (the key opened nothing): it touches only its
		// new key.
		if in.Key != "" && s.visible(in.Key) {
			return nil
		}
		data := apply(in, "{}")
		if data == "{}" {
			if out.NewKey == "" {
				return one(s)
			}
			return nil
		}
		if _, taken := s[out.NewKey]; out.NewKey == "" || out.NewKey == in.Key || taken {
			return nil
		}
		return one(s.with(out.NewKey, mrecord{data: data, live: true}))
	}
	// A loaded session saved: the compare-and-swap (or a cycle's
	// compare-and-delete) found the mrecord it read, or one it was merged
	// into; never a deleted one.
	if !present || !cur.live && !cur.revivable {
		return nil
	}
	data := apply(in, cur.data)
	if in.Kind == opPop && data == cur.data {
		// Nothing to delete now: either the request found nothing to
		// delete either and wrote nothing, or it did (the key was there
		// when it loaded) and its save rewrote the mrecord.
		if out.NewKey != in.Key {
			return nil
		}
		return []state{s, s.with(in.Key, mrecord{data: data, live: true})}
	}
	if in.Kind != opCycle {
		if out.NewKey != in.Key {
			return nil
		}
		return one(s.with(in.Key, mrecord{data: data, live: true}))
	}
	if _, taken := s[out.NewKey]; out.NewKey == "" || out.NewKey == in.Key || taken {
		return nil
	}
	return one(s.without(in.Key).with(out.NewKey, mrecord{data: data, live: true}))
}

// porcupineModel is the model for porcupine, one partition per slot
// (clock jumps go to every partition).
func (o modelOptions) porcupineModel() porcupine.Model {
	m := porcupine.NondeterministicModel{
		Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
			bySlot := map[int][]porcupine.Operation{}
			var global []porcupine.Operation
			for _, op := range history {
				if in := op.Input.(input); in.Slot < 0 {
					global = append(global, op)
				} else {
					bySlot[in.Slot] = append(bySlot[in.Slot], op)
				}
			}
			var parts [][]porcupine.Operation
			for _, slot := range slices.Sorted(maps.Keys(bySlot)) {
				parts = append(parts, append(bySlot[slot], global...))
			}
			return parts
		},
		Init: func() []any { return []any{state{}} },
		Step: func(s, in, out any) []any {
			var next []any
			for _, n := range o.step(s.(state), in.(input), out.(output)) {
				next = append(next, n)
			}
			return next
		},
		Equal: func(a, b any) bool {
			return maps.Equal(a.(state), b.(state))
		},
		DescribeOperation: func(in, out any) string {
			i, o := in.(input), out.(output)
			return fmt.Sprintf("%s(%s %v) -> %+v", i.Kind, short(i.Key), i.Values, o)
		},
		DescribeState: func(s any) string {
			var b strings.Builder
			for _, k := range slices.Sorted(maps.Keys(s.(state))) {
				r := s.(state)[k]
				fmt.Fprintf(&b, "%s=%s live=%v revivable=%v", short(k), r.data, r.live, r.revivable)
				if r.hasStale {
					fmt.Fprintf(&b, " stale=%s", r.stale)
				}
				b.WriteString("; ")
			}
			return b.String()
		},
	}
	return m.ToModel()
}

func short(key string) string {
	if len(key) > 8 {
		return key[:8]
	}
	return key
}
