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
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import psycopg2.errors
import psycopg2.extensions
from psycopg2 import sql

from automatic_transmission.model import (
    FETCHING_STATUSES,
    HELD_STATUSES,
    MediaRow,
    MediaType,
    Outcome,
    PipelineStatus,
    RejectionStatus,
    RssSource,
)
from automatic_transmission.store.session import transaction_cursor
from automatic_transmission.torrents import is_info_hash

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
    "last_season": "integer",
    "last_episode": "integer",
    "revision": "smallint",
    "seeders": "integer",
}

# The columns a Torznab item fills when it is inserted (NewMedia), with their types.
INDEXER_COLUMNS: Mapping[str, str] = {
    "indexer": "text",
    "seeders": "integer",
    "peers": "integer",
    "size_bytes": "bigint",
    "imdb_id": "text",
    "tmdb_id": "integer",
    "tvdb_id": "integer",
    "minimum_ratio": "real",
    "minimum_seed_time": "integer",
    "download_volume_factor": "real",
}

_FETCHING = ", ".join(f"'{status.value}'" for status in FETCHING_STATUSES)
# A release moves into a "being fetched" status only while no other live release of its item is
# in one (the condition the constraint media_one_fetch_per_item enforces, checked first so a
# batch is not refused for one row).
_FETCH_GUARD = (
    f" AND (v.to_status::{{status_type}} NOT IN ({_FETCHING})"
    f" OR m.pipeline_status IN ({_FETCHING}) OR m.item_span IS NULL"
    " OR NOT EXISTS (SELECT FROM {table} AS o WHERE o.item_span && m.item_span"
    f" AND o.hash <> m.hash AND o.pipeline_status IN ({_FETCHING})"
    " AND NOT o.error_status AND o.deleted_at IS NULL))"
)
_FETCH_ATTEMPTS = 3
RELATED_STATUSES = (PipelineStatus.METADATA_COLLECTED, *FETCHING_STATUSES, *HELD_STATUSES)

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
    # What a Torznab indexer said (INDEXER_COLUMNS); None for other feeds.
    indexer: str | None = None
    seeders: int | None = None
    peers: int | None = None
    size_bytes: int | None = None
    imdb_id: str | None = None
    tmdb_id: int | None = None
    tvdb_id: int | None = None
    minimum_ratio: float | None = None
    minimum_seed_time: int | None = None
    download_volume_factor: float | None = None

    def __post_init__(self) -> None:
        if not is_info_hash(self.hash):
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
    values["item_span"] = _span(values["item_span"])
    return MediaRow(**values)


def _span(value: Any) -> tuple[int, int] | None:
    """An int8range as psycopg2 reads it -> (lower, upper), half-open; None for no item."""
    if value is None or value.isempty or value.lower is None or value.upper is None:
        return None
    return int(value.lower), int(value.upper)


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

    def known_links(self, links: Collection[str]) -> set[str]:
        """Those of `links` some row (soft-deleted ones included) has as its original_link:
        step 01 fetches no `.torrent` it has already seen. One query."""
        if not links:
            return set()
        query = sql.SQL(
            "SELECT DISTINCT original_link FROM {table} WHERE original_link = ANY(%s::text[])"
        ).format(table=self._table)
        with self._cursor(commit=False) as cursor:
            cursor.execute(query, (sorted(set(links)),))
            return {record[0] for record in cursor.fetchall()}

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

    def related_releases(
        self, rows: Collection[MediaRow], statuses: Collection[PipelineStatus] = RELATED_STATUSES
    ) -> list[MediaRow]:
        """Every live release (not frozen, not soft-deleted) in `statuses` whose item overlaps
        the item of one of `rows`; by default those waiting (metadata_collected), being fetched
        or held: what step 06 compares a batch with. ONE query, whatever the number of rows."""
        spans = sorted({f"[{r.item_span[0]},{r.item_span[1]})" for r in rows if r.item_span})
        if not spans:
            return []
        query = sql.SQL(
            "SELECT DISTINCT ON (m.hash) {columns} FROM unnest(%s::int8range[]) AS q(span)"
            " JOIN {table} AS m ON m.item_span && q.span"
            " WHERE NOT m.error_status AND m.deleted_at IS NULL"
            " AND m.pipeline_status = ANY(%s::{status_type}[])"
        ).format(
            columns=_ROW_SELECT,  # unambiguous: q has only `span`
            table=self._table,
            status_type=self._type("{s}.pipeline_status"),
        )
        with self._cursor(commit=False) as cursor:
            cursor.execute(query, (spans, [_text(s) for s in statuses]))
            records = cursor.fetchall()
        return [_row(dict(zip(_ROW_COLUMNS, record, strict=True))) for record in records]

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
            *INDEXER_COLUMNS,
        )
        arrays = [[_text(getattr(row, column)) for row in rows] for column in columns]
        query = sql.SQL(
            "INSERT INTO {table} (hash, media_type, original_title, original_link, rss_source,"
            " pipeline_status, rejection_status, error_status, error_condition, {indexed})"
            " SELECT v.hash, v.media_type::{media_type}, v.original_title, v.original_link,"
            " v.rss_source::{rss_source}, v.pipeline_status::{pipeline_status},"
            " v.rejection_status::{rejection_status}, v.error_condition IS NOT NULL,"
            " v.error_condition, {indexed_values}"
            " FROM unnest({arrays}) AS v({columns})"
            " ON CONFLICT (hash) DO NOTHING RETURNING hash"
        ).format(
            indexed=sql.SQL(", ").join(sql.Identifier(c) for c in INDEXER_COLUMNS),
            indexed_values=sql.SQL(", ").join(
                sql.SQL("v.{}::{}").format(sql.Identifier(c), sql.SQL(t))
                for c, t in INDEXER_COLUMNS.items()
            ),
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

        updated = self._write_shapes(shapes)
        return AppliedOutcomes(
            applied=[o.hash for o in writes if o.hash in updated],
            skipped=[o.hash for o in writes if o.hash not in updated],
            retried=retried,
        )

    def _write_shapes(
        self, shapes: Mapping[tuple[bool, tuple[str, ...]], Sequence[Outcome]]
    ) -> set[str]:
        """The UPDATEs of `apply` in one transaction. A release moving into a "being fetched"
        status while another of its item is being fetched is left alone (`_FETCH_GUARD`); when
        an overlapping run commits such a release between our check and our write, the
        database refuses ours (media_one_fetch_per_item): the transaction is rolled back and
        written again, and the guard then sees the other run's release."""
        for attempt in range(1, _FETCH_ATTEMPTS + 1):
            updated: set[str] = set()
            try:
                with self._cursor(commit=True) as cursor:
                    for (moves, columns), group in shapes.items():
                        query, params = self._update_statement(moves, columns, group)
                        cursor.execute(query, params)
                        updated.update(record[0].strip() for record in cursor.fetchall())
            except psycopg2.errors.ExclusionViolation:
                if attempt == _FETCH_ATTEMPTS:
                    raise
                continue
            return updated
        raise AssertionError("unreachable")  # pragma: no cover

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
            "{guard}"
            " RETURNING m.hash"
        ).format(
            table=self._table,
            guard=sql.SQL(_FETCH_GUARD).format(
                table=self._table, status_type=self._type("{s}.pipeline_status")
            )
            if moves
            else sql.SQL(""),
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
