package dbstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/models"
)

// BenchmarkHotPathSQL backs the choice of hand-written SQL on the hot path
// with a number: the store's own statements (prepared once, run through
// database/sql) against the same statements built by GORM for each call,
// as an application using GORM's query builder would write them, on the
// same SQLite file. "load" is a session read that misses the cache;
// "update" a compare-and-swap save in a transaction of its own (the
// store's goes through its group commit, here with no one to group with).
func BenchmarkHotPathSQL(b *testing.B) {
	_, db := migrated(b)
	s := newStore(b, db) // no cache: every Load queries
	ctx := context.Background()
	rec := session.Record{Key: session.NewKey(), Data: strings.Repeat("x", 150), Expires: time.Now().Add(time.Hour)}
	if err := s.Create(ctx, rec); err != nil {
		b.Fatal(err)
	}
	g := db.Gorm.WithContext(ctx)

	b.Run("load/prepared", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Load(ctx, rec.Key); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("load/gorm", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var row models.Session
			err := g.Where("session_key = ? AND expire_date > ?", rec.Key, models.DateTime{Time: time.Now()}).Take(&row).Error
			if err != nil {
				b.Fatal(err)
			}
		}
	})

	data := [2]string{strings.Repeat("a", 150), strings.Repeat("b", 150)}
	if err := s.Update(ctx, session.Record{Key: rec.Key, Data: data[0], Expires: rec.Expires}, rec.Data); err != nil {
		b.Fatal(err)
	}
	i := 0
	b.Run("update/prepared", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			next := session.Record{Key: rec.Key, Data: data[(i+1)%2], Expires: time.Now().Add(time.Hour)}
			if err := s.Update(ctx, next, data[i%2]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("update/gorm", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			err := g.Transaction(func(tx *gorm.DB) error {
				res := tx.Model(&models.Session{}).Where("session_key = ? AND session_data = ?", rec.Key, data[i%2]).
					Updates(map[string]any{"session_data": data[(i+1)%2], "expire_date": models.DateTime{Time: time.Now().Add(time.Hour)}})
				if res.Error == nil && res.RowsAffected != 1 {
					b.Fatalf("GORM update changed %d rows", res.RowsAffected)
				}
				return res.Error
			})
			if err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
