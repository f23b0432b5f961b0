package dbstore

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app/session"
)

// TestNotifyCacheOwnWrites: a write's own notification may arrive before
// its commit's answer. The write then stays cached, unless what was
// notified last for the key may be someone else's change: a different
// data, a deletion, another key of the same slot, a notification not yet
// recorded, or a reset.
func TestNotifyCacheOwnWrites(t *testing.T) {
	hour := time.Now().Add(time.Hour)
	rec := session.Record{Key: "ownwrite", Data: "new", Expires: hour}
	micros := func(t time.Time) string { return strconv.FormatInt(t.UnixMicro(), 10) }
	own := rec.Key + " " + md5hex(rec.Data) + " " + micros(rec.Expires)
	// other is a key of the same slot as rec's.
	other := ""
	for i := 0; other == ""; i++ {
		if k := fmt.Sprintf("other%d", i); slotOf(k) == slotOf(rec.Key) {
			other = k
		}
	}
	for _, c := range []struct {
		name   string
		during func(c *notifyCache) // between the commit's start and its end
		cached bool
	}{
		{"no notification yet", func(c *notifyCache) {}, true},
		{"its own notification", func(c *notifyCache) { c.notified(own) }, true},
		{"its own, then another write of the key", func(c *notifyCache) {
			c.notified(own)
			c.notified(rec.Key + " " + md5hex("theirs"))
		}, false},
		{"its own, then a deletion", func(c *notifyCache) {
			c.notified(own)
			c.notified(rec.Key + " -")
		}, false},
		{"its own, then another key of the slot", func(c *notifyCache) {
			c.notified(own)
			c.notified(other + " " + md5hex("x"))
		}, false},
		{"another write of the key only", func(c *notifyCache) { c.notified(rec.Key + " " + md5hex("theirs")) }, false},
		{"its own, then the same data with another expiry", func(c *notifyCache) {
			c.notified(own)
			c.notified(rec.Key + " " + md5hex(rec.Data) + " " + micros(rec.Expires.Add(-48*time.Hour)))
		}, false},
		{"migration 3's payload, without the expiry", func(c *notifyCache) { c.notified(rec.Key + " " + md5hex(rec.Data)) }, false},
		{"its own, then one counted but not yet recorded", func(c *notifyCache) {
			c.notified(own)
			c.slots[slotOf(rec.Key)].Store(c.seq.Add(1))
		}, false},
		{"its own, then a reset", func(c *notifyCache) {
			c.notified(own)
			c.notified("*")
		}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			nc := &notifyCache{max: 10, entries: map[string]session.Record{}}
			nc.on.Store(true)
			start := nc.beginCommit()
			c.during(nc)
			nc.endCommit(start, true, true, []*writeOp{{kind: opUpdate, rec: rec, old: "old"}})
			if _, ok := nc.entries[rec.Key]; ok != c.cached {
				t.Errorf("cached after the commit = %v, want %v", ok, c.cached)
			}
		})
	}
}

// TestNotifyCacheDropsOnExpiryChange: a notification of the cached data
// with another expiry (an operator moved expire_date) drops the entry;
// one of the same data and expiry (a write that changed nothing) keeps it.
func TestNotifyCacheDropsOnExpiryChange(t *testing.T) {
	rec := session.Record{Key: "expirychange", Data: "data", Expires: time.Now().Add(time.Hour).Truncate(time.Microsecond)}
	micros := func(t time.Time) string { return strconv.FormatInt(t.UnixMicro(), 10) }
	for _, c := range []struct {
		payload string
		cached  bool
	}{
		{rec.Key + " " + md5hex(rec.Data) + " " + micros(rec.Expires), true},
		{rec.Key + " " + md5hex(rec.Data) + " " + micros(rec.Expires.Add(-25*time.Hour)), false},
		{rec.Key + " " + md5hex(rec.Data) + " " + micros(rec.Expires.Add(time.Microsecond)), false},
		{rec.Key + " " + md5hex(rec.Data), false},
		{rec.Key + " -", false},
	} {
		nc := &notifyCache{max: 10, entries: map[string]session.Record{rec.Key: rec}}
		nc.on.Store(true)
		nc.notified(c.payload)
		if _, ok := nc.entries[rec.Key]; ok != c.cached {
			t.Errorf("after %q: cached = %v, want %v", c.payload, ok, c.cached)
		}
	}
}
