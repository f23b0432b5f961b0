-- Django's sessions.0001_initial on PostgreSQL, statement for statement (the
-- output of "manage.py sqlmigrate sessions 0001" with the postgresql
-- backend): the same table, indexes and index names whoever created them.
-- IF NOT EXISTS adopts a table that Django created already, rows and all.
-- The _like index serves LIKE 'prefix%' searches on the key, as Django
-- adds for every indexed varchar column.
CREATE TABLE IF NOT EXISTS "django_session" ("session_key" varchar(40) NOT NULL PRIMARY KEY, "session_data" text NOT NULL, "expire_date" timestamp with time zone NOT NULL);
CREATE INDEX IF NOT EXISTS "django_session_expire_date_a5c62663" ON "django_session" ("expire_date");
CREATE INDEX IF NOT EXISTS "django_session_session_key_c0390e0f_like" ON "django_session" ("session_key" varchar_pattern_ops);
