-- Drop schema atp with its tables, view, enums and trigger functions.
-- Backups live in schema bak (enum columns stored as text), so they survive this.
-- The drop guard (a fresh verified backup of every table, or force) is enforced by the job.
DROP SCHEMA IF EXISTS atp CASCADE;
