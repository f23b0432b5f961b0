package models_test

import (
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app/database/postgres"
	"github.com/djangosessions/gosessions/internal/pgtest"
	pgmigrations "github.com/djangosessions/gosessions/migrations/postgres"
	"github.com/djangosessions/gosessions/models"
)

// TestSessionOnPostgres writes and reads a models.Session through GORM on
// PostgreSQL (database/postgres's connections, in UTC): the expiry is the same
// instant both ways, and Scan reads the column as pgx hands it back and
// as PostgreSQL's text.
func TestSessionOnPostgres(t *testing.T) {
	ddb, err := postgres.OpenURL(t.Context(), pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer ddb.Close()
	if err := pgmigrations.Up(ddb, nil); err != nil {
		t.Fatal(err)
	}
	db := ddb.Gorm

	paris := time.FixedZone("CET", 3600)
	in := models.Session{
		SessionKey:  "modelkey",
		SessionData: "data",
		ExpireDate:  models.DateTime{Time: time.Date(2030, 1, 2, 4, 4, 5, 123_456_789, paris)},
	}
	if err := db.Create(&in).Error; err != nil {
		t.Fatal(err)
	}
	want := time.Date(2030, 1, 2, 3, 4, 5, 123_456_000, time.UTC) // to the microsecond, in UTC

	var out models.Session
	if err := db.First(&out, "session_key = ?", "modelkey").Error; err != nil {
		t.Fatal(err)
	}
	if !out.ExpireDate.Equal(want) || out.ExpireDate.Location() != time.UTC || out.SessionData != "data" {
		t.Errorf("read back %+v, want expiry %v in UTC", out, want)
	}

	var equal bool
	if err := ddb.SQL().QueryRow(`SELECT expire_date = $1 FROM django_session`, want).Scan(&equal); err != nil || !equal {
		t.Errorf("stored expiry equals %v: %v, %v", want, equal, err)
	}
	var text models.DateTime
	if err := ddb.SQL().QueryRow(`SELECT expire_date::text FROM django_session`).Scan(&text); err != nil || !text.Equal(want) {
		t.Errorf("scan of the text %v, %v; want %v", text.Time, err, want)
	}

	// Django's filter: expire_date > now, with the text value.
	var n int64
	if err := db.Model(&models.Session{}).Where("expire_date > ?", models.DateTime{Time: want.Add(-time.Microsecond)}).Count(&n).Error; err != nil || n != 1 {
		t.Errorf("expire_date > a microsecond before: %d rows, %v; want 1", n, err)
	}
	if err := db.Model(&models.Session{}).Where("expire_date > ?", models.DateTime{Time: want}).Count(&n).Error; err != nil || n != 0 {
		t.Errorf("expire_date > itself: %d rows, %v; want 0", n, err)
	}
}
