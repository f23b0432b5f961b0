-- The notification of a changed session carries its expiry too, so that a
-- change of expire_date alone (an operator ending a session by moving it
-- into the past, Django's set_expiry saved without other changes) makes
-- every process's session cache forget the session, as a change of its
-- data does. Every column that decides what a read returns is in the
-- payload: "KEY MD5-OF-DATA EXPIRY", the expiry in microseconds since the
-- Unix epoch (computed from whole seconds and the microseconds field, so
-- that it is exact whatever type extract returns). A process that already
-- caches exactly that data and expiry (its own write) keeps it. "KEY -"
-- for a delete and "*" for a TRUNCATE, as before.
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
        PERFORM pg_notify('gosessions_django_session', NEW.session_key || ' ' || md5(NEW.session_data) || ' ' ||
            (extract(epoch FROM date_trunc('second', NEW.expire_date))::bigint * 1000000
             + extract(microseconds FROM NEW.expire_date)::bigint % 1000000)::text);
    END IF;
    RETURN NULL;
END
$$;
