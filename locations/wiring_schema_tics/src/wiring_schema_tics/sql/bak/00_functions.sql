-- Server-side backup helpers in schema bak, used by bak_*.sql and reload_*.sql (format
-- below; the pipeline finds backups by the names in dagstributor_shared/atp_schema.py). Rows never leave the server. Idempotent: run before every backup or
-- reload, so the functions always match this code version.
--
-- A backup of <schema>.<t> on UTC day D is three tables:
--   bak.<schema>_<t>_<D>                 the rows (CREATE TABLE AS; enum columns as text)
--   bak.<schema>_<t>_<D>_metadata        backup_date, source_schema, source_table, backup_table,
--                                        created_at, row_count, source_snapshot (the copy's
--                                        pg_snapshot: what the drop checks changes against;
--                                        older backups lack it)
--   bak.<schema>_<t>_<D>_column_mapping  source_column, backup_column, source_type, backup_type,
--                                        enum_type_name
-- A second backup the same day replaces the first.

CREATE SCHEMA IF NOT EXISTS bak;

-- Backups of one table, newest first (the day in the name orders them).
CREATE OR REPLACE FUNCTION bak.list_backups(source_schema text, source_table text)
RETURNS TABLE (backup_table text, backup_date date)
LANGUAGE sql STABLE AS $$
    SELECT t.tablename::text, to_date(right(t.tablename, 8), 'YYYYMMDD')
    FROM pg_catalog.pg_tables AS t
    WHERE t.schemaname = 'bak'
      AND left(t.tablename, length(source_schema || '_' || source_table || '_'))
          = source_schema || '_' || source_table || '_'
      AND substr(t.tablename, length(source_schema || '_' || source_table || '_') + 1) ~ '^[0-9]{8}$'
    ORDER BY t.tablename DESC
$$;

-- Back up one table. Must run in a REPEATABLE READ (or SERIALIZABLE) transaction, so the copy and
-- the source count come from one snapshot; raises unless source count = backup count = metadata.
CREATE OR REPLACE FUNCTION bak.backup_table(source_schema text, source_table text)
RETURNS TABLE (
    backup_table text, backup_date date, created_at timestamptz,
    source_count bigint, backup_count bigint, metadata_row_count bigint
)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    day date := (now() AT TIME ZONE 'UTC')::date;
    base text := format('%s_%s_%s', source_schema, source_table, to_char(day, 'YYYYMMDD'));
    source regclass := format('%I.%I', source_schema, source_table)::regclass;
    select_list text;
    copied bigint;
    n_source bigint;
    n_backup bigint;
    n_metadata bigint;
BEGIN
    IF current_setting('transaction_isolation') NOT IN ('repeatable read', 'serializable') THEN
        RAISE EXCEPTION 'bak.backup_table(%, %) needs a REPEATABLE READ transaction, not %',
            source_schema, source_table, current_setting('transaction_isolation')
            USING HINT = 'BEGIN ISOLATION LEVEL REPEATABLE READ; ... COMMIT;';
    END IF;

    -- Enum values (and arrays of them) are stored as text: they survive DROP SCHEMA ... CASCADE.
    SELECT string_agg(
               CASE
                   WHEN ty.typtype = 'e' THEN format('%I::text AS %I', a.attname, a.attname)
                   WHEN el.typtype = 'e' THEN format('%I::text[] AS %I', a.attname, a.attname)
                   ELSE format('%I', a.attname)
               END, ', ' ORDER BY a.attnum)
    INTO select_list
    FROM pg_catalog.pg_attribute AS a
    JOIN pg_catalog.pg_type AS ty ON ty.oid = a.atttypid
    LEFT JOIN pg_catalog.pg_type AS el ON el.oid = ty.typelem AND ty.typcategory = 'A'
    WHERE a.attrelid = source AND a.attnum > 0 AND NOT a.attisdropped;

    EXECUTE format('DROP TABLE IF EXISTS bak.%I, bak.%I, bak.%I',
                   base, base || '_metadata', base || '_column_mapping');
    EXECUTE format('CREATE TABLE bak.%I AS SELECT %s FROM %s', base, select_list, source);
    GET DIAGNOSTICS copied = ROW_COUNT;

    EXECUTE format(
        'CREATE TABLE bak.%I (backup_date date NOT NULL, source_schema text NOT NULL, '
        'source_table text NOT NULL, backup_table text NOT NULL, created_at timestamptz NOT NULL, '
        'row_count bigint NOT NULL, source_snapshot text)', base || '_metadata');
    EXECUTE format('INSERT INTO bak.%I VALUES ($1, $2, $3, $4, now(), $5, $6)', base || '_metadata')
        USING day, source_schema, source_table, base, copied, pg_current_snapshot()::text;

    EXECUTE format(
        'CREATE TABLE bak.%I (source_column text NOT NULL, backup_column text NOT NULL, '
        'source_type text NOT NULL, backup_type text NOT NULL, enum_type_name text)',
        base || '_column_mapping');
    EXECUTE format(
        'INSERT INTO bak.%I '
        'SELECT s.attname, b.attname, format_type(s.atttypid, s.atttypmod), '
        '       format_type(b.atttypid, b.atttypmod), '
        '       CASE WHEN sty.typtype = ''e'' THEN format_type(sty.oid, NULL) '
        '            WHEN sel.typtype = ''e'' THEN format_type(sel.oid, NULL) END '
        'FROM pg_catalog.pg_attribute AS s '
        'JOIN pg_catalog.pg_attribute AS b ON b.attrelid = $2 AND b.attname = s.attname '
        'JOIN pg_catalog.pg_type AS sty ON sty.oid = s.atttypid '
        'LEFT JOIN pg_catalog.pg_type AS sel ON sel.oid = sty.typelem AND sty.typcategory = ''A'' '
        'WHERE s.attrelid = $1 AND s.attnum > 0 AND NOT s.attisdropped ORDER BY s.attnum',
        base || '_column_mapping')
        USING source, format('bak.%I', base)::regclass;

    -- Verification: everything counted inside this transaction's one snapshot.
    EXECUTE format('SELECT count(*) FROM %s', source) INTO n_source;
    EXECUTE format('SELECT count(*) FROM bak.%I', base) INTO n_backup;
    EXECUTE format('SELECT row_count FROM bak.%I', base || '_metadata') INTO n_metadata;
    IF n_source <> n_backup OR n_backup <> n_metadata THEN
        RAISE EXCEPTION 'backup bak.% not verified: source % rows, backup % rows, metadata % rows',
            base, n_source, n_backup, n_metadata;
    END IF;

    RETURN QUERY SELECT base, day, now(), n_source, n_backup, n_metadata;
END;
$$;

-- The newest backup of a table as it stands now: its metadata next to a fresh count of its rows.
-- No row when the table has no backup. Used by the drop guard and after a reload.
CREATE OR REPLACE FUNCTION bak.newest_backup(source_schema text, source_table text)
RETURNS TABLE (
    backup_table text, backup_date date, created_at timestamptz,
    metadata_row_count bigint, backup_count bigint
)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    newest text;
BEGIN
    SELECT l.backup_table INTO newest
    FROM bak.list_backups(source_schema, source_table) AS l LIMIT 1;
    IF newest IS NULL THEN
        RETURN;
    END IF;
    IF to_regclass(format('bak.%I', newest || '_metadata')) IS NULL THEN
        RAISE EXCEPTION 'backup bak.% has no metadata table bak.%_metadata', newest, newest;
    END IF;
    RETURN QUERY EXECUTE format(
        'SELECT $1, m.backup_date, m.created_at, m.row_count, (SELECT count(*) FROM bak.%I) '
        'FROM bak.%I AS m', newest, newest || '_metadata')
        USING newest;
END;
$$;

-- Why <schema>.<table> may hold rows its newest backup lacks, or NULL when it provably holds
-- exactly the backup's rows. Call it with the table locked against writers (the drop does), so
-- the answer stays true until the lock goes. Sound, and cheap (one scan, no comparison of rows):
-- a row whose version was written by a transaction the backup's snapshot could not see has an
-- xmin at or after that snapshot's xmin (checked conservatively: a transaction running at backup
-- time counts as "after"); with no such row, every row here was in the backup, so equal counts
-- mean equal contents (a delete lowers the count). A backup without a recorded snapshot (made by
-- an older version) cannot be checked and counts as changed.
CREATE OR REPLACE FUNCTION bak.changes_since_backup(source_schema text, source_table text)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    source regclass := format('%I.%I', source_schema, source_table)::regclass;
    newest text;
    metadata regclass;
    snapshot_text text;
    recorded bigint;
    -- Full 64-bit ids: the first id not yet assigned, and the backup snapshot's oldest unseen one.
    next_xid bigint := pg_snapshot_xmax(pg_current_snapshot())::text::bigint;
    oldest_unseen bigint;
    n_live bigint;
    n_newer bigint;
BEGIN
    SELECT l.backup_table INTO newest FROM bak.list_backups(source_schema, source_table) AS l LIMIT 1;
    IF newest IS NULL THEN
        RETURN format('%s has no backup', source);
    END IF;
    metadata := to_regclass(format('bak.%I', newest || '_metadata'));
    IF metadata IS NULL OR NOT EXISTS (
        SELECT FROM pg_catalog.pg_attribute
        WHERE attrelid = metadata AND attname = 'source_snapshot' AND NOT attisdropped
    ) THEN
        RETURN format('backup bak.%s records no snapshot to compare with', newest);
    END IF;
    EXECUTE format('SELECT source_snapshot, row_count FROM %s', metadata) INTO snapshot_text, recorded;
    IF snapshot_text IS NULL THEN
        RETURN format('backup bak.%s records no snapshot to compare with', newest);
    END IF;
    oldest_unseen := pg_snapshot_xmin(snapshot_text::pg_snapshot)::text::bigint;
    -- xmin is the low 32 bits of the writer's id: its distance back from next_xid, modulo 2^32,
    -- says whether it is at or after oldest_unseen (rows are never 2^31 ids old unfrozen; a
    -- frozen row older than 2^32 ids may look new, which only costs a second backup).
    EXECUTE format(
        'SELECT count(*), count(*) FILTER (WHERE (($1 - xmin::text::bigint) %% 4294967296 '
        '+ 4294967296) %% 4294967296 <= $1 - $2) FROM %s', source)
        INTO n_live, n_newer USING next_xid, oldest_unseen;
    IF n_newer > 0 THEN
        RETURN format('%s rows of %s were written after backup bak.%s', n_newer, source, newest);
    END IF;
    IF n_live <> recorded THEN
        RETURN format('%s holds %s rows, backup bak.%s %s', source, n_live, newest, recorded);
    END IF;
    RETURN NULL;
END;
$$;

-- With the table locked against writers: back it up again, in the caller's transaction, when it
-- may hold rows its newest backup lacks (bak.changes_since_backup). One row: the table, why it
-- was backed up again (NULL: the newest backup holds exactly its rows) and the new backup.
-- Needs a REPEATABLE READ transaction, like bak.backup_table.
CREATE OR REPLACE FUNCTION bak.refresh_backup(source_schema text, source_table text)
RETURNS TABLE (table_name text, changes text, new_backup text, new_backup_rows bigint)
LANGUAGE plpgsql AS $$
DECLARE
    why text := bak.changes_since_backup(source_schema, source_table);
    fresh record;
BEGIN
    IF why IS NULL THEN
        RETURN QUERY SELECT source_table, NULL::text, NULL::text, NULL::bigint;
        RETURN;
    END IF;
    SELECT * INTO fresh FROM bak.backup_table(source_schema, source_table) AS b;
    RETURN QUERY SELECT source_table, why, fresh.backup_table, fresh.backup_count;
END;
$$;

-- Keep the newest `keep` backups of a table; drop the older ones with their metadata and mapping.
CREATE OR REPLACE FUNCTION bak.apply_retention(source_schema text, source_table text, keep integer)
RETURNS TABLE (dropped_table text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    old text;
BEGIN
    IF keep IS NULL OR keep < 1 THEN
        RAISE EXCEPTION 'retention must keep at least one backup, got %', keep;
    END IF;
    FOR old IN
        SELECT l.backup_table FROM bak.list_backups(source_schema, source_table) AS l OFFSET keep
    LOOP
        EXECUTE format('DROP TABLE IF EXISTS bak.%I, bak.%I, bak.%I',
                       old, old || '_metadata', old || '_column_mapping');
        dropped_table := old;
        RETURN NEXT;
    END LOOP;
END;
$$;

-- Restore a table from its newest backup, in the caller's transaction.
-- Columns on both sides are copied (cast to the table's current types, which turns enum text back
-- into enums; a value that no longer fits a column's length fails the reload, never cut); columns added since the backup take their defaults; columns no longer in the table
-- are skipped with a notice. Timestamps are copied as they are: the tables only have UPDATE
-- triggers. The target must be empty unless truncate_first (default: the session setting
-- wst.reload_truncate, which the job sets from its run config; psql leaves it off).
CREATE OR REPLACE FUNCTION bak.reload_table(
    target_schema text,
    target_table text,
    truncate_first boolean DEFAULT coalesce(nullif(current_setting('wst.reload_truncate', true), '')::boolean, false)
)
RETURNS TABLE (
    backup_table text, backup_count bigint, metadata_row_count bigint, restored_count bigint,
    truncated boolean, restored_columns text[], defaulted_columns text[], skipped_columns text[]
)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    target regclass := format('%I.%I', target_schema, target_table)::regclass;
    newest record;
    backup regclass;
    insert_list text;
    select_list text;
    restored text[];
    defaulted text[];
    skipped text[];
    column_name text;
    not_empty boolean;
    n_restored bigint;
    rebuild text[] := '{}';
    teardown text[] := '{}';
    statement text;
    metadata_rows bigint;
BEGIN
    -- The newest backup and its metadata, without recounting its rows: the INSERT below reads
    -- every one of them, and its row count is checked against the metadata.
    SELECT l.backup_table INTO newest FROM bak.list_backups(target_schema, target_table) AS l LIMIT 1;
    IF newest.backup_table IS NULL THEN
        RAISE EXCEPTION 'no backup of %.% in schema bak', target_schema, target_table;
    END IF;
    IF to_regclass(format('bak.%I', newest.backup_table || '_metadata')) IS NULL THEN
        RAISE EXCEPTION 'backup bak.% has no metadata table bak.%_metadata',
            newest.backup_table, newest.backup_table;
    END IF;
    EXECUTE format('SELECT row_count FROM bak.%I', newest.backup_table || '_metadata')
        INTO metadata_rows;
    backup := format('bak.%I', newest.backup_table)::regclass;

    SELECT string_agg(format('%I', t.attname), ', ' ORDER BY t.attnum),
           -- Cast to the schema-qualified type without length or precision (pg_catalog.bpchar,
           -- not `character`, which means char(1)): the INSERT's assignment then checks the
           -- column's length and fails on a value that no longer fits, where an explicit cast to
           -- varchar(n)/char(n) would silently cut it.
           string_agg(CASE WHEN t.atttypid = b.atttypid
                           THEN format('%I', t.attname)
                           ELSE format('%I::%I.%I', t.attname, tn.nspname, tt.typname)
                      END, ', ' ORDER BY t.attnum),
           array_agg(t.attname::text ORDER BY t.attnum)
    INTO insert_list, select_list, restored
    FROM pg_catalog.pg_attribute AS t
    JOIN pg_catalog.pg_type AS tt ON tt.oid = t.atttypid
    JOIN pg_catalog.pg_namespace AS tn ON tn.oid = tt.typnamespace
    JOIN pg_catalog.pg_attribute AS b
      ON b.attrelid = backup AND b.attname = t.attname AND b.attnum > 0 AND NOT b.attisdropped
    WHERE t.attrelid = target AND t.attnum > 0 AND NOT t.attisdropped AND t.attgenerated = '';

    SELECT coalesce(array_agg(t.attname::text ORDER BY t.attnum), '{}') INTO defaulted
    FROM pg_catalog.pg_attribute AS t
    WHERE t.attrelid = target AND t.attnum > 0 AND NOT t.attisdropped AND t.attgenerated = ''
      AND NOT EXISTS (SELECT FROM pg_catalog.pg_attribute AS b
                      WHERE b.attrelid = backup AND b.attname = t.attname AND NOT b.attisdropped);
    -- A generated column of the target (atp.media.item_span) is neither restored nor skipped:
    -- the INSERT computes it again from the restored columns.
    SELECT coalesce(array_agg(b.attname::text ORDER BY b.attnum), '{}') INTO skipped
    FROM pg_catalog.pg_attribute AS b
    WHERE b.attrelid = backup AND b.attnum > 0 AND NOT b.attisdropped
      AND NOT EXISTS (SELECT FROM pg_catalog.pg_attribute AS t
                      WHERE t.attrelid = target AND t.attname = b.attname AND NOT t.attisdropped);

    IF insert_list IS NULL THEN
        RAISE EXCEPTION 'backup % shares no column with %', backup, target;
    END IF;
    FOREACH column_name IN ARRAY skipped LOOP
        RAISE NOTICE 'column % of backup % is not in %: skipped', column_name, backup, target;
    END LOOP;
    FOREACH column_name IN ARRAY defaulted LOOP
        RAISE NOTICE 'column % of % is not in backup %: takes its default', column_name, target, backup;
    END LOOP;

    EXECUTE format('SELECT EXISTS (SELECT FROM %s)', target) INTO not_empty;
    IF not_empty THEN
        IF NOT truncate_first THEN
            RAISE EXCEPTION '% is not empty; reload refuses to mix restored and existing rows', target
                USING HINT = 'run config truncate: true empties the table first';
        END IF;
        EXECUTE format('TRUNCATE %s', target);
    END IF;

    -- Like pg_restore: load first, build the indexes after (one sort each instead of a million
    -- inserts into each b-tree). Index-backed constraints (primary key, unique, exclusion) and
    -- plain indexes are recreated from their own definitions under their own names, in this
    -- transaction; nobody sees the table without them. Skipped when a foreign key refers to the
    -- table (its key could not be dropped). CHECK and NOT NULL constraints stay and check each row.
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_constraint WHERE confrelid = target) THEN
        SELECT coalesce(array_agg(format('ALTER TABLE %s ADD CONSTRAINT %I %s', target, c.conname,
                                         pg_catalog.pg_get_constraintdef(c.oid))
                                  ORDER BY c.conname), '{}'),
               coalesce(array_agg(format('ALTER TABLE %s DROP CONSTRAINT %I', target, c.conname)
                                  ORDER BY c.conname), '{}')
        INTO rebuild, teardown
        FROM pg_catalog.pg_constraint AS c
        WHERE c.conrelid = target AND c.contype IN ('p', 'u', 'x');
        SELECT rebuild || coalesce(array_agg(pg_catalog.pg_get_indexdef(i.indexrelid)
                                             ORDER BY i.indexrelid), '{}'),
               teardown || coalesce(array_agg(format('DROP INDEX %s', i.indexrelid::regclass)
                                              ORDER BY i.indexrelid), '{}')
        INTO rebuild, teardown
        FROM pg_catalog.pg_index AS i
        WHERE i.indrelid = target
          AND NOT EXISTS (SELECT FROM pg_catalog.pg_constraint AS c WHERE c.conindid = i.indexrelid);
    END IF;
    FOREACH statement IN ARRAY teardown LOOP
        EXECUTE statement;
    END LOOP;
    -- Sort each index in memory where the server's default would spill to disk (this
    -- transaction only; never lowered).
    IF pg_catalog.pg_size_bytes(current_setting('maintenance_work_mem')) < 256 * 1024 * 1024 THEN
        PERFORM set_config('maintenance_work_mem', '256MB', true);
    END IF;

    EXECUTE format('INSERT INTO %s (%s) SELECT %s FROM %s', target, insert_list, select_list, backup);
    GET DIAGNOSTICS n_restored = ROW_COUNT;
    FOREACH statement IN ARRAY rebuild LOOP
        EXECUTE statement;
    END LOOP;
    IF n_restored <> metadata_rows THEN
        RAISE EXCEPTION 'reload of % from % restored % rows; its metadata says %',
            target, backup, n_restored, metadata_rows;
    END IF;

    -- backup_count: the rows read from the backup table, every one of them.
    RETURN QUERY SELECT newest.backup_table::text, n_restored, metadata_rows,
        n_restored, coalesce(not_empty AND truncate_first, false), restored, defaulted, skipped;
END;
$$;
