"""The SQL of the operator jobs: retry frozen rows, override a rejection, reject (soft delete).

Each function runs in one transaction and returns exactly the rows it changed (with the status
before and after) and the named rows it left alone with the reason. A hash may be given whole or as a
unique prefix (6+ hex characters, as `at-item` prints it); prefixes are resolved first, inside the
same transaction: an unknown hash or an ambiguous prefix is an error naming it, and then nothing
changes. The triggers of `atp.media` do the
rest of the bookkeeping (a cleared freeze loses its error text, a row back to `ingested` is reset,
a soft delete becomes `rejected` / `user deletion`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import psycopg2.extensions
from psycopg2 import sql

from automatic_transmission.model import PipelineStatus, RejectionStatus
from automatic_transmission.store.session import fetch_rows, transaction_cursor

# Rows the filters have not yet accepted for download: an override still changes their fate.
OVERRIDABLE_STATUSES = (
    PipelineStatus.INGESTED,
    PipelineStatus.PAUSED,
    PipelineStatus.PARSED,
    PipelineStatus.REJECTED,
    PipelineStatus.FILE_ACCEPTED,
    PipelineStatus.METADATA_COLLECTED,
)


HASH_PREFIX_PATTERN = re.compile(r"^[0-9a-f]{6,40}$")


class UnknownHashError(LookupError):
    """Hashes (or prefixes) that name no row of atp.media, or more than one; nothing was changed."""


@dataclass(frozen=True)
class ChangedRow:
    hash: str
    title: str
    status_before: str
    status_after: str
    detail: str = ""  # e.g. the error that was cleared


@dataclass(frozen=True)
class LeftAlone:
    hash: str
    reason: str


@dataclass(frozen=True)
class OperatorResult:
    changed: Sequence[ChangedRow]
    left_alone: Sequence[LeftAlone] = ()
    hashes: Sequence[str] = ()  # the named hashes in full, prefixes resolved


def normalise_hashes(hashes: Iterable[str]) -> list[str]:
    """Lowercase hashes or hash prefixes (6 to 40 hex characters) in their given order without
    repeats; ValueError names the bad ones."""
    result: dict[str, None] = {}  # ordered, and a set: linear in the number of hashes
    bad: list[str] = []
    for raw in hashes:
        value = raw.strip().lower()
        if not HASH_PREFIX_PATTERN.match(value):
            bad.append(raw)
        else:
            result[value] = None
    if bad:
        raise ValueError(
            "not a torrent hash (40 hex characters, or a prefix of 6 or more): "
            + some([repr(b[:60]) for b in bad])
        )
    return list(result)


EXAMPLES = 5


def some(items: Sequence[str]) -> str:
    """At most EXAMPLES of `items` and how many there are in all: an error about 10,000 hashes
    stays one short line."""
    shown = ", ".join(items[:EXAMPLES])
    return shown if len(items) <= EXAMPLES else f"{shown} and {len(items) - EXAMPLES} more"


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _lists(rows: Iterable[tuple[object, ...]]) -> Iterator[tuple[object, list[object]]]:
    for key, values in rows:
        yield key, list(values) if isinstance(values, list) else []


def resolve_hashes(
    connection: psycopg2.extensions.connection, media: sql.Identifier, given: Sequence[str]
) -> list[str]:
    """The full hashes the given hashes or prefixes name, in their order without repeats: ONE
    query for all. Raises UnknownHashError naming every prefix that matches no row or several."""
    found = fetch_rows(
        connection,
        sql.SQL(
            "SELECT given, array_agg(hash::text ORDER BY hash) FROM unnest(%s::text[]) AS given"
            " LEFT JOIN {} ON hash BETWEEN rpad(given, 40, '0')::char(40)"
            " AND rpad(given, 40, 'f')::char(40) GROUP BY given"  # a range of the primary key
        ).format(media),
        (list(given),),
        commit=False,
    )
    matches = {str(g): [str(h).strip() for h in hs if h is not None] for g, hs in _lists(found)}
    unknown = [g for g in given if not matches[g]]
    ambiguous = [g for g in given if len(matches[g]) > 1]
    problems = []
    if unknown:
        problems.append("no row in atp.media with hash " + some(unknown))
    for prefix in ambiguous:
        shown = ", ".join(matches[prefix][:5]) + (", ..." if len(matches[prefix]) > 5 else "")
        problems.append(
            f"hash prefix {prefix} is ambiguous: it matches {len(matches[prefix])} rows "
            f"({shown}); give more characters"
        )
    if problems:
        raise UnknownHashError("; ".join(problems) + ". Nothing was changed.")
    return list(dict.fromkeys(matches[g][0] for g in given))


def _known(
    connection: psycopg2.extensions.connection, media: sql.Identifier, given: Sequence[str]
) -> tuple[list[str], dict[str, tuple[str, bool, bool, str]]]:
    """The full hashes named (prefixes resolved, see resolve_hashes) and hash -> (status, frozen,
    deleted, rejection status) of their rows, locked."""
    hashes = resolve_hashes(connection, media, given)
    found = fetch_rows(
        connection,
        sql.SQL(
            "SELECT hash::text, pipeline_status::text, error_status, deleted_at IS NOT NULL,"
            " rejection_status::text FROM {} WHERE hash = ANY(%s::bpchar[]) FOR UPDATE"
        ).format(media),
        (hashes,),
        commit=False,
    )
    return hashes, {str(h).strip(): (str(s), bool(e), bool(d), str(r)) for h, s, e, d, r in found}


def _changed(rows: Iterable[tuple[object, ...]]) -> list[ChangedRow]:
    return sorted(
        (
            ChangedRow(str(h).strip(), str(t), str(before), str(after), str(detail or ""))
            for h, t, before, after, detail in rows
        ),
        key=lambda row: row.hash,
    )


def _in_transaction(
    connection: psycopg2.extensions.connection, work: Callable[[], OperatorResult]
) -> OperatorResult:
    """Run `work` as one transaction, by the stores' rule (store/session.py): committed when it
    returns, rolled back when it raises (unless the server already ended the connection)."""
    with transaction_cursor(connection, commit=True):
        return work()


def retry_errored(
    connection: psycopg2.extensions.connection,
    *,
    hashes: Sequence[str] = (),
    error_contains: str | None = None,
    schema: str = "atp",
) -> OperatorResult:
    """Clear the freeze of frozen rows (named ones, those whose error contains a text, or all),
    so the step owning their status picks them up on its next run."""
    media = sql.Identifier(schema, "media")
    given = normalise_hashes(hashes)

    def work() -> OperatorResult:
        left: list[LeftAlone] = []
        hashes: list[str] = []
        if given:
            hashes, known = _known(connection, media, given)
            for h in hashes:
                _status, frozen, deleted, _rejection = known[h]
                if deleted:
                    left.append(LeftAlone(h, "soft-deleted"))
                elif not frozen:
                    left.append(LeftAlone(h, "not frozen in error"))
            selector = sql.SQL("hash = ANY(%s::bpchar[])")
            params: list[object] = [hashes]
        elif error_contains:
            selector = sql.SQL("error_condition ILIKE '%%' || %s || '%%'")
            params = [escape_like(error_contains)]
        else:
            selector, params = sql.SQL("true"), []
        rows = fetch_rows(
            connection,
            sql.SQL(
                "UPDATE {media} AS m SET error_status = false FROM ("
                " SELECT hash, error_condition FROM {media}"
                " WHERE error_status AND deleted_at IS NULL AND ({selector}) FOR UPDATE"
                ") AS old WHERE m.hash = old.hash"
                " RETURNING m.hash, m.original_title, m.pipeline_status::text,"
                " m.pipeline_status::text, old.error_condition"
            ).format(media=media, selector=selector),
            params,
            commit=False,
        )
        return OperatorResult(_changed(rows), left, hashes)

    return _in_transaction(connection, work)


def override(
    connection: psycopg2.extensions.connection, hashes: Sequence[str], schema: str = "atp"
) -> OperatorResult:
    """Take items the filters rejected (or would judge): `override` skips every filter. A rejected
    row starts again from `ingested` (parsing and metadata still run); a row the filters have not
    judged yet keeps its status. Rows already accepted for download, already overridden or
    soft-deleted are left alone."""
    media = sql.Identifier(schema, "media")
    given = normalise_hashes(hashes)

    def work() -> OperatorResult:
        hashes, known = _known(connection, media, given)
        left: list[LeftAlone] = []
        for h in hashes:
            status, _frozen, deleted, rejection = known[h]
            if deleted:
                left.append(LeftAlone(h, "soft-deleted"))
            elif rejection == RejectionStatus.OVERRIDE:
                left.append(LeftAlone(h, "already override"))
            elif status not in OVERRIDABLE_STATUSES:
                left.append(LeftAlone(h, f"already accepted ({status})"))
        rows = fetch_rows(
            connection,
            sql.SQL(
                "UPDATE {media} AS m SET rejection_status = 'override', pipeline_status ="
                " CASE WHEN old.pipeline_status = 'rejected' OR old.rejection_status = 'rejected'"
                "  THEN 'ingested'::{status} ELSE old.pipeline_status END"
                " FROM (SELECT hash, pipeline_status, rejection_status, rejection_reason"
                "  FROM {media} WHERE hash = ANY(%s::bpchar[]) AND deleted_at IS NULL"
                "  AND rejection_status <> 'override'"
                "  AND pipeline_status::text = ANY(%s::text[]) FOR UPDATE) AS old"
                " WHERE m.hash = old.hash RETURNING m.hash, m.original_title,"
                " old.pipeline_status::text, m.pipeline_status::text, old.rejection_reason"
            ).format(media=media, status=sql.Identifier(schema, "pipeline_status")),
            (hashes, [s.value for s in OVERRIDABLE_STATUSES]),
            commit=False,
        )
        return OperatorResult(_changed(rows), left, hashes)

    return _in_transaction(connection, work)


def reject(
    connection: psycopg2.extensions.connection, hashes: Sequence[str], schema: str = "atp"
) -> OperatorResult:
    """Soft-delete the named rows: `deleted_at` is set and the row becomes `rejected` with reason
    `user deletion` (trigger); every step skips it from then on. Already deleted rows are left
    alone."""
    media = sql.Identifier(schema, "media")
    given = normalise_hashes(hashes)

    def work() -> OperatorResult:
        hashes, known = _known(connection, media, given)
        left = [LeftAlone(h, "already soft-deleted") for h in hashes if known[h][2]]
        rows = fetch_rows(
            connection,
            sql.SQL(
                "UPDATE {media} AS m SET deleted_at = now() FROM (SELECT hash, pipeline_status"
                " FROM {media} WHERE hash = ANY(%s::bpchar[]) AND deleted_at IS NULL FOR UPDATE)"
                " AS old WHERE m.hash = old.hash RETURNING m.hash, m.original_title,"
                " old.pipeline_status::text, m.pipeline_status::text, m.rejection_reason"
            ).format(media=media),
            (hashes,),
            commit=False,
        )
        return OperatorResult(_changed(rows), left, hashes)

    return _in_transaction(connection, work)
