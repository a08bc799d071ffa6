"""The SQL of `at-item`: the rows of `atp.media` matching title words or a hash prefix."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import psycopg2.extensions
from psycopg2 import sql

from automatic_transmission.store.operator import escape_like
from automatic_transmission.store.session import fetch_rows

HASH_PREFIX = re.compile(r"^[0-9a-fA-F]{6,40}$")


def matching_rows(
    connection: psycopg2.extensions.connection, words: Sequence[str], schema: str, limit: int
) -> list[tuple[Any, ...]]:
    """Rows whose release name or title contains every word, or whose hash starts with the one
    word given when it looks like a hash, newest change first: hash, title, status, rejection,
    its reason, error, frozen, year, season, episode, resolution, library path, created,
    updated, deleted, and the whole row as JSON (`at-item --json`)."""
    words = [w for w in words if w.strip()]
    if not words:
        return []
    like = [f"%{escape_like(word)}%" for word in words]
    title_match = sql.SQL(" AND ").join(
        sql.SQL("concat_ws(' ', original_title, media_title) ILIKE %s") for _ in like
    )
    params: list[object] = list(like)
    condition: sql.Composable = title_match
    if len(words) == 1 and HASH_PREFIX.match(words[0]):
        condition = sql.SQL("(hash LIKE %s OR ({}))").format(title_match)
        params.insert(0, words[0].lower() + "%")
    return select_rows(connection, schema, condition, params, limit)


def releases_of_items(
    connection: psycopg2.extensions.connection, spans: Sequence[str], schema: str, limit: int
) -> list[tuple[Any, ...]]:
    """Every row whose item (`item_span`) overlaps one of `spans`, as `matching_rows` gives them."""
    condition = sql.SQL("item_span && ANY(%s::int8range[])")
    return select_rows(connection, schema, condition, [list(spans)], limit)


def select_rows(
    connection: psycopg2.extensions.connection,
    schema: str,
    condition: sql.Composable,
    params: Sequence[object],
    limit: int,
) -> list[tuple[Any, ...]]:
    query = sql.SQL(
        "SELECT hash, coalesce(media_title, original_title), pipeline_status::text,"
        " rejection_status::text, rejection_reason, error_condition, error_status, release_year,"
        " season, episode, resolution, coalesce(target_path, parent_path), created_at,"
        " updated_at, deleted_at IS NOT NULL, to_jsonb(m)"
        " FROM {} AS m WHERE {} ORDER BY updated_at DESC, hash LIMIT %s"
    ).format(sql.Identifier(schema, "media"), condition)
    return fetch_rows(connection, query, [*params, limit], commit=True)
