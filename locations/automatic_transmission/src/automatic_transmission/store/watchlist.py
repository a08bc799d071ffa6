"""WatchlistStore: `atp.watchlist` (what the household follows), read whole and replaced per
source. A source's sync is one transaction: its titles upserted (first_seen kept, last_seen
stamped) and its titles no longer listed deleted; a source that failed is not synced at all,
so its stored titles stay."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg2.extensions
from psycopg2 import sql

from automatic_transmission.store.session import transaction_cursor
from automatic_transmission.watchlist import WatchedTitle, WatchKind, Watchlist, deduplicated

_COLUMNS = ("source", "kind", "watch_key", "imdb_id", "tmdb_id", "tvdb_id", "title", "year")


class WatchlistStore:
    def __init__(self, connection: psycopg2.extensions.connection, schema: str = "atp") -> None:
        self._connection = connection
        self._table = sql.SQL("{}.watchlist").format(sql.Identifier(schema))
        self._kind = sql.SQL("{}.watch_kind").format(sql.Identifier(schema))

    def watchlist(self) -> Watchlist:
        """Every stored title. ONE query (the list is small: what a household follows)."""
        query = sql.SQL(
            "SELECT source, kind::text, title, year, imdb_id, tmdb_id, tvdb_id FROM {table}"
            " ORDER BY source, kind, watch_key"
        ).format(table=self._table)
        with transaction_cursor(self._connection, commit=False) as cursor:
            cursor.execute(query)
            records = cursor.fetchall()
        return Watchlist(
            tuple(
                WatchedTitle(source, WatchKind(kind), title, year, imdb, tmdb, tvdb)
                for source, kind, title, year, imdb, tmdb, tvdb in records
            )
        )

    def replace_source(self, source: str, titles: Sequence[WatchedTitle]) -> tuple[int, int]:
        """The titles of `source` become exactly `titles`: (titles stored, titles removed).
        Two statements in one transaction, committed."""
        rows = deduplicated(t for t in titles if t.source == source)
        arrays = [
            [r.source for r in rows], [r.kind.value for r in rows], [r.watch_key for r in rows],
            [r.imdb_id for r in rows], [r.tmdb_id for r in rows], [r.tvdb_id for r in rows],
            [r.title for r in rows], [r.year for r in rows],
        ]  # fmt: skip
        upsert = sql.SQL(
            "INSERT INTO {table} AS w (source, kind, watch_key, imdb_id, tmdb_id, tvdb_id, title,"
            " year) SELECT v.source, v.kind::{kind}, v.watch_key, v.imdb_id, v.tmdb_id, v.tvdb_id,"
            " v.title, v.year FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[],"
            " %s::integer[], %s::integer[], %s::text[], %s::integer[]) AS v({columns})"
            " ON CONFLICT (source, kind, watch_key) DO UPDATE SET imdb_id = excluded.imdb_id,"
            " tmdb_id = excluded.tmdb_id, tvdb_id = excluded.tvdb_id, title = excluded.title,"
            " year = excluded.year, last_seen = now()"
        ).format(
            table=self._table,
            kind=self._kind,
            columns=sql.SQL(", ").join(sql.Identifier(c) for c in _COLUMNS),
        )
        remove = sql.SQL(
            "DELETE FROM {table} WHERE source = %s AND (kind::text || ' ' || watch_key)"
            " <> ALL(%s::text[])"
        ).format(table=self._table)
        keep = [f"{r.kind.value} {r.watch_key}" for r in rows]
        with transaction_cursor(self._connection, commit=True) as cursor:
            if rows:
                cursor.execute(upsert, arrays)
            cursor.execute(remove, (source, keep))
            removed = cursor.rowcount
        return len(rows), removed
