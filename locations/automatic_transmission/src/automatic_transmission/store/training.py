"""`TrainingStore`: every SQL statement touching `atp.training` and `atp.prediction`.

Each method is one round trip whatever the number of titles, and commits its own writes.
Rows with `human_labeled` are never written: not their metadata, not their label.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from automatic_transmission.model import LabelType, MediaType

if TYPE_CHECKING:
    import psycopg2.extensions

IMDB_ID = re.compile(r"^tt[0-9]{7,8}$")
MIN_YEAR, MAX_YEAR = 1850, 2100  # training.release_year CHECK (and media.release_year)
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
# title -> lowercase letters and digits only; `title_key` and `_TITLE_KEY_SQL` must agree.
_TITLE_KEY_SQL = "regexp_replace(lower({column}), '[^a-z0-9]+', '', 'g')"


def title_key(title: str | None) -> str:
    """A title reduced for matching (`The Matrix: Reloaded` -> `thematrixreloaded`)."""
    return re.sub(r"[^a-z0-9]+", "", (title or "").lower())


def valid_imdb_id(value: str | None) -> str | None:
    return value if value is not None and IMDB_ID.match(value) else None


def valid_year(value: int | None) -> int | None:
    return value if value is not None and MIN_YEAR <= value <= MAX_YEAR else None


@dataclass(frozen=True)
class TrainingRecord:
    """The metadata columns of one `atp.training` row (what step 05 writes)."""

    imdb_id: str
    tmdb_id: int | None
    media_type: MediaType
    media_title: str
    release_year: int
    season: int | None = None
    episode: int | None = None
    budget: int | None = None
    revenue: int | None = None
    runtime: int | None = None
    origin_country: tuple[str, ...] = ()
    production_companies: tuple[str, ...] = ()
    production_countries: tuple[str, ...] = ()
    production_status: str | None = None
    original_language: str | None = None
    spoken_languages: tuple[str, ...] = ()
    genre: tuple[str, ...] = ()
    original_media_title: str | None = None
    tagline: str | None = None
    overview: str | None = None
    tmdb_rating: float | None = None
    tmdb_votes: int | None = None
    rt_score: int | None = None
    metascore: int | None = None
    imdb_rating: float | None = None
    imdb_votes: int | None = None

    def model_input(self) -> dict[str, Any]:
        """The record as plain JSON values (the reel-driver request item, the rules' fields)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        out["media_type"] = self.media_type.value
        return out


@dataclass(frozen=True)
class StoredTitle:
    """A training row as step 05 and 06 read it: its metadata plus label state and age."""

    record: TrainingRecord
    label: LabelType | None
    human_labeled: bool
    anomalous: bool
    updated_at: dt.datetime | None = None


METADATA_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(TrainingRecord))
_ARRAY_COLUMNS = {
    "origin_country": "char(2)[]",
    "production_companies": "varchar(255)[]",
    "production_countries": "char(2)[]",
    "spoken_languages": "char(2)[]",
    "genre": "varchar(20)[]",
}
_CASTS = {
    "imdb_id": "varchar", "tmdb_id": "integer", "media_type": "{schema}.media_type",
    "media_title": "varchar", "release_year": "smallint", "season": "smallint",
    "episode": "smallint", "budget": "bigint", "revenue": "bigint", "runtime": "integer",
    "production_status": "varchar", "original_language": "char(2)", "original_media_title": "varchar",
    "tagline": "varchar", "overview": "text", "tmdb_rating": "numeric", "tmdb_votes": "integer",
    "rt_score": "integer", "metascore": "integer", "imdb_rating": "numeric", "imdb_votes": "integer",
    **_ARRAY_COLUMNS,
}  # fmt: skip


def _bounded(value: float | None, low: float, high: float | None = None) -> Any:
    if value is None or value < low or (high is not None and value > high):
        return None
    return value


def _small(value: int | None) -> int | None:
    return value if value is not None and -32768 <= value <= 32767 else None


def fit(record: TrainingRecord) -> TrainingRecord:
    """Make a record fit the table's types and CHECKs, so one odd title never fails its batch.

    Over-long text is cut, NUL characters (PostgreSQL text cannot hold them) are removed, codes
    that are not two letters and out-of-range numbers are dropped.
    """

    def is_code(value: object) -> bool:
        return isinstance(value, str) and len(value) == 2 and value.isalpha()

    def codes(values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(c for c in values if is_code(c))

    def text(value: str | None, limit: int | None = None) -> str | None:
        return value.replace("\x00", "")[:limit] if value is not None else None

    language = record.original_language
    return replace(
        record,
        media_title=text(record.media_title, 255) or "",
        original_media_title=text(record.original_media_title, 255),
        tagline=text(record.tagline, 255),
        overview=text(record.overview),
        production_status=text(record.production_status, 25),
        origin_country=codes(record.origin_country),
        production_countries=codes(record.production_countries),
        spoken_languages=codes(record.spoken_languages),
        tmdb_id=record.tmdb_id if record.tmdb_id and 0 < record.tmdb_id <= 2**31 - 1 else None,
        season=_small(record.season),
        episode=_small(record.episode),
        original_language=language if is_code(language) else None,
        production_companies=tuple(text(c, 255) or "" for c in record.production_companies),
        genre=tuple(text(g, 20) or "" for g in record.genre),
        budget=_bounded(record.budget, 0, 2**63 - 1),
        revenue=_bounded(record.revenue, 0, 2**63 - 1),
        runtime=_bounded(record.runtime, 0, 2**31 - 1),
        tmdb_rating=_bounded(record.tmdb_rating, 0, 10),
        tmdb_votes=_bounded(record.tmdb_votes, 0, 2**31 - 1),
        rt_score=_bounded(record.rt_score, 0, 100),
        metascore=_bounded(record.metascore, 0, 100),
        imdb_rating=_bounded(record.imdb_rating, 0, 100),
        imdb_votes=_bounded(record.imdb_votes, 0, 2**31 - 1),
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
    def __init__(self, connection: psycopg2.extensions.connection, schema: str = "atp") -> None:
        if not _IDENTIFIER.match(schema):
            raise ValueError(f"not a plain schema name: {schema!r}")
        self.connection = connection
        self.schema = schema

    # --- reads -------------------------------------------------------------------------------

    def _select(self, where: str, params: Sequence[Any]) -> list[StoredTitle]:
        columns = ", ".join(f"t.{c}" for c in METADATA_COLUMNS)
        query = (
            f"SELECT {columns}, t.label, t.human_labeled, t.anomalous, t.updated_at "
            f"FROM {self.schema}.training AS t WHERE {where}"
        )
        with self.connection.cursor() as cursor:
            cursor.execute(query, params)
            rows = cursor.fetchall()
        self.connection.commit()  # end the read transaction: no idle-in-transaction session
        titles = []
        n = len(METADATA_COLUMNS)
        for row in rows:
            values = {c: _python(v) for c, v in zip(METADATA_COLUMNS, row[:n], strict=True)}
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

    def fresh_metadata(
        self,
        tmdb_ids: Collection[int],
        title_keys: Collection[str],
        max_age_days: float,
    ) -> list[StoredTitle]:
        """Stored titles younger than `max_age_days` (human-labelled ones at any age: they are
        never rewritten) whose tmdb_id is one of `tmdb_ids` or whose title or original title
        reduces (`title_key`) to one of `title_keys`. One query."""
        title = _TITLE_KEY_SQL.format(column="t.media_title")
        original = _TITLE_KEY_SQL.format(column="t.original_media_title")
        where = (
            "(t.updated_at >= now() - make_interval(secs => %s) OR t.human_labeled) "
            f"AND (t.tmdb_id = ANY(%s) OR {title} = ANY(%s) OR {original} = ANY(%s))"
        )
        keys = sorted({k for k in title_keys if k})
        return self._select(where, (float(max_age_days) * 86400, sorted(set(tmdb_ids)), keys, keys))

    def titles(self, imdb_ids: Collection[str]) -> dict[str, StoredTitle]:
        """Stored titles by imdb_id (metadata, label, human_labeled, anomalous). One query."""
        found = self._select("t.imdb_id = ANY(%s)", (sorted(set(imdb_ids)),))
        return {t.record.imdb_id: t for t in found}

    # --- writes ------------------------------------------------------------------------------

    def upsert_metadata(self, records: Sequence[TrainingRecord]) -> int:
        """Insert or refresh metadata by imdb_id in one statement; returns rows written.

        Human-labelled rows are left alone. The row's media type comes from the record (the media
        row), never from what was stored. `tmdb_id` is unique in the table although TMDB's movie
        and TV ids overlap: a title whose tmdb_id another title already holds is stored without
        one (it then cannot be found by tmdb_id and is refreshed by search when met again).
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
        from psycopg2.extras import execute_values

        columns = ", ".join(METADATA_COLUMNS)
        template = "(" + ", ".join(
            f"%s::{_CASTS[c].format(schema=self.schema)}" for c in METADATA_COLUMNS
        ) + ")"  # fmt: skip
        # A tmdb_id another title holds is not taken (the column is UNIQUE): stored as null.
        tmdb_id = (
            f"CASE WHEN EXISTS (SELECT 1 FROM {self.schema}.training AS o "
            "WHERE o.tmdb_id = n.tmdb_id AND o.imdb_id <> n.imdb_id) THEN NULL ELSE n.tmdb_id END"
        )
        picked = [tmdb_id if c == "tmdb_id" else f"n.{c}" for c in METADATA_COLUMNS]
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in METADATA_COLUMNS if c != "imdb_id")
        query = (
            f"WITH n ({columns}) AS (VALUES %s) "
            f"INSERT INTO {self.schema}.training AS t ({columns}) "
            f"SELECT {', '.join(picked)} FROM n "
            f"ON CONFLICT (imdb_id) DO UPDATE SET {updates} WHERE NOT t.human_labeled"
        )
        rows = [
            tuple(
                list(v) if isinstance(v := getattr(r, c), tuple) else getattr(v, "value", v)
                for c in METADATA_COLUMNS
            )
            for r in batch
        ]
        with self.connection.cursor() as cursor:
            execute_values(cursor, query, rows, template=template, page_size=len(rows))
            written = cursor.rowcount
        self.connection.commit()
        return int(written)

    def write_labels(self, labels: Mapping[str, LabelType]) -> int:
        """Write step 06's verdicts to `training.label`, skipping human-labelled rows and rows that
        already carry that label. One statement; returns rows changed."""
        if not labels:
            return 0
        ids = list(labels)
        values = [LabelType(labels[i]).value for i in ids]
        query = (
            f"UPDATE {self.schema}.training AS t SET label = n.label::{self.schema}.label_type "
            "FROM unnest(%s::text[], %s::text[]) AS n (imdb_id, label) "
            "WHERE t.imdb_id = n.imdb_id AND NOT t.human_labeled "
            f"AND t.label IS DISTINCT FROM n.label::{self.schema}.label_type"
        )
        with self.connection.cursor() as cursor:
            cursor.execute(query, (ids, values))
            changed = cursor.rowcount
        self.connection.commit()
        return int(changed)
