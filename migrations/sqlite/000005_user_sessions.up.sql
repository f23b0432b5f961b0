-- The per-user index of sessions (package usersessions): which sessions
-- belong to which user, with when each device logged in, when it was
-- last seen, its address and its browser. A table of this project's own,
-- beside Django's: django_session is never changed, so a Django site
-- sharing the database keeps working, and knows nothing of this table.
--
-- One row per user and session key. id orders the rows by creation (a
-- session's row is written before its record, so a key cycle's new row
-- comes after the old one's); device is an opaque id that a key cycle
-- carries over, shown instead of the key; touched is the last write of
-- the row, which a row younger than the index's grace period keeps
-- (its record may be about to be created). Times are Django's text on
-- SQLite (models.DateTime), as in django_session.
CREATE TABLE IF NOT EXISTS "gosessions_usersession" (
    "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "user_id" varchar(150) NOT NULL,
    "session_key" varchar(40) NOT NULL,
    "device" varchar(32) NOT NULL,
    "created" datetime NOT NULL,
    "last_seen" datetime NOT NULL,
    "touched" datetime NOT NULL,
    "ip" varchar(64) NOT NULL,
    "user_agent" varchar(512) NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS "gosessions_usersession_user_key_uniq" ON "gosessions_usersession" ("user_id", "session_key");
CREATE INDEX IF NOT EXISTS "gosessions_usersession_session_key" ON "gosessions_usersession" ("session_key");
