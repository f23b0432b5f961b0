// Package models holds the GORM models of the project's tables. They carry
// tags only: the schema is owned by the migrations package and behaviour
// lives in the packages that use the rows (app/session/dbstore).
package models

// Session is one row of Django's session table, django_session, column for
// column, so that a Go site and a Django site can share it. On SQLite:
//
//	CREATE TABLE "django_session" (
//	    "session_key" varchar(40) NOT NULL PRIMARY KEY,
//	    "session_data" text NOT NULL,
//	    "expire_date" datetime NOT NULL);
//	CREATE INDEX "django_session_expire_date_a5c62663"
//	    ON "django_session" ("expire_date");
//
// On PostgreSQL expire_date is "timestamp with time zone", and Django adds
// the index "django_session_session_key_c0390e0f_like" on session_key
// (varchar_pattern_ops). The tags describe the SQLite table; the schema
// itself is the migrations'.
type Session struct {
	// SessionKey is the session key, the cookie value.
	SessionKey string `gorm:"column:session_key;type:varchar(40);primaryKey;not null"`
	// SessionData is the signed, encoded session dictionary.
	SessionData string `gorm:"column:session_data;type:text;not null"`
	// ExpireDate is when the session stops loading. It is stored in
	// Django's SQLite text form (see DateTime) so that Django's string
	// comparisons work on rows written by Go and the other way round; on
	// PostgreSQL it is an instant.
	ExpireDate DateTime `gorm:"column:expire_date;type:datetime;not null;index:django_session_expire_date_a5c62663"`
}

// TableName returns Django's table name, django_session.
func (Session) TableName() string { return "django_session" }
