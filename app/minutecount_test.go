package app

import (
	"errors"
	"testing"
	"time"
)

// TestMinuteCount: a count of the database behind a metric is taken at
// most once a minute; meanwhile, and while counting fails, the last count
// is reported; before any count succeeds nothing is, nor for what cannot
// be counted.
func TestMinuteCount(t *testing.T) {
	var c minuteCount[int64]
	start := time.Unix(1_700_000_000, 0)
	counts := 0
	count := func(n int64, err error) func() (int64, error) {
		return func() (int64, error) { counts++; return n, err }
	}
	fail := errors.New("database down")

	if _, ok := c.get(start, count(0, fail)); ok || counts != 1 {
		t.Fatalf("a failed first count: ok %v after %d counts, want false after 1", ok, counts)
	}
	if _, ok := c.get(start.Add(time.Second), count(7, nil)); ok || counts != 1 {
		t.Fatalf("within the minute of a failed try: ok %v after %d counts, want false, not counted again", ok, counts)
	}
	if n, ok := c.get(start.Add(liveRefresh), count(7, nil)); !ok || n != 7 || counts != 2 {
		t.Fatalf("a minute later: %d %v after %d counts, want 7 true after 2", n, ok, counts)
	}
	if n, ok := c.get(start.Add(liveRefresh+time.Second), count(9, nil)); !ok || n != 7 || counts != 2 {
		t.Fatalf("within the minute: %d %v after %d counts, want the last, 7, not counted again", n, ok, counts)
	}
	if n, ok := c.get(start.Add(2*liveRefresh), count(0, fail)); !ok || n != 7 || counts != 3 {
		t.Fatalf("a failed count: %d %v after %d counts, want the last, 7", n, ok, counts)
	}
	if n, ok := c.get(start.Add(3*liveRefresh), count(0, nil)); !ok || n != 0 || counts != 4 {
		t.Fatalf("a count of zero: %d %v after %d counts, want 0 true", n, ok, counts)
	}
	if n, ok := c.get(start.Add(4*liveRefresh), count(0, fail)); !ok || n != 0 {
		t.Fatalf("a failed count after a zero: %d %v, want the last, 0 true", n, ok)
	}

	var none minuteCount[int64]
	if _, ok := none.get(start, count(0, errNoCount)); ok {
		t.Fatal("nothing to count: reported")
	}

	// A caller that finds another counting gets the last count at once.
	var busy minuteCount[int64]
	busy.get(start, count(3, nil))
	busy.counting.Lock()
	n, ok := busy.get(start.Add(liveRefresh), count(4, nil))
	busy.counting.Unlock()
	if !ok || n != 3 {
		t.Fatalf("while another counts: %d %v, want the last, 3", n, ok)
	}
}
