-- Django's sessions.0001_initial on SQLite, statement for statement (the
-- output of "manage.py sqlmigrate sessions 0001"), so that sqlite_master
-- reads the same whoever created the table. IF NOT EXISTS adopts a table
-- that Django created already, rows and all.
CREATE TABLE IF NOT EXISTS "django_session" ("session_key" varchar(40) NOT NULL PRIMARY KEY, "session_data" text NOT NULL, "expire_date" datetime NOT NULL);
CREATE INDEX IF NOT EXISTS "django_session_expire_date_a5c62663" ON "django_session" ("expire_date");
