-- Privileges of the review service's role rear_diff (tests/wiring_schema_tics/test_permissions.py); idempotent.
-- The role is created NOLOGIN when missing: its password is managed outside this project.
-- The IF only decides whether to create; any error of CREATE ROLE still fails the file.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'rear_diff') THEN
        CREATE ROLE rear_diff NOLOGIN;
    END IF;
END;
$$;

-- Start from nothing so a rerun leaves exactly the grants below.
REVOKE ALL ON ALL TABLES IN SCHEMA atp FROM rear_diff;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA atp FROM rear_diff;
REVOKE ALL ON SCHEMA atp FROM rear_diff;

GRANT USAGE ON SCHEMA atp TO rear_diff;
GRANT SELECT, UPDATE ON atp.media, atp.training TO rear_diff;
GRANT SELECT ON atp.prediction, atp.movies TO rear_diff;
