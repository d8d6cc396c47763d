-- The schema itself and the record of applied migrations. The schema's name
-- comes from the session setting payments.schema (set by migrate), so the
-- same files serve every deployment; later files rely on search_path.
DO $$
BEGIN
    EXECUTE format('CREATE SCHEMA IF NOT EXISTS %I', current_setting('payments.schema'));
    EXECUTE format(
        'CREATE TABLE IF NOT EXISTS %I.schema_migrations (
             version    int PRIMARY KEY,
             name       text NOT NULL,
             checksum   text NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now()
         )',
        current_setting('payments.schema'));
END
$$;
