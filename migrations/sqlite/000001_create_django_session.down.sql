DROP INDEX IF EXISTS "django_session_expire_date_a5c62663";
DROP TABLE IF EXISTS "django_session";
