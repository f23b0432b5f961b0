package migrations_test

import (
	"testing"

	sqlitemigrations "github.com/djangosessions/gosessions/migrations/sqlite"
	"github.com/djangosessions/gosessions/models"
)

// djangoUserTable is auth_user as Django 3.2's migrate leaves it on SQLite
// (read from sqlite_master after "manage.py migrate"); the live test in
// app/auth compares every table with a database Django migrated.
const djangoUserTable = `CREATE TABLE "auth_user" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "password" varchar(128) NOT NULL, "last_login" datetime NULL, "is_superuser" bool NOT NULL, "username" varchar(150) NOT NULL UNIQUE, "last_name" varchar(150) NOT NULL, "email" varchar(254) NOT NULL, "is_staff" bool NOT NULL, "is_active" bool NOT NULL, "date_joined" datetime NOT NULL, "first_name" varchar(150) NOT NULL)`

// TestUserTableMatchesModel: migration 2 creates Django's auth_user, and
// models.User maps it column for column.
func TestUserTableMatchesModel(t *testing.T) {
	db := openDB(t)
	if err := sqlitemigrations.Up(db, nil); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := db.SQL().QueryRow(`SELECT sql FROM sqlite_master WHERE name = 'auth_user'`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != djangoUserTable {
		t.Errorf("auth_user =\n%s\nwant Django's\n%s", got, djangoUserTable)
	}

	columnsMatchModel(t, db, &models.User{}, "auth_user", 11)
}
