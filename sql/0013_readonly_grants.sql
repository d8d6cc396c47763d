-- The read-only database user (PAYMENT_POSTGRES_USERNAME_READONLY) may read
-- every table of the schema, as the original's set-up grants it, so reports
-- and dashboards run without write rights. migrate passes the name in the
-- session setting payments.readonly_user: empty when the setting is unset or
-- names the migrating user itself, and then there is nothing to grant.
DO $$
DECLARE
    reader text := coalesce(current_setting('payments.readonly_user', true), '');
    target text := current_setting('payments.schema');
BEGIN
    IF reader = '' OR reader = current_user THEN
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = reader) THEN
        RAISE EXCEPTION 'the read-only user % (PAYMENT_POSTGRES_USERNAME_READONLY) does not exist: create it (CREATE ROLE % LOGIN) or unset the setting', reader, reader;
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', target, reader);
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO %I', target, reader);
    -- Tables of later migrations are made by this same user: they are
    -- readable too, without a grant in each file.
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT ON TABLES TO %I', target, reader);
END
$$;
