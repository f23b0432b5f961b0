package models

import (
	"database/sql/driver"
	"fmt"
	"strconv"
	"time"
)

// DateTime is a time.Time stored the way Django stores a DateTimeField on
// SQLite with USE_TZ=True: TEXT "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC, the
// fraction (always six digits) left out when the microseconds are zero.
//
// Django filters sessions with string comparisons such as
// expire_date > '2030-01-01 00:00:00', so every row must use exactly this
// shape: the SQLite driver's own encoding of a time.Time
// ("2006-01-02 15:04:05.999999999-07:00") would sort wrongly against
// Django's rows. Times are kept to the microsecond, like Python's datetime;
// finer digits are dropped.
//
// On PostgreSQL the column is a timestamp with time zone, an instant.
// The same text value is read there in the connection's TimeZone, which
// must be UTC, as on Django's connections and database/postgres's (code
// that cannot be sure of it, like dbstore, passes a time.Time instead); pgx
// hands back a time.Time, which Scan takes, as it takes PostgreSQL's text
// form ("2030-01-01 00:00:00+00").
type DateTime struct {
	time.Time
}

// Python's str(datetime): the fraction has six digits (Go truncates to
// them) and is left out when the microseconds are zero.
const (
	dateTimeLayout      = "2006-01-02 15:04:05"
	dateTimeLayoutMicro = "2006-01-02 15:04:05.000000"
)

// Value implements driver.Valuer: the time in Django's text form, in UTC.
func (d DateTime) Value() (driver.Value, error) {
	t := d.UTC()
	if y := t.Year(); y < 1 || y > 9999 {
		return nil, fmt.Errorf("models: time %s is out of Django's range (years 1 to 9999)", d.Time)
	}
	if t.Nanosecond() < 1000 {
		return t.Format(dateTimeLayout), nil
	}
	return t.Format(dateTimeLayoutMicro), nil
}

// dateTimeLayouts are the text forms Scan accepts: Django's, the ISO 8601
// variants other writers use, and the same with a UTC offset, in hours
// only as PostgreSQL writes a whole-hour offset. A time without an offset
// is UTC.
var dateTimeLayouts = [...]string{
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z07",
	"2006-01-02 15:04",
	"2006-01-02",
}

// Scan implements sql.Scanner. It accepts what SQLite hands back for a
// datetime column: a time.Time (the driver parses TEXT of a column
// declared datetime) or the text itself, with or without a fraction; and
// what PostgreSQL's drivers hand back for a timestamptz: a time.Time in
// any zone, or its text.
func (d *DateTime) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		d.Time = v.UTC()
		return nil
	case string:
		return d.parse(v)
	case []byte:
		return d.parse(string(v))
	case nil:
		return fmt.Errorf("models: cannot scan NULL into a DateTime")
	default:
		return fmt.Errorf("models: cannot scan %T into a DateTime", src)
	}
}

func (d *DateTime) parse(s string) error {
	for _, layout := range dateTimeLayouts {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			d.Time = t.UTC()
			return nil
		}
	}
	return fmt.Errorf("models: cannot parse %s as a DateTime", strconv.Quote(s))
}
