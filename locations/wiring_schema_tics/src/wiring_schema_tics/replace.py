"""Drop, and drop -> instantiate -> reload, as one transaction that no committed row can escape.

Both start by locking the `atp` tables against every other session (ACCESS EXCLUSIVE: a writer
from psql or a service waits; a pipeline step is already kept out by the maintenance lock), then
check under that lock that each table holds exactly the rows of its newest backup and back it up
again, in the same transaction, when it may not (`bak.refresh_backup`). Only then is the schema
dropped. The replace goes on, still in that transaction, to run the instantiate files and reload
every table, whose counts the reload checks before the commit. Nobody ever sees `atp` missing,
empty or half-loaded: a session that waited on the lock carries on against the new tables (the
server looks a relation's name up again after a lock wait), and any failure rolls everything
back, leaving `atp` exactly as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2.extensions
from psycopg2 import sql

from dagstributor_shared.sql import (
    SqlExecutionError,
    SqlFileResult,
    Statement,
    execute_statements,
    split_statements,
)
from wiring_schema_tics import backups, schema

# How long the drop waits for other sessions' locks on the tables (a long write, an idle open
# transaction) before it fails; it then changes nothing. Below the default statement timeout.
TABLE_LOCK_TIMEOUT = "30s"
LOCK_SOURCE = "lock atp tables"
REFRESH_SOURCE = "refresh stale backups"


@dataclass(frozen=True)
class Part:
    """Statements of one file (or inline step), numbered and lined as in that file."""

    source: str
    statements: Sequence[Statement]

    @classmethod
    def of_file(cls, path: Path) -> Part:
        return cls(str(path), split_statements(path.read_text(), str(path)))

    @classmethod
    def inline(cls, source: str, *texts: str) -> Part:
        return cls(source, [Statement(i, 1, text) for i, text in enumerate(texts, start=1)])


@dataclass(frozen=True)
class RefreshedBackup:
    table: str
    changes: str  # why the newest backup was not enough
    backup_table: str
    rows: int


@dataclass
class DropResult:
    refreshed: list[RefreshedBackup]
    files: list[SqlFileResult]


@dataclass
class ReplaceResult:
    refreshed: list[RefreshedBackup]
    files: list[SqlFileResult]
    reloads: list[backups.ReloadResult]


def run_in_one_transaction(
    connection: psycopg2.extensions.connection, parts: Sequence[Part]
) -> list[SqlFileResult]:
    """Run every part's statements in one REPEATABLE READ transaction; an error names the part's
    own file, statement and line, and rolls everything back."""
    combined: list[Statement] = []
    owners: list[tuple[int, Statement]] = []
    for index, part in enumerate(parts):
        for statement in part.statements:
            combined.append(Statement(len(combined) + 1, statement.line, statement.text))
            owners.append((index, statement))
    previous = connection.isolation_level
    connection.set_session(isolation_level=psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ)
    try:
        result = execute_statements(connection, combined, source="; ".join(p.source for p in parts))
    except SqlExecutionError as error:
        index, statement = owners[error.statement_number - 1]
        raise SqlExecutionError(
            parts[index].source, statement.number, error.line, error.sqlstate, error.pg_message
        ) from error
    finally:
        if not connection.closed:
            connection.set_session(isolation_level=previous)
    per_part: list[SqlFileResult] = []
    position = 0
    for part in parts:
        mine = result.statements[position : position + len(part.statements)]
        position += len(part.statements)
        for own, statement_result in zip(part.statements, mine, strict=True):
            statement_result.number = own.number
        per_part.append(SqlFileResult(part.source, list(mine), sum(r.duration_s for r in mine)))
    return per_part


def _existing_tables(connection: psycopg2.extensions.connection) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t FROM unnest(%s::text[]) WITH ORDINALITY AS u(t, n)"
            " WHERE to_regclass(format('%%I.%%I', %s::text, t)) IS NOT NULL ORDER BY n",
            (list(schema.TABLES), schema.SCHEMA),
        )
        rows = [str(row[0]) for row in cursor.fetchall()]
    connection.rollback()
    return rows


def _guard_parts(connection: psycopg2.extensions.connection, tables: Sequence[str]) -> list[Part]:
    """Lock the tables, then back up again whichever may hold rows its newest backup lacks."""
    if not tables:
        return []
    names = sql.SQL(", ").join(sql.Identifier(schema.SCHEMA, t) for t in tables)
    lock = sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(names)
    refresh = [
        sql.SQL("SELECT * FROM bak.refresh_backup({}, {})")
        .format(sql.Literal(schema.SCHEMA), sql.Literal(t))
        .as_string(connection)
        for t in tables
    ]
    return [
        # Both statements need no snapshot, so the transaction's snapshot is taken after the lock.
        Part.inline(
            LOCK_SOURCE,
            f"SET LOCAL lock_timeout = '{TABLE_LOCK_TIMEOUT}'",
            # Safe without waiting for the flush: the transaction is all or nothing, so a crash
            # right after the commit can only bring back atp as it was before the drop.
            "SET LOCAL synchronous_commit = off",
            lock.as_string(connection),
        ),
        Part.inline(REFRESH_SOURCE, *refresh),
    ]


def _refreshed(result: SqlFileResult) -> list[RefreshedBackup]:
    rows = [r for statement in result.statements for r in (statement.rows or [])]
    return [
        RefreshedBackup(r["table_name"], r["changes"], r["new_backup"], int(r["new_backup_rows"]))
        for r in rows
        if r["changes"] is not None
    ]


def drop_checked(connection: psycopg2.extensions.connection) -> DropResult:
    """Drop `atp` after making sure, under a table lock, that its backups hold every row."""
    backups.install_functions(connection)
    tables = _existing_tables(connection)
    guard = _guard_parts(connection, tables)
    results = run_in_one_transaction(connection, [*guard, Part.of_file(schema.DROP_FILE)])
    return DropResult(
        refreshed=_refreshed(results[1]) if guard else [],
        files=results[len(guard) :],
    )


def replace_atp(connection: psycopg2.extensions.connection) -> ReplaceResult:
    """Drop -> instantiate -> reload every table, in one transaction under the table lock."""
    backups.install_functions(connection)
    tables = _existing_tables(connection)
    if list(tables) != list(schema.TABLES):
        missing = sorted(set(schema.TABLES) - set(tables))
        raise RuntimeError(
            f"schema {schema.SCHEMA} lacks {', '.join(missing)}; nothing to replace "
            "(instantiate it, or reload with wst_atp_reload_job)"
        )
    guard = _guard_parts(connection, tables)
    files = [schema.DROP_FILE, *schema.INSTANTIATE_FILES]
    reload_parts = [Part.of_file(backups.reload_file(t)) for t in schema.TABLES]
    results = run_in_one_transaction(
        connection, [*guard, *(Part.of_file(f) for f in files), *reload_parts]
    )
    reloaded = results[len(guard) + len(files) :]
    return ReplaceResult(
        refreshed=_refreshed(results[1]),
        files=results[len(guard) : len(guard) + len(files)],
        reloads=[
            backups.reload_result(table, result)
            for table, result in zip(schema.TABLES, reloaded, strict=True)
        ],
    )


def describe_refreshed(refreshed: Sequence[RefreshedBackup]) -> list[dict[str, Any]]:
    return [
        {"table": r.table, "changes": r.changes, "backup_table": r.backup_table, "rows": r.rows}
        for r in refreshed
    ]
