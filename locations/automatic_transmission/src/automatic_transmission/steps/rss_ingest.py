"""Step 01 rss_ingest: new torrents from the configured feeds become `ingested` rows.

select: the hashes already known (one query) · decide: per feed item its info-hash, link and
media type, duplicates dropped · act: read the feeds · record: one INSERT ... ON CONFLICT DO
NOTHING · report: counts per feed and a table of the items inserted.
"""

import base64
import binascii
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

import dagster as dg

from automatic_transmission.clients.feeds import FeedError, FeedItem, FeedLink, redacted
from automatic_transmission.model import MediaType, Outcome, PipelineStatus, RssSource, Verdict
from automatic_transmission.parsing import classify_media_type
from automatic_transmission.reporting import cell, report_step, table
from automatic_transmission.resources import RSS_SOURCES_VAR, RSS_URLS_VAR, FeedsResource
from automatic_transmission.steps import step_op
from automatic_transmission.steps.runner import StepResult
from automatic_transmission.store import MediaStore, NewMedia
from dagstributor_shared.postgres import PostgresResource

TORRENT_TYPE = "application/x-bittorrent"
WARNINGS_PER_FEED = 20  # dropped entries logged one by one; the rest are summed up
# A real release name is far shorter; a feed's megabyte "title" is cut before it reaches the
# database, the logs and the run metadata.
MAX_TITLE_CHARS = 1000
SHOWN_TITLE_CHARS = 200  # in log lines

_HEX40 = re.compile(r"^[0-9a-fA-F]{40}$")
_BASE32 = re.compile(r"^[A-Za-z2-7]{32}$")
# Control characters (NUL among them: PostgreSQL text cannot hold it) -> one space.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


class FeedConfigError(ValueError):
    """AT_RSS_SOURCES / AT_RSS_URLS do not describe a list of feeds."""


class AllFeedsFailed(RuntimeError):
    """Every configured feed failed: the run shows red; the next run tries again."""


class Log(Protocol):
    def info(self, msg: str) -> None: ...
    def warning(self, msg: str) -> None: ...


@dataclass(frozen=True)
class FeedSource:
    """One configured feed: its label (the `rss_source` of its rows) and URL."""

    label: RssSource
    url: str
    position: int = 1

    @property
    def name(self) -> str:
        """How logs and metadata name the feed (no query string: it may carry a personal key)."""
        return f"{self.position}. {self.label.value} {redacted(self.url)}"


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",")] if value.strip() else []


def configured_feeds(sources: str, urls: str) -> list[FeedSource]:
    """AT_RSS_SOURCES and AT_RSS_URLS (comma lists matched by position) -> the feeds.
    Raises one FeedConfigError listing every problem, naming the variables."""
    labels, addresses = _split(sources), _split(urls)
    problems: list[str] = []
    if not labels:
        problems.append(f"{RSS_SOURCES_VAR} is empty")
    if len(labels) != len(addresses):
        problems.append(
            f"{RSS_SOURCES_VAR} has {len(labels)} labels but {RSS_URLS_VAR} has "
            f"{len(addresses)} URLs (they are matched by position)"
        )
    known = ", ".join(source.value for source in RssSource)
    for position, label in enumerate(labels, 1):
        if label not in {source.value for source in RssSource}:
            problems.append(
                f"{RSS_SOURCES_VAR} item {position} {label!r} is not a feed label ({known})"
            )
    for position, address in enumerate(addresses, 1):
        if urlsplit(address).scheme not in ("http", "https") or not urlsplit(address).netloc:
            problems.append(f"{RSS_URLS_VAR} item {position} is not an http(s) URL")
    if problems:
        raise FeedConfigError("invalid feed configuration: " + "; ".join(problems))
    return [
        FeedSource(RssSource(label), address, position)
        for position, (label, address) in enumerate(zip(labels, addresses, strict=True), 1)
    ]


# --- decide: one feed item -> hash, title, link ------------------------------------------------


def normalise_info_hash(value: str) -> str | None:
    """A BitTorrent v1 info-hash as 40 lowercase hex: from 40 hex digits or 32 base32 chars."""
    value = value.strip()
    if _HEX40.match(value):
        return value.lower()
    if _BASE32.match(value):
        try:
            return base64.b32decode(value.upper()).hex()
        except (binascii.Error, ValueError):
            return None
    return None


def is_magnet(href: str) -> bool:
    return href.lower().startswith("magnet:")


def magnet_info_hash(magnet: str) -> str | None:
    """The info-hash of the first `xt=urn:btih:` of a magnet link."""
    for topic in parse_qs(urlsplit(magnet).query).get("xt", []):
        if topic.lower().startswith("urn:btih:"):
            return normalise_info_hash(topic[len("urn:btih:") :])
    return None


def magnet_name(magnet: str) -> str | None:
    names = parse_qs(urlsplit(magnet).query).get("dn", [])
    if not names:
        return None
    return names[0].strip() or None


def _is_torrent_file(link: FeedLink) -> bool:
    if is_magnet(link.href) or urlsplit(link.href).scheme not in ("http", "https"):
        return False
    return link.type == TORRENT_TYPE or urlsplit(link.href).path.lower().endswith(".torrent")


def torrent_link(item: FeedItem) -> str | None:
    """The `.torrent` file's URL: an enclosure of the torrent type (or ending `.torrent`)
    first, else any other link to a `.torrent` file."""
    files = [link for link in item.links if _is_torrent_file(link)]
    files.sort(key=lambda link: link.rel != "enclosure")
    return files[0].href if files else None


def magnet_link(item: FeedItem) -> str | None:
    return next((link.href for link in item.links if is_magnet(link.href)), None)


def _torrent_url_hash(url: str) -> str | None:
    """YTS-style feeds: the `.torrent` URL ends with the hash (`/torrent/download/<HASH>`)."""
    last = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    if last.lower().endswith(".torrent"):
        last = last[: -len(".torrent")]
    return normalise_info_hash(last)


def item_info_hash(item: FeedItem) -> str | None:
    """The item's info-hash: a magnet's `urn:btih:`, else an infoHash element, else the last
    path segment of the `.torrent` enclosure (YTS); None when none of them is a valid hash."""
    for link in item.links:
        if is_magnet(link.href) and (found := magnet_info_hash(link.href)):
            return found
    for value in item.info_hashes:
        if found := normalise_info_hash(value):
            return found
    url = torrent_link(item)
    return _torrent_url_hash(url) if url else None


def media_type_for(label: RssSource, title: str) -> MediaType:
    """Movie feeds hold movies; any other feed's items are classified from their title."""
    if label.is_movie_feed:
        return MediaType.MOVIE
    return MediaType(classify_media_type(title))


@dataclass(frozen=True)
class Candidate:
    """A feed item with a usable hash, before we know whether the database has it."""

    hash: str
    title: str
    link: str | None
    source: FeedSource

    def new_media(self) -> NewMedia:
        return NewMedia(
            hash=self.hash,
            media_type=media_type_for(self.source.label, self.title),
            original_title=self.title,
            original_link=self.link,
            rss_source=self.source.label,
        )


def clean_title(title: str | None) -> str | None:
    """A feed title fit for a row: control characters become spaces, at most MAX_TITLE_CHARS."""
    if title is None:
        return None
    return _CONTROL.sub(" ", title[: MAX_TITLE_CHARS * 2])[:MAX_TITLE_CHARS].strip() or None


def candidate(item: FeedItem, source: FeedSource) -> Candidate | str:
    """The item as a candidate row, or the reason it is dropped."""
    info_hash = item_info_hash(item)
    if info_hash is None:
        return "no valid info-hash"
    magnet = magnet_link(item)
    title = clean_title(item.title or (magnet_name(magnet) if magnet else None))
    if not title:
        return "no title"
    return Candidate(info_hash, title, torrent_link(item) or magnet, source)


@dataclass
class FeedTally:
    """What happened to one feed's entries in one run."""

    source: FeedSource
    entries: int = 0
    inserted: int = 0
    known: int = 0
    duplicates: int = 0
    dropped: int = 0
    error: str | None = None

    @property
    def status(self) -> str:
        return f"failed: {self.error}" if self.error else "ok"


@dataclass
class IngestResult:
    tallies: list[FeedTally]
    inserted: list[NewMedia] = field(default_factory=list)

    @property
    def all_failed(self) -> bool:
        return bool(self.tallies) and all(t.error for t in self.tallies)

    def outcomes(self) -> list[Outcome]:
        """The inserted rows as outcomes, for the run's table of items."""
        return [
            Outcome(
                item.hash,
                Verdict.ADVANCED,
                PipelineStatus.INGESTED,
                PipelineStatus.INGESTED,
                reason=f"new from {item.rss_source.value if item.rss_source else 'feed'}",
                title=item.original_title,
            )
            for item in self.inserted
        ]


def choose_candidates(
    items_by_feed: Sequence[tuple[FeedSource, Sequence[FeedItem]]],
    tallies: dict[int, FeedTally],
    log: Log,
) -> list[Candidate]:
    """Usable items of every feed, first occurrence of a hash kept (feed order, item order)."""
    chosen: dict[str, Candidate] = {}
    for source, items in items_by_feed:
        tally = tallies[source.position]
        for item in items:
            found = candidate(item, source)
            if isinstance(found, str):
                tally.dropped += 1
                if tally.dropped <= WARNINGS_PER_FEED:
                    shown = (clean_title(item.title) or "(untitled)")[:SHOWN_TITLE_CHARS]
                    log.warning(f"{source.name}: dropped {shown!r}: {found}")
            elif found.hash in chosen:
                tally.duplicates += 1
            else:
                chosen[found.hash] = found
        if tally.dropped > WARNINGS_PER_FEED:
            log.warning(
                f"{source.name}: {tally.dropped - WARNINGS_PER_FEED} more entries dropped "
                "(no valid info-hash or no title)"
            )
    return list(chosen.values())


def ingest(
    feeds: Sequence[FeedSource],
    read: Callable[[str], Sequence[FeedItem]],
    store: MediaStore,
    log: Log,
) -> IngestResult:
    """Read every feed, insert the items not yet known; a broken feed does not stop the others.
    Database round trips: one query for the known hashes, one INSERT (each with its
    transaction), whatever the number of feeds and items."""
    tallies = {source.position: FeedTally(source) for source in feeds}
    readable: list[tuple[FeedSource, Sequence[FeedItem]]] = []
    for source in feeds:
        try:
            items = read(source.url)
        except FeedError as error:
            tallies[source.position].error = str(error)
            log.warning(f"{source.name}: feed skipped this run: {error}")
            continue
        tallies[source.position].entries = len(items)
        readable.append((source, items))

    candidates = choose_candidates(readable, tallies, log)
    known = store.known_hashes([c.hash for c in candidates])
    fresh = [c for c in candidates if c.hash not in known]
    rows = [c.new_media() for c in fresh]
    inserted = set(store.insert_new(rows))
    for c in candidates:
        tally = tallies[c.source.position]
        if c.hash in inserted:
            tally.inserted += 1
        else:  # known before, or inserted by a run at the same time
            tally.known += 1
    result = IngestResult(list(tallies.values()), [row for row in rows if row.hash in inserted])
    for tally in result.tallies:
        if not tally.error:
            log.info(
                f"{tally.source.name}: {tally.entries} entries, {tally.inserted} new, "
                f"{tally.known} already known, {tally.duplicates} duplicates, "
                f"{tally.dropped} dropped"
            )
    return result


# --- report ------------------------------------------------------------------------------------


FEED_COLUMNS = {"feed": "string", "status": "string", "entries": "int", "inserted": "int",
                "already known": "int", "duplicates": "int", "dropped": "int"}  # fmt: skip


def feeds_table(tallies: Sequence[FeedTally]) -> dg.MetadataValue:
    return table(
        FEED_COLUMNS,
        [
            {
                "feed": cell(t.source.name),
                "status": cell(t.status),
                "entries": t.entries,
                "inserted": t.inserted,
                "already known": t.known,
                "duplicates": t.duplicates,
                "dropped": t.dropped,
            }
            for t in tallies
        ],
    )


def ingest_metadata(result: IngestResult) -> dict[str, dg.MetadataValue]:
    tallies = result.tallies
    return {
        "feeds": feeds_table(tallies),
        "feeds failed": dg.MetadataValue.int(sum(1 for t in tallies if t.error)),
        "entries": dg.MetadataValue.int(sum(t.entries for t in tallies)),
        "inserted": dg.MetadataValue.int(sum(t.inserted for t in tallies)),
        "already known": dg.MetadataValue.int(sum(t.known for t in tallies)),
        "duplicates in run": dg.MetadataValue.int(sum(t.duplicates for t in tallies)),
        "dropped without hash or title": dg.MetadataValue.int(sum(t.dropped for t in tallies)),
    }


def run_rss_ingest(
    context: dg.OpExecutionContext, postgres: PostgresResource, feeds: FeedsResource
) -> None:
    """The op's body: configuration -> ingest -> run metadata; red when every feed failed."""
    try:
        sources = configured_feeds(feeds.sources, feeds.urls)
    except FeedConfigError as error:
        raise dg.Failure(description=str(error)) from error
    client = feeds.client()
    with postgres.connect() as connection:
        store = MediaStore(connection, postgres.settings().schema)
        result = ingest(sources, client.read, store, context.log)
    metadata = ingest_metadata(result)
    if result.all_failed:
        raise dg.Failure(
            description=f"all {len(result.tallies)} feeds failed; first: {result.tallies[0].error}",
            metadata=metadata,
        ) from AllFeedsFailed(result.tallies[0].error)
    report_step(context, StepResult(result.outcomes()), metadata)


rss_ingest_op = step_op("rss_ingest", description="Step 01: new torrents from the RSS feeds.")(
    run_rss_ingest
)
