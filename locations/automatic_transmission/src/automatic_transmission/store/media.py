"""MediaStore: every SQL statement the pipeline runs against `atp.media`, batched.

Round trips do not grow with the number of rows: a batch is sent as arrays (`unnest(...)`) in one
statement per *shape* (outcomes that write the same set of columns), so a call costs a handful of
round trips whether it carries ten rows or ten thousand.

Transactions (`store.session`): `insert_new` and `apply` commit their writes. `select` and
`known_hashes` end the transaction they opened (so the connection is never left idle in
transaction), but leave a transaction the caller had already opened alone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import psycopg2.extensions
from psycopg2 import sql

from automatic_transmission.model import (
    MediaRow,
    MediaType,
    Outcome,
    PipelineStatus,
    RejectionStatus,
    RssSource,
)
from automatic_transmission.store.session import transaction_cursor

HASH_PATTERN = re.compile(r"^[0-9a-f]{40}$")

# Columns an outcome may write, with the type its text value is cast to. `{s}` is the schema.
# Not writable: hash (the key), created_at/updated_at (defaults and trigger), pipeline_status
# (an outcome's `to_status`).
WRITABLE_COLUMNS: Mapping[str, str] = {
    "media_type": "{s}.media_type",
    "media_title": "text",
    "season": "integer",
    "episode": "integer",
    "release_year": "integer",
    "error_status": "boolean",
    "error_condition": "text",
    "rejection_status": "{s}.rejection_status",
    "rejection_reason": "text",
    "parent_path": "text",
    "target_path": "text",
    "original_title": "text",
    "original_path": "text",
    "original_link": "text",
    "rss_source": "{s}.rss_source",
    "uploader": "text",
    "imdb_id": "text",
    "tmdb_id": "integer",
    "resolution": "text",
    "video_codec": "text",
    "audio_codec": "text",
    "upload_type": "text",
    "deleted_at": "timestamptz",
}

_ROW_COLUMNS = tuple(f.name for f in dataclasses.fields(MediaRow))
_ROW_SELECT = sql.SQL(", ").join(
    sql.SQL("{}::text").format(sql.Identifier(c))
    if c in ("media_type", "pipeline_status", "rejection_status", "rss_source")
    else sql.Identifier(c)
    for c in _ROW_COLUMNS
)


@dataclass(frozen=True)
class NewMedia:
    """A row to insert: a torrent first seen in a feed (step 01) or in Transmission (step 02)."""

    hash: str
    media_type: MediaType
    original_title: str
    original_link: str | None = None
    rss_source: RssSource | None = None
    pipeline_status: PipelineStatus = PipelineStatus.INGESTED
    rejection_status: RejectionStatus = RejectionStatus.UNFILTERED
    error_condition: str | None = None  # set = the row is inserted frozen (error_status true)

    def __post_init__(self) -> None:
        if not HASH_PATTERN.match(self.hash):
            raise ValueError(f"not a 40-character lowercase hex info-hash: {self.hash!r}")
        if not self.original_title:
            raise ValueError(f"{self.hash}: original_title is empty")


@dataclass(frozen=True)
class AppliedOutcomes:
    """What `MediaStore.apply` did: hashes updated, and hashes left alone because their row had
    moved on (another status, frozen, soft-deleted or gone). Retry outcomes write nothing."""

    applied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    retried: list[str] = field(default_factory=list)

    def recorded(self, outcomes: Sequence[Outcome]) -> list[Outcome]:
        """The outcomes as they ended up: those whose row moved on are reported as such."""
        skipped = set(self.skipped)
        return [o.moved_on() if o.hash in skipped else o for o in outcomes]


def _text(value: Any) -> str | None:
    """A Python value as the text PostgreSQL casts back to the column's type. NUL characters
    are removed: PostgreSQL text cannot hold them, and one would fail the whole batch."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).replace("\x00", "")


def _enum_or_none(enum: type[RssSource], value: str | None) -> RssSource | None:
    if value is None:
        return None
    try:
        return enum(value)
    except ValueError:  # a label the database knows but this code does not: not worth a crash
        return None


def _row(record: Mapping[str, Any]) -> MediaRow:
    values = dict(record)
    values["hash"] = values["hash"].strip()
    values["media_type"] = MediaType(values["media_type"])
    values["pipeline_status"] = PipelineStatus(values["pipeline_status"])
    values["rejection_status"] = RejectionStatus(values["rejection_status"])
    values["rss_source"] = _enum_or_none(RssSource, values["rss_source"])
    return MediaRow(**values)


# The first key of the row claims' advisory locks (pg_try_advisory_lock(int, int)).
CLAIM_SPACE = 0x6D656469  # "medi"


@dataclass(frozen=True)
class Claim:
    """The hashes this run locked (`held`) and, of those, the rows still to act on (`mine`)."""

    held: list[str] = field(default_factory=list)
    mine: list[MediaRow] = field(default_factory=list)


class MediaStore:
    """Reads and conditional writes of `atp.media` on one psycopg2 connection."""

    def __init__(self, connection: psycopg2.extensions.connection, schema: str = "atp") -> None:
        self._connection = connection
        self._schema = schema
        self._table = sql.SQL("{}.media").format(sql.Identifier(schema))

    @property
    def connection(self) -> psycopg2.extensions.connection:
        """The connection, for another store that must share its transactions."""
        return self._connection

    @property
    def schema(self) -> str:
        return self._schema

    # --- plumbing ------------------------------------------------------------------------------

    def _type(self, template: str) -> sql.Composable:
        if "{s}" in template:
            return sql.SQL(template).format(s=sql.Identifier(self._schema))
        return sql.SQL(template)

    def _cursor(self, *, commit: bool) -> AbstractContextManager[psycopg2.extensions.cursor]:
        return transaction_cursor(self._connection, commit=commit)

    # --- reads ---------------------------------------------------------------------------------

    def select(
        self, status: PipelineStatus, limit: int | None = None, after: MediaRow | None = None
    ) -> list[MediaRow]:
        """Rows in `status`, skipping frozen (error_status) and soft-deleted rows; oldest first
        (by created_at, then hash), only those ordered after `after` when given. ONE query."""
        query = sql.SQL(
            "SELECT {columns} FROM {table} WHERE pipeline_status = %s::{status_type}"
            " AND NOT error_status AND deleted_at IS NULL"
            " AND (%s::timestamptz IS NULL OR (created_at, hash) > (%s::timestamptz, %s::bpchar))"
            " ORDER BY created_at, hash LIMIT %s"
        ).format(
            columns=_ROW_SELECT,
            table=self._table,
            status_type=self._type("{s}.pipeline_status"),
        )
        with self._cursor(commit=False) as cursor:
            since = after.created_at if after is not None else None
            key = after.hash if after is not None else None
            cursor.execute(query, (_text(status), since, since, key, limit))
            records = cursor.fetchall()
        return [_row(dict(zip(_ROW_COLUMNS, record, strict=True))) for record in records]

    def batches(self, status: PipelineStatus, size: int) -> Iterator[list[MediaRow]]:
        """Rows in `status`, `size` at a time: each batch is ONE `select`, made when the caller
        asks for it, so the caller records a batch before the next is read and a backlog never
        sits in memory. Each select continues after the last row yielded: a row the caller left
        as it was (retried later) does not hold back the rows behind it, and a row that comes
        back to `status` during the run is not yielded twice. Stops after a short batch."""
        if size < 1:
            raise ValueError(f"batch size must be at least 1, not {size}")
        last: MediaRow | None = None
        while True:
            batch = self.select(status, limit=size, after=last)
            if batch:
                yield batch
            if len(batch) < size:
                return
            last = batch[-1]

    def known_hashes(self, hashes: Collection[str]) -> set[str]:
        """Which of these hashes already have a row, soft-deleted ones included. ONE query."""
        if not hashes:
            return set()
        query = sql.SQL("SELECT hash FROM {table} WHERE hash = ANY(%s::bpchar[])").format(
            table=self._table
        )
        with self._cursor(commit=False) as cursor:
            cursor.execute(query, (sorted(set(hashes)),))
            return {record[0].strip() for record in cursor.fetchall()}

    def rows_by_hash(self, hashes: Collection[str]) -> dict[str, MediaRow]:
        """The rows of these hashes, whatever their state (frozen and soft-deleted ones too),
        by hash. ONE query."""
        if not hashes:
            return {}
        query = sql.SQL("SELECT {columns} FROM {table} WHERE hash = ANY(%s::bpchar[])").format(
            columns=_ROW_SELECT, table=self._table
        )
        with self._cursor(commit=False) as cursor:
            cursor.execute(query, (sorted(set(hashes)),))
            records = cursor.fetchall()
        rows = [_row(dict(zip(_ROW_COLUMNS, record, strict=True))) for record in records]
        return {row.hash: row for row in rows}

    # --- claims ------------------------------------------------------------------------------

    def claim(self, rows: Sequence[MediaRow], status: PipelineStatus) -> Claim:
        """Claim these rows for this run before acting on them: a session advisory lock per
        hash (first key CLAIM_SPACE, apart from the maintenance lock's), then a re-read of which
        locked rows still are in `status`, not frozen, not deleted. A row another run holds, or
        that moved on meanwhile, is not `mine`. ONE query. Claims end with `release` or when
        the session does (a crashed run never keeps one)."""
        if not rows:
            return Claim()
        query = sql.SQL(
            "WITH locked AS (SELECT h FROM unnest(%s::text[]) AS u(h)"
            " WHERE pg_try_advisory_lock(%s, hashtext(h)))"
            " SELECT l.h, m.hash IS NOT NULL FROM locked AS l LEFT JOIN {table} AS m"
            " ON m.hash = l.h::bpchar AND m.pipeline_status = %s::{status_type}"
            " AND NOT m.error_status AND m.deleted_at IS NULL"
        ).format(table=self._table, status_type=self._type("{s}.pipeline_status"))
        with self._cursor(commit=True) as cursor:
            cursor.execute(query, ([r.hash for r in rows], CLAIM_SPACE, _text(status)))
            found = cursor.fetchall()
        still = {h for h, current in found if current}
        return Claim([h for h, _ in found], [r for r in rows if r.hash in still])

    def release(self, claim: Claim) -> None:
        """End this run's claims (ONE query)."""
        if not claim.held or self._connection.closed:
            return
        with self._cursor(commit=True) as cursor:
            cursor.execute(
                "SELECT count(pg_advisory_unlock(%s, hashtext(h))) FROM unnest(%s::text[]) AS u(h)",
                (CLAIM_SPACE, claim.held),
            )

    # --- writes --------------------------------------------------------------------------------

    def insert_new(self, items: Sequence[NewMedia]) -> list[str]:
        """INSERT ... ON CONFLICT (hash) DO NOTHING in ONE statement; returns the hashes inserted
        (in the order of `items`). A hash repeated in `items` is inserted once, as its first item.
        Two runs inserting the same hash at the same time insert it once. Commits."""
        unique: dict[str, NewMedia] = {}
        for item in items:
            unique.setdefault(item.hash, item)
        if not unique:
            return []
        rows = list(unique.values())
        columns = (
            "hash",
            "media_type",
            "original_title",
            "original_link",
            "rss_source",
            "pipeline_status",
            "rejection_status",
            "error_condition",
        )
        arrays = [[_text(getattr(row, column)) for row in rows] for column in columns]
        query = sql.SQL(
            "INSERT INTO {table} (hash, media_type, original_title, original_link, rss_source,"
            " pipeline_status, rejection_status, error_status, error_condition)"
            " SELECT v.hash, v.media_type::{media_type}, v.original_title, v.original_link,"
            " v.rss_source::{rss_source}, v.pipeline_status::{pipeline_status},"
            " v.rejection_status::{rejection_status}, v.error_condition IS NOT NULL,"
            " v.error_condition"
            " FROM unnest({arrays}) AS v({columns})"
            " ON CONFLICT (hash) DO NOTHING RETURNING hash"
        ).format(
            table=self._table,
            media_type=self._type("{s}.media_type"),
            rss_source=self._type("{s}.rss_source"),
            pipeline_status=self._type("{s}.pipeline_status"),
            rejection_status=self._type("{s}.rejection_status"),
            arrays=sql.SQL(", ").join(sql.SQL("%s::text[]") for _ in columns),
            columns=sql.SQL(", ").join(sql.Identifier(c) for c in columns),
        )
        with self._cursor(commit=True) as cursor:
            cursor.execute(query, arrays)
            inserted = {record[0].strip() for record in cursor.fetchall()}
        return [row.hash for row in rows if row.hash in inserted]

    def apply(self, outcomes: Sequence[Outcome]) -> AppliedOutcomes:
        """Conditional transitions, all in one transaction, committed at the end.

        A write-outcome updates its row only if the row still has `outcome.from_status`, is not
        frozen and not soft-deleted: `to_status` (when set) -> pipeline_status, `changes` ->
        their columns. `media_type` is only ever written over `unknown` (it never changes after
        it is known). Retry outcomes write nothing. One UPDATE per shape (set of written
        columns), so the round trips are bounded by the number of shapes, not of outcomes.
        """
        writes = [o for o in outcomes if o.writes]
        retried = [o.hash for o in outcomes if not o.writes]
        seen: set[str] = set()
        for outcome in writes:
            if outcome.hash in seen:
                raise ValueError(f"two outcomes for the same row {outcome.hash}")
            seen.add(outcome.hash)
            unknown = set(outcome.changes) - set(WRITABLE_COLUMNS)
            if unknown:
                raise ValueError(
                    f"outcome for {outcome.hash} writes columns that are not writable: "
                    + ", ".join(sorted(unknown))
                )
        if not writes:
            return AppliedOutcomes(retried=retried)

        shapes: dict[tuple[bool, tuple[str, ...]], list[Outcome]] = {}
        for outcome in writes:
            key = (outcome.to_status is not None, tuple(sorted(outcome.changes)))
            shapes.setdefault(key, []).append(outcome)

        updated: set[str] = set()
        with self._cursor(commit=True) as cursor:
            for (moves, columns), group in shapes.items():
                query, params = self._update_statement(moves, columns, group)
                cursor.execute(query, params)
                updated.update(record[0].strip() for record in cursor.fetchall())
        return AppliedOutcomes(
            applied=[o.hash for o in writes if o.hash in updated],
            skipped=[o.hash for o in writes if o.hash not in updated],
            retried=retried,
        )

    def _update_statement(
        self, moves: bool, columns: tuple[str, ...], group: Sequence[Outcome]
    ) -> tuple[sql.Composable, list[list[str | None]]]:
        aliases = [f"c{i}" for i in range(len(columns))]
        assignments: list[sql.Composable] = []
        if moves:
            assignments.append(
                sql.SQL("pipeline_status = v.to_status::{}").format(
                    self._type("{s}.pipeline_status")
                )
            )
        for column, alias in zip(columns, aliases, strict=True):
            value = sql.SQL("v.{}::{}").format(
                sql.Identifier(alias), self._type(WRITABLE_COLUMNS[column])
            )
            if column == "media_type":
                value = sql.SQL(
                    "CASE WHEN m.media_type = 'unknown' THEN {} ELSE m.media_type END"
                ).format(value)
            assignments.append(sql.SQL("{} = {}").format(sql.Identifier(column), value))
        if not assignments:  # nothing to write but the condition: a no-op that still checks it
            assignments.append(sql.SQL("pipeline_status = m.pipeline_status"))
        names = ["hash", "from_status", "to_status", *aliases]
        query = sql.SQL(
            "UPDATE {table} AS m SET {assignments}"
            " FROM unnest({arrays}) AS v({names})"
            " WHERE m.hash = v.hash::bpchar"
            " AND m.pipeline_status = v.from_status::{status_type}"
            " AND NOT m.error_status AND m.deleted_at IS NULL"
            " RETURNING m.hash"
        ).format(
            table=self._table,
            assignments=sql.SQL(", ").join(assignments),
            arrays=sql.SQL(", ").join(sql.SQL("%s::text[]") for _ in names),
            names=sql.SQL(", ").join(sql.Identifier(n) for n in names),
            status_type=self._type("{s}.pipeline_status"),
        )
        params: list[list[str | None]] = [
            [o.hash for o in group],
            [_text(o.from_status) for o in group],
            [_text(o.to_status) for o in group],
        ]
        params += [[_text(o.changes[column]) for o in group] for column in columns]
        return query, params
