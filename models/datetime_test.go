package models

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestDateTimeValue(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), "2030-01-01 00:00:00"},
		{time.Date(2030, 1, 1, 0, 0, 0, 500_000_000, time.UTC), "2030-01-01 00:00:00.500000"},
		{time.Date(2030, 1, 1, 0, 0, 0, 1_000, time.UTC), "2030-01-01 00:00:00.000001"},
		// Below a microsecond Python has nothing: dropped, like Django.
		{time.Date(2030, 1, 1, 0, 0, 0, 999, time.UTC), "2030-01-01 00:00:00"},
		{time.Date(2030, 1, 1, 0, 0, 0, 123_456_789, time.UTC), "2030-01-01 00:00:00.123456"},
		// Stored in UTC whatever the zone.
		{time.Date(2030, 1, 1, 0, 30, 0, 0, paris), "2029-12-31 23:30:00"},
		{time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), "0001-01-01 00:00:00"},
		{time.Date(9999, 12, 31, 23, 59, 59, 999_999_000, time.UTC), "9999-12-31 23:59:59.999999"},
	}
	for _, tt := range tests {
		v, err := DateTime{tt.in}.Value()
		if err != nil {
			t.Errorf("Value(%v): %v", tt.in, err)
			continue
		}
		if got, ok := v.(string); !ok || got != tt.want {
			t.Errorf("Value(%v) = %#v, want %q", tt.in, v, tt.want)
		}
	}
}

func TestDateTimeValueOutOfRange(t *testing.T) {
	for _, in := range []time.Time{
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 0, 0, 0, time.FixedZone("", -3600)),
	} {
		if v, err := (DateTime{in}).Value(); err == nil {
			t.Errorf("Value(%v) = %#v, want an error", in, v)
		}
	}
}

func TestDateTimeScan(t *testing.T) {
	want := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	wantFrac := time.Date(2030, 1, 2, 3, 4, 5, 123_456_000, time.UTC)
	tests := []struct {
		src  any
		want time.Time
	}{
		{"2030-01-02 03:04:05", want},
		{"2030-01-02 03:04:05.123456", wantFrac},
		{[]byte("2030-01-02 03:04:05.123456"), wantFrac},
		{"2030-01-02T03:04:05", want},
		{"2030-01-02T03:04:05.123456Z", wantFrac},
		{"2030-01-02 03:04:05+00:00", want},
		{"2030-01-02 05:04:05.123456+02:00", wantFrac},
		// PostgreSQL's text of a timestamptz.
		{"2030-01-02 03:04:05+00", want},
		{"2030-01-02 03:04:05.123456+00", wantFrac},
		{"2030-01-02 00:04:05-03", want},
		{"2030-01-02 08:34:05+05:30", want},
		{"2030-01-02 03:04", want.Add(-5 * time.Second)},
		{"2030-01-02", time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC)},
		{wantFrac, wantFrac},
		{wantFrac.In(time.FixedZone("X", 7200)), wantFrac},
	}
	for _, tt := range tests {
		var d DateTime
		if err := d.Scan(tt.src); err != nil {
			t.Errorf("Scan(%#v): %v", tt.src, err)
			continue
		}
		if !d.Equal(tt.want) || d.Location() != time.UTC {
			t.Errorf("Scan(%#v) = %v, want %v in UTC", tt.src, d.Time, tt.want)
		}
	}
}

func TestDateTimeScanRejects(t *testing.T) {
	for _, src := range []any{nil, "", "tomorrow", "2030-13-01 00:00:00", int64(1), 1.5, true} {
		var d DateTime
		if err := d.Scan(src); err == nil {
			t.Errorf("Scan(%#v) = %v, want an error", src, d.Time)
		}
	}
}

// TestDateTimeOrder checks the property Django's queries rely on: the text
// forms sort as the times do, and they read back as the same time.
func TestDateTimeOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	random := func() time.Time {
		t := base.Add(time.Duration(r.Int64N(int64(48 * time.Hour))))
		if r.IntN(2) == 0 {
			t = t.Truncate(time.Second) // often no fraction at all
		}
		return t.Truncate(time.Microsecond)
	}
	for range 2000 {
		a, b := random(), random()
		va, _ := DateTime{a}.Value()
		vb, _ := DateTime{b}.Value()
		sa, sb := va.(string), vb.(string)
		if (sa < sb) != a.Before(b) || (sa == sb) != a.Equal(b) {
			t.Fatalf("order of %q and %q differs from %v and %v", sa, sb, a, b)
		}
		var back DateTime
		if err := back.Scan(sa); err != nil || !back.Equal(a) {
			t.Fatalf("Scan(%q) = %v, %v; want %v", sa, back.Time, err, a)
		}
	}
}
