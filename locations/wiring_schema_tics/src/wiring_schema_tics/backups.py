"""Back up, verify, prune, guard and reload the `atp` tables (plain Python, no Dagster).

The work happens server-side in the functions of `sql/bak/00_functions.sql`, called by the
per-table files `bak_<t>.sql` and `reload_<t>.sql` (which also run as they are through psql). This
module runs those files, checks what they return a second time in Python, and turns every
mismatch into an exception: a backup that cannot be verified must fail its step, never pass quietly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import psycopg2.extensions
from psycopg2 import sql

from dagstributor_shared.atp_schema import MAX_BACKUP_AGE
from dagstributor_shared.sql import SqlFileResult, run_sql, run_sql_file
from wiring_schema_tics.schema import SCHEMA, SQL_DIR, TABLES

BAK_DIR = SQL_DIR / "bak"
FUNCTIONS_FILE = BAK_DIR / "00_functions.sql"
DEFAULT_KEEP = 8
# A drop needs a verified backup of every table younger than this (why a day: atp_schema).
DEFAULT_MAX_BACKUP_AGE = MAX_BACKUP_AGE
# Session setting read by bak.reload_table as the default of truncate_first (psql leaves it off).
TRUNCATE_SETTING = "wst.reload_truncate"
R = TypeVar("R")


class BackupVerificationError(RuntimeError):
    """A backup's counts disagree (source, backup table, metadata)."""


class DropRefusedError(RuntimeError):
    """The drop guard found a table without a fresh verified backup."""


class ReloadVerificationError(RuntimeError):
    """A restored table's row count disagrees with its backup."""


def backup_file(table: str) -> Path:
    return BAK_DIR / f"bak_{table}.sql"


def reload_file(table: str) -> Path:
    return BAK_DIR / f"reload_{table}.sql"


@dataclass
class BackupResult:
    table: str
    backup_table: str
    backup_date: date
    created_at: datetime
    source_count: int
    backup_count: int
    metadata_row_count: int
    statements: list[dict[str, Any]]
    dropped_by_retention: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BackupStatus:
    """The newest backup of a table, recounted now."""

    table: str
    backup_table: str
    created_at: datetime
    metadata_row_count: int
    backup_count: int
    age: timedelta

    @property
    def verified(self) -> bool:
        return self.backup_count == self.metadata_row_count


@dataclass
class ReloadResult:
    table: str
    backup_table: str
    backup_count: int
    metadata_row_count: int
    restored_count: int
    truncated: bool
    defaulted_columns: list[str]
    skipped_columns: list[str]
    notices: list[str]
    statements: list[dict[str, Any]]


def _from_row(kind: type[R], row: Mapping[str, Any], **given: Any) -> R:
    """A result from a row the SQL returned: every field the row has a column for, plus `given`
    (fields with a default may be missing from both)."""
    names = {f.name for f in fields(kind)} - set(given)  # type: ignore[arg-type]
    return kind(**{name: row[name] for name in names if name in row}, **given)


def install_functions(connection: psycopg2.extensions.connection) -> SqlFileResult:
    """Create schema `bak` and (re)create its helper functions; cheap and idempotent."""
    return run_sql_file(connection, FUNCTIONS_FILE)


def backup_table(connection: psycopg2.extensions.connection, table: str) -> BackupResult:
    """Back up one table with `bak_<t>.sql` and check its three counts agree."""
    # The executor rolls back whatever the file's own BEGIN left open when it fails.
    result = run_sql_file(connection, backup_file(table))
    rows = result.rows
    if len(rows) != 1:
        raise BackupVerificationError(f"{backup_file(table).name} returned {len(rows)} rows, not 1")
    row = rows[0]
    counts = (row["source_count"], row["backup_count"], row["metadata_row_count"])
    if len(set(counts)) != 1:
        raise BackupVerificationError(
            f"backup bak.{row['backup_table']} of {SCHEMA}.{table} not verified: source "
            f"{counts[0]} rows, backup {counts[1]} rows, metadata {counts[2]} rows"
        )
    return _from_row(BackupResult, row, table=table, statements=result.summary())


def apply_retention(
    connection: psycopg2.extensions.connection, table: str, keep: int = DEFAULT_KEEP
) -> list[str]:
    """Drop all but the newest `keep` backups of a table; returns the dropped backup tables."""
    result = run_sql(
        connection,
        "SELECT dropped_table FROM bak.apply_retention(%(schema)s, %(table)s, %(keep)s)",
        source=f"retention of {SCHEMA}.{table}",
        params={"schema": SCHEMA, "table": table, "keep": keep},
    )
    return [row["dropped_table"] for row in result.rows]


def backup_all(
    connection: psycopg2.extensions.connection,
    tables: Iterable[str] = TABLES,
    keep: int = DEFAULT_KEEP,
) -> list[BackupResult]:
    """Back up and verify every table, then prune; the first failure raises and stops the rest.

    Retention runs only after every backup is verified, so a failed run never deletes old ones.
    """
    if keep < 1:
        raise ValueError(f"retention must keep at least one backup per table, got {keep}")
    install_functions(connection)
    results = [backup_table(connection, table) for table in tables]
    for result in results:
        result.dropped_by_retention = apply_retention(connection, result.table, keep)
    return results


def newest_backup(connection: psycopg2.extensions.connection, table: str) -> BackupStatus | None:
    result = run_sql(
        connection,
        "SELECT b.*, now() - b.created_at AS age FROM bak.newest_backup(%(schema)s, %(table)s) b",
        source=f"newest backup of {SCHEMA}.{table}",
        params={"schema": SCHEMA, "table": table},
    )
    if not result.rows:
        return None
    return _from_row(BackupStatus, result.rows[0], table=table)


def check_drop_allowed(
    connection: psycopg2.extensions.connection,
    max_age: timedelta = DEFAULT_MAX_BACKUP_AGE,
    tables: Iterable[str] = TABLES,
) -> list[BackupStatus]:
    """The drop guard: every table needs a verified backup younger than `max_age`.

    Raises DropRefusedError listing every table that fails, so one run shows all that is missing.
    """
    install_functions(connection)
    statuses: list[BackupStatus] = []
    problems: list[str] = []
    for table in tables:
        status = newest_backup(connection, table)
        if status is None:
            problems.append(f"{SCHEMA}.{table} has no backup")
            continue
        statuses.append(status)
        if not status.verified:
            problems.append(
                f"{SCHEMA}.{table}: backup bak.{status.backup_table} has {status.backup_count} "
                f"rows but its metadata says {status.metadata_row_count}"
            )
        elif status.age > max_age:
            problems.append(
                f"{SCHEMA}.{table}: newest backup bak.{status.backup_table} is {status.age} old "
                f"(limit {max_age})"
            )
    if problems:
        raise DropRefusedError(
            f"refusing to drop schema {SCHEMA}: "
            + "; ".join(problems)
            + " (back up first, or set force: true in the run config)"
        )
    return statuses


def _set_truncate(connection: psycopg2.extensions.connection, truncate: bool) -> None:
    run_sql(
        connection,
        "SELECT set_config(%(name)s, %(value)s, false)",
        source="reload settings",
        params={"name": TRUNCATE_SETTING, "value": "on" if truncate else "off"},
    )


def reload_table(
    connection: psycopg2.extensions.connection, table: str, truncate: bool = False
) -> ReloadResult:
    """Restore one table from its newest backup with `reload_<t>.sql` (one transaction)."""
    _set_truncate(connection, truncate)
    return reload_result(table, run_sql_file(connection, reload_file(table)))


def reload_result(table: str, result: SqlFileResult) -> ReloadResult:
    """What `reload_<t>.sql` returned, checked: restored = backup = metadata row count."""
    row = result.rows[0]
    if not row["restored_count"] == row["backup_count"] == row["metadata_row_count"]:
        raise ReloadVerificationError(
            f"{SCHEMA}.{table}: restored {row['restored_count']} rows from "
            f"bak.{row['backup_table']}; backup has {row['backup_count']}, "
            f"metadata says {row['metadata_row_count']}"
        )
    return _from_row(
        ReloadResult,
        row,
        table=table,
        defaulted_columns=list(row["defaulted_columns"]),
        skipped_columns=list(row["skipped_columns"]),
        notices=[notice for statement in result.statements for notice in statement.notices],
        statements=result.summary(),
    )


def reload_all(
    connection: psycopg2.extensions.connection,
    tables: Iterable[str] = TABLES,
    truncate: bool = False,
) -> list[ReloadResult]:
    """Reload every table in order, each in its own transaction; the first failure raises."""
    install_functions(connection)
    try:
        return [reload_table(connection, table, truncate) for table in tables]
    finally:
        _set_truncate(connection, False)


@dataclass(frozen=True)
class TableCount:
    table: str
    rows: int
    backup_table: str
    backup_rows: int


def verify_restored(
    connection: psycopg2.extensions.connection, tables: Iterable[str] = TABLES
) -> list[TableCount]:
    """Each table now holds exactly as many rows as its newest backup's metadata says."""
    install_functions(connection)
    counts: list[TableCount] = []
    for table in tables:
        status = newest_backup(connection, table)
        if status is None:
            raise ReloadVerificationError(f"{SCHEMA}.{table} has no backup to compare with")
        count = sql.SQL("SELECT count(*) AS n FROM {}").format(sql.Identifier(SCHEMA, table))
        result = run_sql(connection, count.as_string(connection), source=f"count {table}")
        rows = result.rows[0]["n"]
        counts.append(TableCount(table, rows, status.backup_table, status.metadata_row_count))
    wrong = [c for c in counts if c.rows != c.backup_rows]
    if wrong:
        raise ReloadVerificationError(
            "row counts differ from the backups: "
            + "; ".join(
                f"{SCHEMA}.{c.table} has {c.rows}, bak.{c.backup_table} {c.backup_rows}"
                for c in wrong
            )
        )
    return counts
