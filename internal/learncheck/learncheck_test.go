package learncheck

import (
	"fmt"
	"strings"
	"testing"
)

var checker = Checker{
	Root: "../..",
	Imports: map[string]string{
		"context": "context",
		"session": "github.com/djangosessions/gosessions/app/session",
		"dbstore": "github.com/djangosessions/gosessions/app/session/dbstore",
	},
	Vocabulary: `
	ctx   context.Context
	s     *session.Session
	store *dbstore.Store
	key   string
	def   any
`,
}

// TestCheck: the check finds a method that does not exist, a call with
// the wrong arguments, a wrong count of results, names in a comment that
// do not exist, a missing file, and prose where Go should be; and it
// passes samples like those /learn shows.
func TestCheck(t *testing.T) {
	bad := []string{
		`s.CycleKeys()`,
		`store.ClearExpired(ctx)`,
		`n := s.Lookup(key)`,
		`s.Flush()  // dbstore.(*Store).DeleteExpiredSoon`,
		`manage sessions show KEY  // (*session.Session).Unknown, and more`,
		`manage sessions list  // session.NoSuchThing`,
		`s.Flush()  // app/nosuch.go`,
		`JSON, always (json.Number keeps integers exact)`,
		`s.Flush()  // session.New(undeclared)`,
	}
	good := []string{
		`s.Get(key, def), s.GetString(key, "Guest"), session.Get[T](s, key)`,
		`r, err := store.ClearExpired(ctx, dbstore.ClearOptions{})  // r.Deleted`,
		`s.Keys(), s.Items(), s.Len()`,
		`s.Flush()  // app/session/doc.go`,
		`go run ./manage clearsessions`,
		`CACHE_MAX_ENTRIES=10000  // the sessions kept`,
		`manage clearsessions  // dbstore.(*Store).ClearExpired, in batches`,
		`s.Delete(key)  // a missing key is not an error`,
		`session.ErrInterrupted`,
		`s.IsEmpty() == false`,
		`s.Flush()  // false: the cookie stays`,
	}
	var samples []Sample
	for i, g := range append(append([]string{}, bad...), good...) {
		samples = append(samples, Sample{Where: fmt.Sprint(i), Go: g})
	}
	problems, err := checker.Check(samples)
	if err != nil {
		t.Fatal(err)
	}
	failed := map[string][]string{}
	for _, p := range problems {
		where, msg, _ := strings.Cut(p, ":")
		failed[where] = append(failed[where], msg)
	}
	for i, g := range bad {
		if len(failed[fmt.Sprint(i)]) == 0 {
			t.Errorf("the check passes %q, which names something that does not exist", g)
		}
	}
	for i, g := range good {
		if msgs := failed[fmt.Sprint(len(bad)+i)]; len(msgs) > 0 {
			t.Errorf("the check fails %q: %v", g, msgs)
		}
	}
}
