DROP TRIGGER IF EXISTS gosessions_django_session_truncated ON "django_session";
DROP TRIGGER IF EXISTS gosessions_django_session_changed ON "django_session";
DROP FUNCTION IF EXISTS gosessions_django_session_notify();
