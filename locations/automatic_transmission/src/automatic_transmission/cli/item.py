"""``at-item``: what happened to my movie? The matching rows of `atp.media` as a table or JSON.

    uv run at-item "blade runner"      # every word in the release name or the parsed title
    uv run at-item 3f2a9c              # a hash prefix (6+ hex characters)
    uv run at-item --json severance    # for scripts: every column of atp.media, whole
    uv run at-item --item matrix       # every release of the item: held, waiting, why not taken

The database is the pipeline's (AT_PGSQL_*; the embedded server on a workstation without them).
Soft-deleted rows are shown too (status `... (deleted)`): they answer the question as well.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, NoReturn, TextIO

import psycopg2
import psycopg2.extensions

from automatic_transmission.model import UPGRADED_PREFIX
from automatic_transmission.pipeline.notices import episode_code
from automatic_transmission.store.item_search import matching_rows, releases_of_items

DEFAULT_LIMIT = 50
RELEASES_LIMIT = 500  # --item: at most this many releases of the matching items
CELL_WIDTH = 60  # a longer cell is cut with …; --json has every value whole


@dataclass(frozen=True)
class Item:
    hash: str
    title: str
    status: str
    rejection: str
    rejection_reason: str | None
    error: str | None
    year_or_episode: str
    resolution: str | None
    library_path: str | None
    created_at: str
    updated_at: str
    deleted: bool
    columns: dict[str, Any] = field(default_factory=dict)  # the whole row, as JSON values


def as_json(item: Item) -> dict[str, Any]:
    """Every column of the row under its own name, plus the summary the table shows."""
    summary = {k: v for k, v in asdict(item).items() if k != "columns"}
    return {**summary, **item.columns}


def _timestamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def find_items(
    connection: psycopg2.extensions.connection,
    words: Sequence[str],
    schema: str = "atp",
    limit: int = DEFAULT_LIMIT,
) -> list[Item]:
    """Rows whose release name or title contains every word, or whose hash starts with the one
    word given when it looks like a hash; newest change first."""
    return _items(matching_rows(connection, words, schema, limit))


def _items(rows: Sequence[tuple[Any, ...]]) -> list[Item]:
    items = []
    for (h, title, status, rejection, reason, error, frozen, year, season, episode,
         resolution, path, created, updated, deleted, columns) in rows:  # fmt: skip
        items.append(
            Item(
                hash=str(h).strip(),
                title=title,
                status=f"{status} (deleted)" if deleted else status,
                rejection=rejection,
                rejection_reason=reason,
                error=error if frozen else None,
                year_or_episode=episode_code(season, episode) or (str(year) if year else ""),
                resolution=resolution,
                library_path=path,
                created_at=_timestamp(created),
                updated_at=_timestamp(updated),
                deleted=bool(deleted),
                columns={**columns, "hash": str(h).strip()},
            )
        )
    return items


def item_releases(
    connection: psycopg2.extensions.connection,
    found: Sequence[Item],
    schema: str = "atp",
    limit: int = RELEASES_LIMIT,
) -> list[Item]:
    """Every release of the items of `found` (rows whose `item_span` overlaps one of theirs),
    plus the found rows that have no item. ONE query."""
    spans = sorted({str(i.columns["item_span"]) for i in found if i.columns.get("item_span")})
    without = [i for i in found if not i.columns.get("item_span")]
    if not spans:
        return without
    return [*_items(releases_of_items(connection, spans, schema, limit)), *without]


HELD = frozenset({"transferred", "complete"})
FETCHING = frozenset({"media_accepted", "downloading", "downloaded"})


def release_role(item: Item) -> str:
    """What one release is to its item: held by the library, being fetched, waiting for a
    decision, or why it was not taken (or was replaced, or failed)."""
    status = str(item.columns.get("pipeline_status") or item.status)
    if item.deleted:
        return "deleted"
    if item.error:
        return f"frozen: {item.error}"
    if status in HELD:
        return "in the library"
    if status in FETCHING:
        return f"being fetched ({status})"
    if status == "rejected":
        reason = item.rejection_reason or "rejected"
        return (
            f"replaced: {reason}" if reason.startswith(UPGRADED_PREFIX) else f"not taken: {reason}"
        )
    return f"waiting ({status})"


ROLE_ORDER = ("in the library", "being fetched", "waiting", "replaced", "not taken", "frozen")


def _item_key(item: Item) -> tuple[str, str]:
    span = item.columns.get("item_span")
    return (str(span), "") if span else ("", item.hash)


def render_items(items: Sequence[Item]) -> str:
    """The releases grouped by item (`item_span`), each group headed by its item, the one the
    library holds first, then those being fetched, waiting, and why the others were not taken."""
    groups: dict[tuple[str, str], list[Item]] = {}
    for item in items:
        groups.setdefault(_item_key(item), []).append(item)

    def rank(item: Item) -> tuple[int, str]:
        role = release_role(item)
        return (next((n for n, r in enumerate(ROLE_ORDER) if role.startswith(r)), 9), item.hash)

    blocks = []
    for members in groups.values():
        members = sorted(members, key=rank)
        head = members[0]
        label = f"{head.title} {head.year_or_episode}".strip()
        lines = [f"{label}:"]
        for item in members:
            quality = " ".join(
                str(v) for v in (item.resolution, item.columns.get("upload_type")) if v
            )
            name = item.columns.get("original_title") or item.title
            lines.append(f"  {item.hash[:12]}  {_cell(quality, 20):<15}  {release_role(item)}")
            lines.append(f"                {_cell(name)}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _cell(value: object, width: int = CELL_WIDTH) -> str:
    text = " ".join(str(value if value is not None else "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


TABLE_COLUMNS = (
    ("hash", lambda i: i.hash[:12]),
    ("title", lambda i: i.title),
    ("status", lambda i: i.status),
    (
        "rejection",
        lambda i: i.rejection + (f": {i.rejection_reason}" if i.rejection_reason else ""),
    ),
    ("error", lambda i: i.error),
    ("year/SxxEyy", lambda i: i.year_or_episode),
    ("res", lambda i: i.resolution),
    ("library path", lambda i: i.library_path),
    ("created", lambda i: i.created_at),
    ("updated", lambda i: i.updated_at),
)


def render_table(items: Sequence[Item]) -> str:
    cells = [[name for name, _ in TABLE_COLUMNS]]
    cells += [[_cell(get(item)) for _, get in TABLE_COLUMNS] for item in items]
    widths = [max(len(row[c]) for row in cells) for c in range(len(TABLE_COLUMNS))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in cells]  # fmt: skip
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


@contextmanager
def connect() -> Iterator[tuple[psycopg2.extensions.connection, str]]:
    """The pipeline's database, configured exactly as its runs are (AT_PGSQL_*), with the same
    bounded waits (statement timeout, keepalives, reply deadline: pg_timeouts.py), so a path
    that goes silent after connecting ends the command within a minute instead of hanging."""
    from automatic_transmission.settings import AT_PGSQL_PREFIX
    from dagstributor_shared.postgres import PostgresResource

    postgres = PostgresResource(env_prefix=AT_PGSQL_PREFIX)
    with postgres.connect() as connection:
        yield connection, postgres.settings().schema


# Exit codes: 0 matches, 1 none, 2 the database unreachable (README), USAGE a bad command line
# (sysexits' EX_USAGE; argparse's own 2 would read as "database unreachable").
USAGE = 64
MAX_WORDS = 20
MAX_WORD_LENGTH = 200
MAX_LIMIT = 1000


class UsageError(Exception):
    """The command line is not one at-item takes."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _limit(text: str) -> int:
    value = int(text)
    if not 1 <= value <= MAX_LIMIT:
        raise ValueError(text)
    return value


def search_words(phrases: Sequence[str]) -> list[str]:
    """The words to search for; UsageError for too many, too long, or not UTF-8 (a name the
    terminal's encoding garbled arrives as surrogates and could never match a row)."""
    words = [w for phrase in phrases for w in phrase.split()]
    if len(words) > MAX_WORDS:
        raise UsageError(f"at most {MAX_WORDS} words, not {len(words)}")
    for word in words:
        if len(word) > MAX_WORD_LENGTH:
            raise UsageError(f"a word of at most {MAX_WORD_LENGTH} characters, not {len(word)}")
        try:
            word.encode("utf-8")
        except UnicodeEncodeError:
            raise UsageError(f"not UTF-8: {word.encode('utf-8', 'replace')!r}") from None
    return words


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Print the matching rows; exit 1 when none match, 2 on a database error, USAGE (64) on a
    command line it does not take."""
    parser = _Parser(
        prog="at-item", description="Show the rows of atp.media matching title words or a hash."
    )
    parser.add_argument("words", nargs="+", metavar="WORD", help="title words, or a hash prefix")
    parser.add_argument("--json", action="store_true", help="print a JSON list instead")
    parser.add_argument(
        "--item",
        action="store_true",
        help="every release of the matching items, grouped: held, being fetched, waiting, why not",
    )
    parser.add_argument(
        "--limit",
        type=_limit,
        default=DEFAULT_LIMIT,
        help=f"at most this many rows (1-{MAX_LIMIT})",
    )
    out = out or sys.stdout
    try:
        options = parser.parse_args(argv)
        words = search_words(options.words)
    except UsageError as error:
        parser.print_usage(sys.stderr)
        print(f"at-item: {error}", file=sys.stderr)
        return USAGE
    try:
        with connect() as (connection, schema):
            items = find_items(connection, words, schema, options.limit)
            if options.item:
                items = item_releases(connection, items, schema)
    except (psycopg2.Error, ValueError) as error:
        print(f"at-item: {error}".strip(), file=sys.stderr)
        return 2
    if options.json:
        out.write(json.dumps([as_json(item) for item in items], ensure_ascii=False, indent=2))
        out.write("\n")
    elif items and options.item:
        out.write(render_items(items) + "\n")
    elif items:
        out.write(render_table(items) + "\n")
    else:
        out.write(f"no item matches {' '.join(words)!r}\n")
    return 0 if items else 1


if __name__ == "__main__":
    sys.exit(main())
