-- Back to migration 3's payload: the key and the md5 of the data only.
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
