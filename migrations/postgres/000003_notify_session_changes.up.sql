-- Every change of django_session, by anyone (a Go process, Django, raw
-- SQL), notifies the channel gosessions_django_session when its
-- transaction commits, so that the session cache of every Go process
-- forgets that session (app/session/dbstore, WithCache). The payload is
-- the session key, a space and the md5 of the new data ("-" for a delete):
-- a process that already caches exactly that data (its own write) keeps
-- it. TRUNCATE notifies "*": forget everything.
CREATE OR REPLACE FUNCTION gosessions_django_session_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('gosessions_django_session', '*');
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('gosessions_django_session', OLD.session_key || ' -');
    ELSE
        IF TG_OP = 'UPDATE' AND OLD.session_key <> NEW.session_key THEN
            PERFORM pg_notify('gosessions_django_session', OLD.session_key || ' -');
        END IF;
        PERFORM pg_notify('gosessions_django_session', NEW.session_key || ' ' || md5(NEW.session_data));
    END IF;
    RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS gosessions_django_session_changed ON "django_session";
CREATE TRIGGER gosessions_django_session_changed
    AFTER INSERT OR UPDATE OR DELETE ON "django_session"
    FOR EACH ROW EXECUTE FUNCTION gosessions_django_session_notify();
DROP TRIGGER IF EXISTS gosessions_django_session_truncated ON "django_session";
CREATE TRIGGER gosessions_django_session_truncated
    AFTER TRUNCATE ON "django_session"
    FOR EACH STATEMENT EXECUTE FUNCTION gosessions_django_session_notify();
