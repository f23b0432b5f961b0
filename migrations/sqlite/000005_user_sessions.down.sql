-- Drops the per-user index of sessions; the sessions themselves stay.
DROP TABLE IF EXISTS "gosessions_usersession";
