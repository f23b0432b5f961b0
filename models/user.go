package models

// User is one row of Django's user table, auth_user
// (django.contrib.auth.models.User), column for column, so that a Go site
// and a Django site sharing the database share their users. On SQLite,
// after all of Django 3.2's auth migrations:
//
//	CREATE TABLE "auth_user" (
//	    "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
//	    "password" varchar(128) NOT NULL,
//	    "last_login" datetime NULL,
//	    "is_superuser" bool NOT NULL,
//	    "username" varchar(150) NOT NULL UNIQUE,
//	    "last_name" varchar(150) NOT NULL,
//	    "email" varchar(254) NOT NULL,
//	    "is_staff" bool NOT NULL,
//	    "is_active" bool NOT NULL,
//	    "date_joined" datetime NOT NULL,
//	    "first_name" varchar(150) NOT NULL);
//
// On PostgreSQL the id is a serial, the booleans boolean and the datetimes
// "timestamp with time zone". The tags describe the SQLite table; the
// schema itself is the migrations'. Password holds Django's encoded hash
// ("pbkdf2_sha256$iterations$salt$hash"), never a password.
type User struct {
	// ID is the primary key, which Django's login() stores in the session
	// as a string (_auth_user_id).
	ID int64 `gorm:"column:id;type:integer;primaryKey;autoIncrement;not null"`
	// Password is the encoded password hash; a value starting with "!" is
	// Django's unusable password (set_unusable_password()).
	Password string `gorm:"column:password;type:varchar(128);not null"`
	// LastLogin is when the user last logged in (Django's
	// update_last_login), nil if never.
	LastLogin *DateTime `gorm:"column:last_login;type:datetime"`
	// IsSuperuser gives every permission in Django's admin.
	IsSuperuser bool `gorm:"column:is_superuser;type:bool;not null"`
	// Username is the unique login name, at most 150 characters.
	Username string `gorm:"column:username;type:varchar(150);not null;unique"`
	// LastName is the family name (may be empty).
	LastName string `gorm:"column:last_name;type:varchar(150);not null"`
	// Email is the address (may be empty).
	Email string `gorm:"column:email;type:varchar(254);not null"`
	// IsStaff lets the user into Django's admin.
	IsStaff bool `gorm:"column:is_staff;type:bool;not null"`
	// IsActive false refuses the user at login and in every request, as
	// Django's ModelBackend does.
	IsActive bool `gorm:"column:is_active;type:bool;not null"`
	// DateJoined is when the account was created.
	DateJoined DateTime `gorm:"column:date_joined;type:datetime;not null"`
	// FirstName is the given name (may be empty).
	FirstName string `gorm:"column:first_name;type:varchar(150);not null"`
}

// TableName returns Django's table name, auth_user.
func (User) TableName() string { return "auth_user" }
