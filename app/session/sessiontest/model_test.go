package sessiontest

import (
	"cmp"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/anishathalye/porcupine"
)

// TestMinimizeHistory turns a history that ModelCheck found not
// linearizable (the JSON file it writes, MINIMIZE_IN) into a regression
// history (MINIMIZE_OUT, for testdata/): the failing slot alone, cut
// after the operation that no order can explain.
func TestMinimizeHistory(t *testing.T) {
	in := os.Getenv("MINIMIZE_IN")
	if in == "" {
		t.Skip("MINIMIZE_IN names a history to minimize")
	}
	b, _ := os.ReadFile(in)
	var h []recorded
	json.Unmarshal(b, &h)
	bad := func(h []recorded) bool { return !linearizable(h) }
	if !bad(h) {
		t.Fatal("linearizable")
	}
	// The failing slot alone (and the clock jumps).
	for slot := range modelSlots {
		var part []recorded
		for _, r := range h {
			if r.In.Slot == slot || r.In.Slot < 0 {
				part = append(part, r)
			}
		}
		if bad(part) {
			h = part
			break
		}
	}
	// The shortest failing prefix, by return time.
	slices.SortFunc(h, func(a, b recorded) int { return cmp.Compare(a.Return, b.Return) })
	n := sort.Search(len(h), func(n int) bool { return bad(h[:n]) })
	h = h[:n]
	out, _ := json.MarshalIndent(h, "", "  ")
	os.WriteFile(os.Getenv("MINIMIZE_OUT"), out, 0o644)
	t.Logf("%d operations", len(h))
}

// TestModelRejectsFoundHistories: every history in testdata, each one
// that ModelCheck found on an earlier version of the stores, is rejected
// by the model, and only because of its last operation: without it the
// history is linearizable.
//
// revoke-of-a-moved-session.json (memstore, before a conditional Delete
// told a missing record from a deleted one): a revoke loaded a session,
// requests then updated it and moved it to a new key, and the revoke's
// conditional delete of the old key reported success; the model knows
// that nothing had that key any more.
//
// stale-read-after-expiry.json (PostgreSQL with WithCache, before the
// notification carried expire_date): an operator moved a session's expiry
// into the past, and a load that began after that returned the session
// from a process's cache.
func TestModelRejectsFoundHistories(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no histories in testdata: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var h []recorded
		if err := json.Unmarshal(b, &h); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if linearizable(h) {
			t.Errorf("%s: the model accepts a history it must reject", f)
		}
		last := slices.IndexFunc(h, func(r recorded) bool {
			return r.Return == slices.MaxFunc(h, func(a, b recorded) int { return cmp.Compare(a.Return, b.Return) }).Return
		})
		if !linearizable(slices.Delete(slices.Clone(h), last, last+1)) {
			t.Errorf("%s: the model rejects the history without its last operation too", f)
		}
	}
}

func linearizable(h []recorded) bool {
	ops := make([]porcupine.Operation, len(h))
	for i, r := range h {
		ops[i] = porcupine.Operation{ClientId: r.Client, Input: r.In, Output: r.Out, Call: r.Call, Return: r.Return}
	}
	return porcupine.CheckOperations(modelOptions{}.porcupineModel(), ops)
}
