"""Backup, drop guard, reload and retention of the `atp` tables (README "Code locations and jobs"), via the
six jobs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import psycopg2.errors
import psycopg2.extensions
import pytest

from dagstributor_shared import atp_schema
from tests.wiring_schema_tics.conftest import RunJob
from tests.wiring_schema_tics.support import (
    SEEDED_ROWS,
    atp_exists,
    execute,
    executed_steps,
    failure_message,
    query,
    scalar,
    snapshot,
    step_metadata,
)
from wiring_schema_tics import backups, schema
from wiring_schema_tics.jobs import DropGuardConfig
from wiring_schema_tics.schema import TABLES

Connection = psycopg2.extensions.connection
FORCE = {"ops": {"check_backups": {"config": {"force": True}}}}
TRUNCATE = {"ops": {"reload_atp": {"config": {"truncate": True}}}}


def _today(connection: Connection) -> str:
    return str(scalar(connection, "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD')"))


def _backup_tables(connection: Connection) -> list[str]:
    rows = query(connection, "SELECT tablename FROM pg_tables WHERE schemaname = 'bak' ORDER BY 1")
    return [name for (name,) in rows]


def _age_todays_backups(connection: Connection, day: str) -> None:
    """Rename today's backups as if made on `day` (YYYYMMDD), metadata included."""
    today = _today(connection)
    for table in TABLES:
        base = f"atp_{table}_{today}"
        old = f"atp_{table}_{day}"
        execute(connection, f"ALTER TABLE bak.{base} RENAME TO {old}")
        execute(connection, f"ALTER TABLE bak.{base}_metadata RENAME TO {old}_metadata")
        execute(connection, f"ALTER TABLE bak.{base}_column_mapping RENAME TO {old}_column_mapping")
        execute(
            connection,
            f"UPDATE bak.{old}_metadata SET backup_table = %s, backup_date = %s, "
            f"created_at = %s::date",
            (old, dt.datetime.strptime(day, "%Y%m%d").date(), day),
        )


def _back_up_and_recreate_empty(run_job: RunJob) -> None:
    """Back up, drop and instantiate `atp` again: empty tables, ready for a schema change."""
    for job in ("wst_atp_bak_job", "wst_atp_drop_job", "wst_atp_instantiate_job"):
        assert run_job(job).success, job


def test_backup_job_writes_the_documented_backup_format(
    run_job: RunJob, seeded: Connection
) -> None:
    result = run_job("wst_atp_bak_job")
    assert result.success
    today = _today(seeded)
    day = dt.datetime.strptime(today, "%Y%m%d").date()
    for table in TABLES:
        base = f"atp_{table}_{today}"
        assert {base, f"{base}_metadata", f"{base}_column_mapping"} <= set(_backup_tables(seeded))
        # ... which are the names the pipeline's health check looks for
        assert base == atp_schema.backup_table(table, day)
        assert atp_schema.table_of_metadata(atp_schema.metadata_table(base)) == table
        metadata = query(
            seeded,
            f"SELECT backup_date, source_schema, source_table, backup_table, created_at, "
            f"row_count FROM bak.{base}_metadata",
        )
        assert len(metadata) == 1
        backup_date, schema, source, backup, created_at, row_count = metadata[0]
        assert backup_date.strftime("%Y%m%d") == today
        assert (schema, source, backup) == ("atp", table, base)
        assert isinstance(created_at, dt.datetime)
        assert row_count == scalar(seeded, f"SELECT count(*) FROM atp.{table}")
        assert row_count == scalar(seeded, f"SELECT count(*) FROM bak.{base}")
    mapping = dict(
        (column, (backup_type, enum_type))
        for column, backup_type, enum_type in query(
            seeded,
            f"SELECT source_column, backup_type, enum_type_name FROM bak.atp_media_{today}_"
            f"column_mapping WHERE source_column = backup_column",
        )
    )
    assert mapping["pipeline_status"] == ("text", "atp.pipeline_status")
    assert mapping["hash"] == ("character(40)", None)
    assert len(mapping) == scalar(
        seeded,
        "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'atp' "
        "AND table_name = 'media'",
    )


def test_backup_job_reports_counts_backup_names_and_statements(
    run_job: RunJob, seeded: Connection
) -> None:
    result = run_job("wst_atp_bak_job")
    metadata = step_metadata(result, "backup_atp")
    counts = [metadata[f"{t}_rows"] for t in SEEDED_ROWS]
    assert counts == list(SEEDED_ROWS.values())
    names = [backup["backup_table"] for backup in metadata["backups"]]
    assert names == [f"atp_{t}_{_today(seeded)}" for t in TABLES]
    for backup in metadata["backups"]:
        assert backup["source_count"] == backup["backup_count"] == backup["metadata_row_count"]
    assert [s["command_tag"] for s in metadata["statements"]["media"]] == [
        "BEGIN",
        "SELECT 1",
        "COMMIT",
    ]


def test_a_second_backup_the_same_day_replaces_the_first(
    run_job: RunJob, seeded: Connection
) -> None:
    assert run_job("wst_atp_bak_job").success
    execute(seeded, "DELETE FROM atp.media WHERE hash = repeat('d', 40)")
    assert run_job("wst_atp_bak_job").success
    today = _today(seeded)
    left = SEEDED_ROWS["media"] - 1
    assert scalar(seeded, f"SELECT count(*) FROM bak.atp_media_{today}") == left
    assert scalar(seeded, f"SELECT row_count FROM bak.atp_media_{today}_metadata") == left
    assert len(_backup_tables(seeded)) == 3 * len(TABLES)


def test_bak_drop_reload_loses_no_row_and_keeps_enums_and_timestamps(
    run_job: RunJob, seeded: Connection
) -> None:
    before = snapshot(seeded)
    result = run_job("wst_atp_bak_drop_reload_job")
    assert result.success
    assert snapshot(seeded) == before
    replaced = step_metadata(result, "replace_atp")
    counts = [replaced[f"{t}_rows"] for t in SEEDED_ROWS]
    assert counts == list(SEEDED_ROWS.values())
    reloads = replaced["reloads"]
    assert [r["restored_count"] for r in reloads] == list(SEEDED_ROWS.values())
    assert replaced["backed_up_again"] == []  # nothing changed between backup and drop
    assert query(seeded, "SELECT pg_typeof(pipeline_status)::text FROM atp.media LIMIT 1") == [
        ("atp.pipeline_status",)
    ]


def test_backup_then_drop_then_instantiate_then_reload_jobs_restore_every_row(
    run_job: RunJob, seeded: Connection
) -> None:
    before = snapshot(seeded)
    for job in (
        "wst_atp_bak_job",
        "wst_atp_drop_job",
        "wst_atp_instantiate_job",
        "wst_atp_reload_job",
    ):
        assert run_job(job).success, job
    assert snapshot(seeded) == before


def test_reload_gives_new_columns_their_default_and_skips_removed_ones(
    run_job: RunJob, seeded: Connection
) -> None:
    _back_up_and_recreate_empty(run_job)
    execute(seeded, "ALTER TABLE atp.media ADD COLUMN quality_score integer NOT NULL DEFAULT 7")
    execute(seeded, "ALTER TABLE atp.media DROP COLUMN uploader")
    result = run_job("wst_atp_reload_job")
    assert result.success
    media = next(r for r in step_metadata(result, "reload_atp")["reloads"] if r["table"] == "media")
    assert media["defaulted_columns"] == ["quality_score"]
    assert media["skipped_columns"] == ["uploader"]
    assert any("uploader" in notice and "skipped" in notice for notice in media["notices"])
    assert query(seeded, "SELECT DISTINCT quality_score FROM atp.media") == [(7,)]
    assert scalar(seeded, "SELECT count(*) FROM atp.media") == SEEDED_ROWS["media"]


def test_a_backup_made_before_items_existed_reloads_with_defaults_and_computed_items(
    run_job: RunJob, seeded: Connection
) -> None:
    """Issue 16: a backup without the item columns (made by the code before them) still loads:
    revision takes its default and the generated item_span is computed from the columns."""
    assert run_job("wst_atp_bak_job").success
    today = _today(seeded)
    execute(
        seeded,
        f"ALTER TABLE bak.atp_media_{today} DROP COLUMN revision, DROP COLUMN last_season,"
        " DROP COLUMN last_episode, DROP COLUMN seeders, DROP COLUMN item_span",
    )
    execute(seeded, "DROP SCHEMA atp CASCADE")
    assert run_job("wst_atp_instantiate_job").success
    for table in ("media", "training", "prediction"):
        execute(seeded, f"SELECT * FROM bak.reload_table('atp', '{table}')")
    rows = query(
        seeded,
        "SELECT hash, revision, lower(item_span), upper(item_span) FROM atp.media"
        " WHERE tmdb_id IS NOT NULL ORDER BY hash",
    )
    assert rows == [
        ("9" * 40, 1, 22 * 2**26 + 2 * 2**14 + 1, 22 * 2**26 + 2 * 2**14 + 2),
        ("a" * 40, 1, -11, -10),
    ]


def test_reload_fails_rather_than_truncate_values_that_no_longer_fit_a_changed_column(
    run_job: RunJob, seeded: Connection
) -> None:
    _back_up_and_recreate_empty(run_job)
    # 'GRP' (backed up from varchar(25)) does not fit varchar(2): an error, never a silent 'GR'.
    execute(seeded, "ALTER TABLE atp.media ALTER COLUMN uploader TYPE varchar(2)")
    result = run_job("wst_atp_reload_job")
    assert not result.success
    assert "value too long" in failure_message(result, "reload_atp")
    assert scalar(seeded, "SELECT count(*) FROM atp.media") == 0


def test_reload_casts_columns_whose_type_changed_to_the_new_type_keeping_their_values(
    run_job: RunJob, seeded: Connection
) -> None:
    _back_up_and_recreate_empty(run_job)
    # varchar(25) -> char(5): 'GRP' is padded, not cut to one character (`::character`).
    execute(seeded, "ALTER TABLE atp.media ALTER COLUMN uploader TYPE char(5)")
    # (season feeds the generated item_span, which must go before season's type can change)
    execute(seeded, "ALTER TABLE atp.media DROP CONSTRAINT media_one_fetch_per_item")
    execute(seeded, "ALTER TABLE atp.media DROP COLUMN item_span")
    execute(seeded, "ALTER TABLE atp.media ALTER COLUMN season TYPE bigint")
    execute(seeded, "DROP VIEW atp.movies")  # a schema change drops and recreates the view
    execute(seeded, "ALTER TABLE atp.training ALTER COLUMN origin_country TYPE varchar(3)[]")
    assert run_job("wst_atp_reload_job").success
    assert query(seeded, "SELECT uploader, season FROM atp.media WHERE hash = repeat('a', 40)") == [
        ("GRP  ", None)
    ]
    assert scalar(seeded, "SELECT origin_country FROM atp.training WHERE tmdb_id = 11") == [
        "US",
        "GB",
    ]
    assert query(seeded, "SELECT season FROM atp.media WHERE hash = repeat('b', 40)") == [(1,)]


def test_reload_into_a_non_empty_table_is_refused(run_job: RunJob, seeded: Connection) -> None:
    assert run_job("wst_atp_bak_job").success
    execute(seeded, "UPDATE atp.media SET media_title = 'changed after the backup'")
    before = snapshot(seeded)
    result = run_job("wst_atp_reload_job")
    assert not result.success
    assert "atp.media is not empty" in failure_message(result, "reload_atp")
    assert "verify_counts" not in executed_steps(result)
    assert snapshot(seeded) == before


def test_reload_with_truncate_replaces_the_rows_with_the_backup(
    run_job: RunJob, seeded: Connection
) -> None:
    backed_up = snapshot(seeded)
    assert run_job("wst_atp_bak_job").success
    execute(seeded, "UPDATE atp.media SET media_title = 'changed after the backup'")
    execute(seeded, "DELETE FROM atp.prediction")
    result = run_job("wst_atp_reload_job", TRUNCATE)
    assert result.success
    assert snapshot(seeded) == backed_up
    reloads = step_metadata(result, "reload_atp")["reloads"]
    assert [r["truncated"] for r in reloads] == [True, True, False, True]


def test_drop_is_refused_without_any_backup(run_job: RunJob, seeded: Connection) -> None:
    result = run_job("wst_atp_drop_job")
    assert not result.success
    assert "atp.media has no backup" in failure_message(result, "check_backups")
    assert "drop_atp" not in executed_steps(result)
    assert atp_exists(seeded)


def test_drop_is_refused_when_the_newest_backup_is_too_old(
    run_job: RunJob, seeded: Connection
) -> None:
    assert run_job("wst_atp_bak_job").success
    _age_todays_backups(seeded, "20200101")
    result = run_job("wst_atp_drop_job")
    assert not result.success
    assert "old (limit 1 day" in failure_message(result, "check_backups")
    assert atp_exists(seeded)


def test_drop_is_refused_when_a_backup_does_not_match_its_metadata(
    run_job: RunJob, seeded: Connection
) -> None:
    assert run_job("wst_atp_bak_job").success
    execute(seeded, f"DELETE FROM bak.atp_training_{_today(seeded)} WHERE imdb_id = 'tt0000001'")
    result = run_job("wst_atp_drop_job")
    assert not result.success
    assert "has 1 rows but its metadata says 2" in failure_message(result, "check_backups")
    assert atp_exists(seeded)


def test_drop_is_allowed_with_a_fresh_verified_backup(run_job: RunJob, seeded: Connection) -> None:
    assert run_job("wst_atp_bak_job").success
    result = run_job("wst_atp_drop_job")
    assert result.success
    assert step_metadata(result, "check_backups")["forced"] is False
    assert not atp_exists(seeded)


def test_drop_is_allowed_with_force_even_without_backup(
    run_job: RunJob, seeded: Connection
) -> None:
    result = run_job("wst_atp_drop_job", FORCE)
    assert result.success
    assert not atp_exists(seeded)


@pytest.mark.parametrize(("keep", "expected_days"), [(3, 3), (8, 6), (1, 1)])
def test_retention_keeps_the_newest_n_backups_per_table(
    run_job: RunJob, seeded: Connection, keep: int, expected_days: int
) -> None:
    old_days = ["20240101", "20240201", "20240301", "20240401", "20240501"]
    for day in old_days:
        assert run_job("wst_atp_bak_job", {"ops": {"backup_atp": {"config": {"keep": 99}}}}).success
        _age_todays_backups(seeded, day)
    result = run_job("wst_atp_bak_job", {"ops": {"backup_atp": {"config": {"keep": keep}}}})
    assert result.success
    newest_first = [_today(seeded), *reversed(old_days)]
    for table in TABLES:
        expected = set()
        for day in newest_first[:expected_days]:
            base = f"atp_{table}_{day}"
            expected |= {base, f"{base}_metadata", f"{base}_column_mapping"}
        assert {t for t in _backup_tables(seeded) if t.startswith(f"atp_{table}_")} == expected
    dropped = [b["dropped_by_retention"] for b in step_metadata(result, "backup_atp")["backups"]]
    assert [len(d) for d in dropped] == [len(newest_first) - expected_days] * len(TABLES)


def test_a_failed_backup_fails_the_job_before_the_drop(run_job: RunJob, seeded: Connection) -> None:
    # A view where today's training backup must go makes its DROP TABLE fail (a real error).
    execute(seeded, "CREATE SCHEMA bak")
    execute(
        seeded,
        f"CREATE VIEW bak.atp_training_{_today(seeded)} AS SELECT 1 AS x",
    )
    before = snapshot(seeded)
    result = run_job("wst_atp_bak_drop_reload_job")
    assert not result.success
    assert "is not a table" in failure_message(result, "backup_atp")
    assert executed_steps(result) == {"backup_atp"}
    assert atp_exists(seeded)
    assert snapshot(seeded) == before


def test_a_refused_drop_guard_stops_the_job_before_the_drop(
    run_job: RunJob, seeded: Connection
) -> None:
    before = snapshot(seeded)
    tiny_age = {"ops": {"check_backups": {"config": {"max_backup_age_hours": 1e-9}}}}
    result = run_job("wst_atp_bak_drop_reload_job", tiny_age)
    assert not result.success
    assert "refusing to drop schema atp" in failure_message(result, "check_backups")
    assert executed_steps(result) == {"backup_atp", "check_backups"}
    assert snapshot(seeded) == before


def test_a_failure_after_the_drop_rolls_the_drop_back_and_leaves_atp_as_it_was(
    run_job: RunJob, seeded: Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(seeded)
    broken = tmp_path / "02_instantiate_training.sql"
    broken.write_text("CREATE TABLE atp.training (imdb_id atp.no_such_type);\n")
    files = list(schema.INSTANTIATE_FILES)
    monkeypatch.setattr(schema, "INSTANTIATE_FILES", (files[0], broken, *files[2:]))
    result = run_job("wst_atp_bak_drop_reload_job")
    assert not result.success
    assert "02_instantiate_training.sql: statement 1" in failure_message(result, "replace_atp")
    assert executed_steps(result) == {"backup_atp", "check_backups", "replace_atp"}
    # Drop, instantiate and reload are one transaction: the old schema and rows are untouched.
    assert snapshot(seeded) == before
    assert query(seeded, "SELECT pg_typeof(pipeline_status)::text FROM atp.media LIMIT 1") == [
        ("atp.pipeline_status",)
    ]


def _indexes_and_constraints(connection: Connection) -> list[tuple[str, str, str]]:
    return query(
        connection,
        "SELECT c.relname, i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)"
        " FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'atp'"
        " UNION ALL SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)"
        " FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace"
        " WHERE n.nspname = 'atp' ORDER BY 1, 2",
    )


def test_the_reload_builds_every_index_and_key_after_the_load_exactly_as_the_ddl_defines_them(
    run_job: RunJob, seeded: Connection
) -> None:
    defined = _indexes_and_constraints(seeded)
    assert any(name.endswith("media_step_queue") for _, name, _ in defined)
    assert run_job("wst_atp_bak_drop_reload_job").success
    assert _indexes_and_constraints(seeded) == defined
    assert run_job("wst_atp_reload_job", TRUNCATE).success
    assert _indexes_and_constraints(seeded) == defined
    # The rebuilt keys hold: a duplicate is still refused.
    with pytest.raises(psycopg2.errors.UniqueViolation):
        execute(
            seeded,
            "INSERT INTO atp.media (hash, media_type, original_title)"
            " VALUES (repeat('a', 40), 'movie', 'dup')",
        )
    seeded.rollback()


def test_the_drop_guard_and_the_health_check_share_one_backup_age() -> None:
    assert backups.DEFAULT_MAX_BACKUP_AGE == atp_schema.MAX_BACKUP_AGE
    hours = DropGuardConfig().max_backup_age_hours
    assert dt.timedelta(hours=hours) == atp_schema.MAX_BACKUP_AGE
