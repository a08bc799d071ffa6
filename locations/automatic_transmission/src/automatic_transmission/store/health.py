"""The SQL of the health checks: a snapshot of `atp.media`, its rows unchanged too long, and the
age of the newest backup of each table in schema `bak`.

The backups are found by the naming of the schema location (`bak.atp_<table>_<YYYYMMDD>_metadata`,
with `created_at`), named by dagstributor_shared.atp_schema, which both locations share.
Every read ends its transaction (fetch_rows(commit=True)): the asset's connection is never left
idle in transaction.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg2.extensions
from psycopg2 import sql

from automatic_transmission.store.session import fetch_rows
from dagstributor_shared import atp_schema

BACKED_UP_TABLES = atp_schema.TABLES


def status_figures(
    connection: psycopg2.extensions.connection, schema: str
) -> list[tuple[Any, ...]]:
    """Per status: live rows, of them frozen, soft-deleted rows, and the hours since the oldest
    live, unfrozen row last changed (0 when none)."""
    return fetch_rows(
        connection,
        sql.SQL(
            "SELECT pipeline_status::text, count(*) FILTER (WHERE deleted_at IS NULL),"
            " count(*) FILTER (WHERE deleted_at IS NULL AND error_status),"
            " count(*) FILTER (WHERE deleted_at IS NOT NULL),"
            " coalesce(extract(epoch FROM now() - min(updated_at)"
            "   FILTER (WHERE deleted_at IS NULL AND NOT error_status)), 0) / 3600.0"
            " FROM {} GROUP BY 1"
        ).format(sql.Identifier(schema, "media")),
        commit=True,
    )


def rejection_reasons(
    connection: psycopg2.extensions.connection, schema: str, no_reason: str, limit: int
) -> list[tuple[Any, ...]]:
    """(reason, rows) of rejected rows, the `limit` most frequent first; `no_reason` for none."""
    return fetch_rows(
        connection,
        sql.SQL(
            "SELECT coalesce(rejection_reason, %s), count(*) FROM {}"
            " WHERE rejection_status = 'rejected' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT %s"
        ).format(sql.Identifier(schema, "media")),
        (no_reason, limit),
        commit=True,
    )


class Stale(enum.Enum):
    """Which live rows a check ages: the SQL condition that selects them."""

    FROZEN = "error_status"
    STALLED_DOWNLOAD = "pipeline_status = 'downloading' AND NOT error_status"


def stale_rows(
    connection: psycopg2.extensions.connection,
    schema: str,
    condition: sql.Composable,
    params: Sequence[object],
    limit: int,
) -> list[tuple[Any, ...]]:
    """The oldest `limit` live rows matching `condition`: hash, release name, status, error,
    hours since the last change, and how many rows match in all."""
    return fetch_rows(
        connection,
        sql.SQL(
            "SELECT hash, original_title, pipeline_status::text, coalesce(error_condition, ''),"
            " extract(epoch FROM now() - updated_at) / 3600.0, count(*) OVER ()"
            " FROM {} WHERE deleted_at IS NULL AND ({}) ORDER BY updated_at, hash LIMIT %s"
        ).format(sql.Identifier(schema, "media"), condition),
        (*params, limit),
        commit=True,
    )


def unchanged_rows(
    connection: psycopg2.extensions.connection,
    schema: str,
    kind: Stale,
    seconds: float,
    limit: int,
) -> list[tuple[Any, ...]]:
    """Rows of `kind` unchanged for longer than `seconds` (as stale_rows)."""
    condition = sql.SQL(kind.value + " AND updated_at < now() - make_interval(secs => %s)")
    return stale_rows(connection, schema, condition, (seconds,), limit)


def waiting_rows(
    connection: psycopg2.extensions.connection,
    schema: str,
    limits_seconds: Mapping[str, float],
    limit: int,
) -> list[tuple[Any, ...]]:
    """Unfrozen rows waiting in a status longer than its limit (status -> seconds; other
    statuses are not judged), as stale_rows."""
    condition = sql.SQL(
        "NOT error_status AND updated_at < now() - make_interval(secs => "
        "(SELECT l.secs FROM unnest(%s::text[], %s::float8[]) AS l(status, secs)"
        "  WHERE l.status = pipeline_status::text))"
    )
    params = (list(limits_seconds), list(limits_seconds.values()))
    return stale_rows(connection, schema, condition, params, limit)


def backup_ages_hours(
    connection: psycopg2.extensions.connection,
    tables: Sequence[str] = BACKED_UP_TABLES,
    schema: str = "atp",
) -> dict[str, float | None]:
    """Table -> age in hours of its newest backup (None: no backup)."""
    pattern = atp_schema.metadata_table_pattern(tables, schema)
    names = fetch_rows(
        connection,
        sql.SQL(
            "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = 'bak'"
            " AND tablename ~ %s ORDER BY tablename DESC"
        ),
        (pattern,),
        commit=True,
    )
    newest: dict[str, str] = {}
    for (name,) in names:
        table = atp_schema.table_of_metadata(str(name), schema)
        newest.setdefault(table, str(name))  # names sort by day: the first is the newest
    ages: dict[str, float | None] = dict.fromkeys(tables)
    if newest:
        union = sql.SQL(" UNION ALL ").join(
            sql.SQL(
                "SELECT {}::text, extract(epoch FROM now() - max(created_at)) / 3600.0 FROM {}"
            ).format(sql.Literal(table), sql.Identifier("bak", name))
            for table, name in newest.items()
        )
        for found, hours in fetch_rows(connection, union, commit=True):
            ages[str(found)] = None if hours is None else round(float(str(hours)), 3)
    return ages
