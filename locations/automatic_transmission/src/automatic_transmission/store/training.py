"""`TrainingStore`: every SQL statement touching `atp.training`.

Each method is one round trip whatever the number of titles. Transactions as `MediaStore`'s
(`store.session`): reads leave a transaction the caller opened alone, writes commit.
Rows with `human_labeled` are never written: not their metadata, not their label.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import psycopg2.extensions
from psycopg2 import sql

from automatic_transmission.limits import (
    CODE_CHARS,
    GENRE_CHARS,
    IMDB_ID_PATTERN,
    PRODUCTION_STATUS_CHARS,
    TITLE_CHARS,
)
from automatic_transmission.model import (
    MAX_INTEGER,
    TRAINING_COLUMNS,
    LabelType,
    MediaRow,
    MediaType,
    TrainingRecord,
)
from automatic_transmission.store.session import transaction_cursor

MAX_BIGINT = 2**63 - 1


def valid_imdb_id(value: str | None) -> str | None:
    return value if value is not None and IMDB_ID_PATTERN.match(value) else None


@dataclass(frozen=True)
class StoredTitle:
    """A training row as step 05 and 06 read it: its metadata plus label state and age."""

    record: TrainingRecord
    label: LabelType | None
    human_labeled: bool
    anomalous: bool
    updated_at: dt.datetime | None = None


def _bounded(value: float | None, low: float, high: float) -> Any:
    return value if value is not None and low <= value <= high else None


def fit(record: TrainingRecord) -> TrainingRecord:
    """Make a record fit the table's types and CHECKs, so one odd title never fails its batch.

    Over-long text is cut, NUL characters (PostgreSQL text cannot hold them) are removed, codes
    that are not two letters and out-of-range numbers are dropped.
    """

    def is_code(value: object) -> bool:
        return isinstance(value, str) and len(value) == CODE_CHARS and value.isalpha()

    def codes(values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(c for c in values if is_code(c))

    def text(value: str | None, limit: int | None = None) -> str | None:
        return value.replace("\x00", "")[:limit] if value is not None else None

    language = record.original_language
    return replace(
        record,
        media_title=text(record.media_title, TITLE_CHARS) or "",
        original_media_title=text(record.original_media_title, TITLE_CHARS),
        tagline=text(record.tagline, TITLE_CHARS),
        overview=text(record.overview),
        production_status=text(record.production_status, PRODUCTION_STATUS_CHARS),
        origin_country=codes(record.origin_country),
        production_countries=codes(record.production_countries),
        spoken_languages=codes(record.spoken_languages),
        tmdb_id=_bounded(record.tmdb_id, 1, MAX_INTEGER),
        season=_bounded(record.season, -32768, 32767),  # smallint
        episode=_bounded(record.episode, -32768, 32767),
        original_language=language if is_code(language) else None,
        production_companies=tuple(text(c, TITLE_CHARS) or "" for c in record.production_companies),
        genre=tuple(text(g, GENRE_CHARS) or "" for g in record.genre),
        budget=_bounded(record.budget, 0, MAX_BIGINT),
        revenue=_bounded(record.revenue, 0, MAX_BIGINT),
        runtime=_bounded(record.runtime, 0, MAX_INTEGER),
        tmdb_rating=_bounded(record.tmdb_rating, 0, 10),
        tmdb_votes=_bounded(record.tmdb_votes, 0, MAX_INTEGER),
        rt_score=_bounded(record.rt_score, 0, 100),
        metascore=_bounded(record.metascore, 0, 100),
        imdb_rating=_bounded(record.imdb_rating, 0, 100),
        imdb_votes=_bounded(record.imdb_votes, 0, MAX_INTEGER),
    )


def _python(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list):
        return tuple(v.strip() if isinstance(v, str) else v for v in value)
    if isinstance(value, str):
        return value.rstrip() if len(value) == 2 else value
    return value


class TrainingStore:
    """Reads and writes of `atp.training` on one psycopg2 connection."""

    def __init__(self, connection: psycopg2.extensions.connection, schema: str = "atp") -> None:
        self.connection = connection
        self.schema = schema
        self._table = sql.SQL("{}.training").format(sql.Identifier(schema))

    # --- reads -------------------------------------------------------------------------------

    def _select(self, where: sql.Composable, params: Mapping[str, Any]) -> list[StoredTitle]:
        query = sql.SQL(
            "SELECT {columns}, t.label::text, t.human_labeled, t.anomalous, t.updated_at "
            "FROM {table} AS t WHERE {where}"
        ).format(
            columns=sql.SQL(", ").join(
                sql.SQL("t.{}{}").format(
                    sql.Identifier(c), sql.SQL("::text" if c == "media_type" else "")
                )
                for c in TRAINING_COLUMNS
            ),
            table=self._table,
            where=where,
        )
        with transaction_cursor(self.connection, commit=False) as cursor:
            cursor.execute(query, params)
            rows = cursor.fetchall()
        titles = []
        n = len(TRAINING_COLUMNS)
        for row in rows:
            values = {c: _python(v) for c, v in zip(TRAINING_COLUMNS, row[:n], strict=True)}
            values["media_type"] = MediaType(values["media_type"])
            label, human, anomalous, updated_at = row[n:]
            titles.append(
                StoredTitle(
                    TrainingRecord(**values),
                    LabelType(label) if label else None,
                    bool(human),
                    bool(anomalous),
                    updated_at,
                )
            )
        return titles

    def fresh_metadata(self, rows: Sequence[MediaRow], max_age_days: float) -> list[StoredTitle]:
        """The stored titles that may be one of `rows`, younger than `max_age_days`
        (human-labelled ones at any age: they are never rewritten). One query.

        A preselection, not the match: titles with one of the rows' tmdb_ids or release years,
        and, for a row without a year, the titles of its kind (TV or movie). The caller matches
        titles with `model.normalised` in Python: the one rule, whatever the server's locale.
        """
        yearless = {row.media_type.is_tv for row in rows if row.release_year is None}
        kinds = [m.value for m in MediaType if m is not MediaType.UNKNOWN and m.is_tv in yearless]
        where = sql.SQL(
            "(t.updated_at >= now() - make_interval(secs => %(age)s) OR t.human_labeled) "
            "AND (t.tmdb_id = ANY(%(ids)s) OR t.release_year = ANY(%(years)s::smallint[]) "
            "OR t.media_type::text = ANY(%(kinds)s))"
        )
        return self._select(
            where,
            {
                "age": float(max_age_days) * 86400,
                "ids": sorted({r.tmdb_id for r in rows if r.tmdb_id is not None}),
                "years": sorted({r.release_year for r in rows if r.release_year is not None}),
                "kinds": kinds,
            },
        )

    def titles(self, imdb_ids: Collection[str]) -> dict[str, StoredTitle]:
        """Stored titles by imdb_id (metadata, label, human_labeled, anomalous). One query."""
        found = self._select(sql.SQL("t.imdb_id = ANY(%(ids)s)"), {"ids": sorted(set(imdb_ids))})
        return {t.record.imdb_id: t for t in found}

    # --- writes ------------------------------------------------------------------------------

    def upsert_metadata(self, records: Sequence[TrainingRecord]) -> int:
        """Insert or refresh metadata by imdb_id in one statement; returns rows written.

        Human-labelled rows are left alone. The row's media type comes from the record (the media
        row), never from what was stored. `tmdb_id` is unique in the table although TMDB's movie
        and TV ids overlap: a title whose tmdb_id another title already holds is stored without
        one (it then cannot be found by tmdb_id and is refreshed by search when met again).
        The rows travel as one JSON array that `jsonb_populate_recordset` reads with the
        table's own column types, so no column type is written down here.
        """
        by_imdb: dict[str, TrainingRecord] = {}
        for record in records:
            by_imdb[record.imdb_id] = fit(record)  # the last word on a title wins
        claimed: dict[int, str] = {}
        batch = []
        for record in by_imdb.values():
            owner = claimed.setdefault(record.tmdb_id, record.imdb_id) if record.tmdb_id else None
            if owner is not None and owner != record.imdb_id:
                record = replace(record, tmdb_id=None)
            batch.append(record)
        if not batch:
            return 0
        columns = [sql.Identifier(c) for c in TRAINING_COLUMNS]
        # A tmdb_id another title holds is not taken (the column is UNIQUE): stored as null.
        tmdb_id = sql.SQL(
            "CASE WHEN EXISTS (SELECT 1 FROM {table} AS o WHERE o.tmdb_id = n.tmdb_id "
            "AND o.imdb_id <> n.imdb_id) THEN NULL ELSE n.tmdb_id END"
        ).format(table=self._table)
        query = sql.SQL(
            "INSERT INTO {table} AS t ({columns}) SELECT {picked} "
            "FROM jsonb_populate_recordset(NULL::{table}, %s::jsonb) AS n "
            "ON CONFLICT (imdb_id) DO UPDATE SET {updates} WHERE NOT t.human_labeled"
        ).format(
            table=self._table,
            columns=sql.SQL(", ").join(columns),
            picked=sql.SQL(", ").join(
                tmdb_id if c.string == "tmdb_id" else sql.SQL("n.{}").format(c) for c in columns
            ),
            updates=sql.SQL(", ").join(
                sql.SQL("{0} = EXCLUDED.{0}").format(c) for c in columns if c.string != "imdb_id"
            ),
        )
        payload = json.dumps([record.model_input() for record in batch])
        with transaction_cursor(self.connection, commit=True) as cursor:
            cursor.execute(query, (payload,))
            return int(cursor.rowcount)

    def write_labels(self, labels: Mapping[str, LabelType]) -> int:
        """Write step 06's verdicts to `training.label`, skipping human-labelled rows and rows that
        already carry that label. One statement; returns rows changed."""
        if not labels:
            return 0
        ids = list(labels)
        query = sql.SQL(
            "UPDATE {table} AS t SET label = n.label::{label_type} "
            "FROM unnest(%s::text[], %s::text[]) AS n (imdb_id, label) "
            "WHERE t.imdb_id = n.imdb_id AND NOT t.human_labeled "
            "AND t.label IS DISTINCT FROM n.label::{label_type}"
        ).format(
            table=self._table,
            label_type=sql.SQL("{}.label_type").format(sql.Identifier(self.schema)),
        )
        with transaction_cursor(self.connection, commit=True) as cursor:
            cursor.execute(query, (ids, [LabelType(labels[i]).value for i in ids]))
            return int(cursor.rowcount)
