"""Step 01 rss_ingest: new torrents from the configured feeds become `ingested` rows.

fetch: read every feed (a broken one is skipped this run) · decide (pure): per feed item its
info-hash, link and media type, duplicates and unusable entries left out · insert: the hashes not
yet known (one query), one INSERT ... ON CONFLICT DO NOTHING · StepResult: the inserted rows as
outcomes, one source row per feed · report_step: counts, the table of feeds and the table of
items; red when every feed failed.
"""

import base64
import binascii
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

import dagster as dg

from automatic_transmission.clients.feeds import (
    RSS_SOURCES_VAR,
    RSS_URLS_VAR,
    FeedError,
    FeedItem,
    FeedLink,
    FeedsResource,
    redacted,
)
from automatic_transmission.model import MediaType, Outcome, PipelineStatus, RssSource, Verdict
from automatic_transmission.parsing import classify_media_type
from automatic_transmission.pipeline.op import step_op
from automatic_transmission.pipeline.report import report_step
from automatic_transmission.pipeline.runner import Sources, StepResult, open_store
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


FEED_FIGURES = ("entries", "inserted", "already known", "duplicates", "dropped")


@dataclass(frozen=True)
class FeedRead:
    """What fetching one feed gave: its items, or the error that skipped it this run."""

    source: FeedSource
    items: Sequence[FeedItem] = ()
    error: str | None = None


@dataclass(frozen=True)
class Dropped:
    source: FeedSource
    title: str
    reason: str


@dataclass
class Choice:
    """The usable items of every feed (first occurrence of a hash kept) and what was left out."""

    candidates: list[Candidate] = field(default_factory=list)
    duplicates: Counter[int] = field(default_factory=Counter)  # per feed position
    dropped: list[Dropped] = field(default_factory=list)


def fetch(feeds: Sequence[FeedSource], read: Callable[[str], Sequence[FeedItem]]) -> list[FeedRead]:
    """Read every feed; a broken feed is recorded with its error and does not stop the others."""
    reads = []
    for source in feeds:
        try:
            reads.append(FeedRead(source, read(source.url)))
        except FeedError as error:
            reads.append(FeedRead(source, error=str(error)))
    return reads


def choose_candidates(reads: Sequence[FeedRead]) -> Choice:
    """decide (pure): usable items of every feed, first occurrence of a hash kept (feed order,
    item order); the others counted as duplicates or dropped with their reason."""
    choice = Choice()
    chosen: set[str] = set()
    for read in reads:
        for item in read.items:
            found = candidate(item, read.source)
            if isinstance(found, str):
                title = (clean_title(item.title) or "(untitled)")[:SHOWN_TITLE_CHARS]
                choice.dropped.append(Dropped(read.source, title, found))
            elif found.hash in chosen:
                choice.duplicates[read.source.position] += 1
            else:
                chosen.add(found.hash)
                choice.candidates.append(found)
    return choice


def ingested(item: NewMedia) -> Outcome:
    """An inserted row as an outcome, for the run's table of items."""
    source = item.rss_source.value if item.rss_source else "feed"
    return Outcome(
        item.hash,
        Verdict.ADVANCED,
        PipelineStatus.INGESTED,
        PipelineStatus.INGESTED,
        reason=f"new from {source}",
        title=item.original_title,
    )


def feed_sources(reads: Sequence[FeedRead], choice: Choice, inserted: set[str]) -> Sources:
    """One row per feed: entries, inserted, already known, duplicates, dropped, or its error."""
    sources = Sources("feed", FEED_FIGURES)
    rows = {read.source.position: sources.add(read.source.name) for read in reads}
    for read in reads:
        row = rows[read.source.position]
        row.error = read.error
        row.figures["entries"] = len(read.items)
        row.figures["duplicates"] = choice.duplicates[read.source.position]
    for dropped in choice.dropped:
        rows[dropped.source.position].figures["dropped"] += 1
    for c in choice.candidates:  # not inserted: known before, or inserted by a run at the same time
        rows[c.source.position].figures["inserted" if c.hash in inserted else "already known"] += 1
    return sources


def log_feeds(reads: Sequence[FeedRead], choice: Choice, sources: Sources, log: Log) -> None:
    """A warning per skipped feed and per dropped entry (WARNINGS_PER_FEED per feed, the rest
    summed up), a line of counts per feed read."""
    for read, row in zip(reads, sources.rows, strict=True):
        if read.error:
            log.warning(f"{read.source.name}: feed skipped this run: {read.error}")
            continue
        dropped = [d for d in choice.dropped if d.source == read.source]
        for d in dropped[:WARNINGS_PER_FEED]:
            log.warning(f"{read.source.name}: dropped {d.title!r}: {d.reason}")
        if len(dropped) > WARNINGS_PER_FEED:
            log.warning(
                f"{read.source.name}: {len(dropped) - WARNINGS_PER_FEED} more entries dropped "
                "(no valid info-hash or no title)"
            )
        f = row.figures
        log.info(
            f"{row.name}: {f['entries']} entries, {f['inserted']} new, {f['already known']} "
            f"already known, {f['duplicates']} duplicates, {f['dropped']} dropped"
        )


def ingest(
    feeds: Sequence[FeedSource],
    read: Callable[[str], Sequence[FeedItem]],
    store: MediaStore,
    log: Log,
) -> StepResult:
    """fetch → decide → insert the items not yet known → one StepResult (outcomes: the rows
    inserted; sources: one row per feed). Database round trips: one query for the known hashes,
    one INSERT (each with its transaction), whatever the number of feeds and items."""
    reads = fetch(feeds, read)
    choice = choose_candidates(reads)
    known = store.known_hashes([c.hash for c in choice.candidates])
    rows = [c.new_media() for c in choice.candidates if c.hash not in known]
    inserted = set(store.insert_new(rows))
    sources = feed_sources(reads, choice, inserted)
    log_feeds(reads, choice, sources, log)
    return StepResult([ingested(row) for row in rows if row.hash in inserted], sources=sources)


def run_rss_ingest(
    context: dg.OpExecutionContext, postgres: PostgresResource, feeds: FeedsResource
) -> None:
    """The op's body: configuration -> ingest -> report (red when every feed failed)."""
    try:
        sources = configured_feeds(*feeds.configured())
    except FeedConfigError as error:
        raise dg.Failure(description=str(error)) from error
    with open_store(postgres) as store:
        result = ingest(sources, feeds.client().read, store, context.log)
    report_step(context, result)


rss_ingest_op = step_op("rss_ingest", description="Step 01: new torrents from the RSS feeds.")(
    run_rss_ingest
)
