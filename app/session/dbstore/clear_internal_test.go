package dbstore

import (
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/djangosessions/gosessions/app/session"
)

// TestNextClearBatch checks the sizing of ClearExpired's batches by time:
// toward the target, by half or double at most, within the bounds.
func TestNextClearBatch(t *testing.T) {
	for _, c := range []struct {
		n    int
		held time.Duration
		want int
	}{
		{256, 8 * time.Millisecond, 256},      // on target
		{256, 4 * time.Millisecond, 512},      // twice as fast: double
		{256, time.Millisecond, 512},          // far faster: double at most
		{256, 16 * time.Millisecond, 128},     // twice as slow: half
		{256, time.Second, 128},               // a stall: half at most
		{20, time.Second, minClearBatch},      // never below the floor
		{maxClearBatch, 0, maxClearBatch},     // never above the ceiling
		{1000, 10 * time.Millisecond, 800},    // proportional in between
		{1000, 6400 * time.Microsecond, 1250}, // proportional in between
	} {
		if got := nextClearBatch(c.n, c.held, 8*time.Millisecond); got != c.want {
			t.Errorf("nextClearBatch(%d, %v) = %d, want %d", c.n, c.held, got, c.want)
		}
	}
}

// TestCachedKeyIsACopy checks that a cached record keeps its own copy of
// its key, not the request's string it was sliced from (a Cookie header,
// which it would keep alive whole).
func TestCachedKeyIsACopy(t *testing.T) {
	header := "csrftoken=" + strings.Repeat("x", 64) + "; sessionid=" + strings.Repeat("k", 32)
	key := header[len(header)-32:]
	entries := map[string]session.Record{}
	putBounded(entries, 10, session.Record{Key: key, Data: "d", Expires: time.Now()})
	putBounded(entries, 10, session.Record{Key: key, Data: "e", Expires: time.Now()}) // replaced
	for k, rec := range entries {
		if unsafe.StringData(k) == unsafe.StringData(key) || unsafe.StringData(rec.Key) == unsafe.StringData(key) {
			t.Error("the cache keeps the caller's key string, and with it the whole header")
		}
		if unsafe.StringData(rec.Key) != unsafe.StringData(k) {
			t.Error("the cache holds two copies of the key")
		}
	}
	if got, ok := entries[key]; !ok || got.Key != key || got.Data != "e" {
		t.Errorf("entry = %+v, %v", got, ok)
	}
}
