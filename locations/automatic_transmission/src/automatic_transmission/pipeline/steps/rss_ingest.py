"""Step 01 rss_ingest: new torrents from the configured feeds become `ingested` rows.

Feeds are the RSS feeds (AT_RSS_SOURCES, AT_RSS_URLS) and the Torznab indexers (AT_TORZNAB_URLS,
label `torznab`: Prowlarr, Jackett). fetch: read every feed (a broken one is skipped this run;
an indexer answering 429 or 410 too, the others go on); for a Torznab item without any hash, the
`.torrent` behind its link (unless a row already has that link) · decide (pure): per feed item its
info-hash, link and media type, duplicates and unusable entries left out · insert: the hashes not
yet known (one query), one INSERT ... ON CONFLICT DO NOTHING · StepResult: the inserted rows as
outcomes, one source row per feed · report_step: counts, the table of feeds and the table of
items; red when every feed failed.
"""

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol
from urllib.parse import urlsplit

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
from automatic_transmission.clients.torznab import (
    FEED_PARAMS,
    TORZNAB_URLS_VAR,
    TorrentHash,
    TorznabConfigError,
    TorznabResource,
    with_params,
)
from automatic_transmission.model import (
    CONTROL_CHARACTERS,
    MediaType,
    Outcome,
    PipelineStatus,
    ReleaseFacts,
    RssSource,
    Verdict,
)
from automatic_transmission.parsing import classify_media_type
from automatic_transmission.pipeline.op import step_op
from automatic_transmission.pipeline.report import report_step
from automatic_transmission.pipeline.runner import Sources, StepResult, open_store
from automatic_transmission.store import MediaStore, NewMedia
from automatic_transmission.torrents import (
    is_magnet,
    magnet_info_hash,
    magnet_name,
    normalise_info_hash,
)
from dagstributor_shared.postgres import PostgresResource

TORRENT_TYPE = "application/x-bittorrent"
WARNINGS_PER_FEED = 20  # dropped entries logged one by one; the rest are summed up
# A real release name is far shorter; a feed's megabyte "title" is cut before it reaches the
# database, the logs and the run metadata.
MAX_TITLE_CHARS = 1000
SHOWN_TITLE_CHARS = 200  # in log lines
# `.torrent` files fetched per indexer and run for items that name no hash; the rest wait for
# the next run (each fetch may take a deadline).
MAX_TORRENT_FETCHES_PER_FEED = 50


class FeedConfigError(ValueError):
    """AT_RSS_SOURCES / AT_RSS_URLS do not describe a list of feeds."""


class Log(Protocol):
    def info(self, msg: str) -> None: ...
    def warning(self, msg: str) -> None: ...


class TorznabReader(Protocol):
    """What step 01 asks of the Torznab client (clients/torznab.py)."""

    def read(self, url: str) -> Sequence[FeedItem]: ...
    def torrent_hash(self, link: str) -> TorrentHash: ...


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


def configured_feeds(sources: str, urls: str, indexers: Sequence[str] = ()) -> list[FeedSource]:
    """AT_RSS_SOURCES and AT_RSS_URLS (comma lists matched by position) -> the feeds, then the
    Torznab indexers (`indexers`, from AT_TORZNAB_URLS) polled as feeds (label `torznab`).
    Raises one FeedConfigError listing every problem, naming the variables."""
    labels, addresses = _split(sources), _split(urls)
    problems: list[str] = []
    if not labels and not indexers:
        problems.append(f"{RSS_SOURCES_VAR} is empty (and so is {TORZNAB_URLS_VAR})")
    if len(labels) != len(addresses):
        problems.append(
            f"{RSS_SOURCES_VAR} has {len(labels)} labels but {RSS_URLS_VAR} has "
            f"{len(addresses)} URLs (they are matched by position)"
        )
    labelled = [source for source in RssSource if source is not RssSource.TORZNAB]
    known = ", ".join(source.value for source in labelled)
    for position, label in enumerate(labels, 1):
        if label not in {source.value for source in labelled}:
            problems.append(
                f"{RSS_SOURCES_VAR} item {position} {label!r} is not a feed label ({known})"
            )
    for position, address in enumerate(addresses, 1):
        if urlsplit(address).scheme not in ("http", "https") or not urlsplit(address).netloc:
            problems.append(f"{RSS_URLS_VAR} item {position} is not an http(s) URL")
    if problems:
        raise FeedConfigError("invalid feed configuration: " + "; ".join(problems))
    feeds = [
        FeedSource(RssSource(label), address, position)
        for position, (label, address) in enumerate(zip(labels, addresses, strict=True), 1)
    ]
    return feeds + [
        FeedSource(RssSource.TORZNAB, with_params(address, FEED_PARAMS), position)
        for position, address in enumerate(indexers, len(feeds) + 1)
    ]


# --- decide: one feed item -> hash, title, link ------------------------------------------------


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


def media_type_for(label: RssSource, title: str, facts: ReleaseFacts | None = None) -> MediaType:
    """Movie feeds hold movies; any other feed's items are classified from their title, and
    when the title does not say (no TV marker: the classifier's default is a movie), from the
    Torznab category (2000s movies, 5000s TV)."""
    if label.is_movie_feed:
        return MediaType.MOVIE
    classified = MediaType(classify_media_type(title))
    by_category = facts.category_media_type if facts is not None else None
    if by_category is not None and classified in (MediaType.MOVIE, MediaType.UNKNOWN):
        return by_category
    return classified


@dataclass(frozen=True)
class Candidate:
    """A feed item with a usable hash, before we know whether the database has it."""

    hash: str
    title: str
    link: str | None
    source: FeedSource
    facts: ReleaseFacts | None = None  # what a Torznab indexer said

    def new_media(self) -> NewMedia:
        facts = self.facts or ReleaseFacts()
        return NewMedia(
            hash=self.hash,
            media_type=media_type_for(self.source.label, self.title, self.facts),
            original_title=self.title,
            original_link=self.link,
            rss_source=self.source.label,
            indexer=redacted(self.source.url) if self.facts is not None else None,
            seeders=facts.seeders,
            peers=facts.peers,
            size_bytes=facts.size_bytes,
            imdb_id=facts.imdb_id,
            tmdb_id=facts.tmdb_id,
            tvdb_id=facts.tvdb_id,
            minimum_ratio=facts.minimum_ratio,
            minimum_seed_time=facts.minimum_seed_time,
            download_volume_factor=facts.download_volume_factor,
        )


def clean_title(title: str | None) -> str | None:
    """A feed title fit for a row: control characters become spaces, at most MAX_TITLE_CHARS."""
    if title is None:
        return None
    return (
        CONTROL_CHARACTERS.sub(" ", title[: MAX_TITLE_CHARS * 2])[:MAX_TITLE_CHARS].strip() or None
    )


def candidate(item: FeedItem, source: FeedSource) -> Candidate | str:
    """The item as a candidate row, or the reason it is dropped."""
    info_hash = item_info_hash(item)
    if info_hash is None:
        return "no valid info-hash"
    magnet = magnet_link(item)
    title = clean_title(item.title or (magnet_name(magnet) if magnet else None))
    if not title:
        return "no title"
    return Candidate(info_hash, title, torrent_link(item) or magnet, source, item.facts)


FEED_FIGURES = ("entries", "inserted", "already known", "duplicates", "dropped")


@dataclass(frozen=True)
class FeedRead:
    """What fetching one feed gave: its items, or the error that skipped it this run."""

    source: FeedSource
    items: Sequence[FeedItem] = ()
    error: str | None = None
    unresolved: Mapping[int, str] = field(default_factory=dict)  # item index -> why no hash
    known_links: int = 0  # items without a hash whose link a row already has


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


def fetch(
    feeds: Sequence[FeedSource],
    read: Callable[[str], Sequence[FeedItem]],
    read_torznab: Callable[[str], Sequence[FeedItem]] | None = None,
) -> list[FeedRead]:
    """Read every feed (indexers with `read_torznab`); a broken feed is recorded with its error
    and does not stop the others."""
    reads = []
    for source in feeds:
        reader = read_torznab if source.label is RssSource.TORZNAB and read_torznab else read
        try:
            reads.append(FeedRead(source, reader(source.url)))
        except FeedError as error:
            reads.append(FeedRead(source, error=str(error)))
    return reads


def hashless_links(reads: Sequence[FeedRead]) -> list[str]:
    """The download links of the Torznab items that name no hash (in feed order)."""
    return [
        link
        for read in reads
        if read.source.label is RssSource.TORZNAB
        for item in read.items
        if item_info_hash(item) is None and (link := torrent_link(item))
    ]


def with_hash_behind(item: FeedItem, found: TorrentHash) -> FeedItem | str:
    """The item completed with what its link gave: the `.torrent`'s hash, or the magnet it
    redirected to (which then replaces the link: Transmission cannot follow that redirect);
    or the reason it has no hash."""
    if found.hash:
        return replace(item, info_hashes=(*item.info_hashes, found.hash))
    if found.magnet and magnet_info_hash(found.magnet):
        others = tuple(link for link in item.links if not _is_torrent_file(link))
        return replace(item, links=(FeedLink(found.magnet, "magnet"), *others))
    return f"no info-hash: {found.error or 'the link led to a magnet without one'}"


def resolve_hashes(
    reads: Sequence[FeedRead], known_links: set[str], torrent_hash: Callable[[str], TorrentHash]
) -> list[FeedRead]:
    """act: Torznab items that name no hash get the one behind their link (at most
    MAX_TORRENT_FETCHES_PER_FEED fetches per indexer); items whose link a row already has are
    left out as known, without a fetch. (A link that redirected to a magnet is asked again each
    run — its row holds the magnet — but that answer has no body.)"""
    resolved = []
    for read in reads:
        if read.source.label is not RssSource.TORZNAB:
            resolved.append(read)
            continue
        items: list[FeedItem] = []
        unresolved: dict[int, str] = {}
        known = fetches = 0
        for item in read.items:
            link = torrent_link(item) if item_info_hash(item) is None else None
            if link is None:
                items.append(item)
            elif link in known_links:
                known += 1
            elif fetches >= MAX_TORRENT_FETCHES_PER_FEED:
                unresolved[len(items)] = "no info-hash: its .torrent waits for the next run"
                items.append(item)
            else:
                fetches += 1
                completed = with_hash_behind(item, torrent_hash(link))
                if isinstance(completed, str):
                    unresolved[len(items)] = completed
                    items.append(item)
                else:
                    items.append(completed)
        resolved.append(replace(read, items=items, unresolved=unresolved, known_links=known))
    return resolved


def choose_candidates(reads: Sequence[FeedRead]) -> Choice:
    """decide (pure): usable items of every feed, first occurrence of a hash kept (feed order,
    item order); the others counted as duplicates or dropped with their reason."""
    choice = Choice()
    chosen: set[str] = set()
    for read in reads:
        for index, item in enumerate(read.items):
            found = candidate(item, read.source)
            if isinstance(found, str) and index in read.unresolved:
                found = read.unresolved[index]
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
        row.figures["entries"] = len(read.items) + read.known_links
        row.figures["already known"] = read.known_links
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
    torznab: TorznabReader | None = None,
) -> StepResult:
    """fetch → decide → insert the items not yet known → one StepResult (outcomes: the rows
    inserted; sources: one row per feed). Database round trips: one query for the known hashes,
    one INSERT (each with its transaction), and with indexers one query for the known links,
    whatever the number of feeds and items."""
    reads = fetch(feeds, read, torznab.read if torznab else None)
    if torznab is not None and (links := hashless_links(reads)):
        reads = resolve_hashes(reads, store.known_links(links), torznab.torrent_hash)
    choice = choose_candidates(reads)
    known = store.known_hashes([c.hash for c in choice.candidates])
    rows = [c.new_media() for c in choice.candidates if c.hash not in known]
    inserted = set(store.insert_new(rows))
    sources = feed_sources(reads, choice, inserted)
    log_feeds(reads, choice, sources, log)
    return StepResult([ingested(row) for row in rows if row.hash in inserted], sources=sources)


def run_rss_ingest(
    context: dg.OpExecutionContext,
    postgres: PostgresResource,
    feeds: FeedsResource,
    torznab: TorznabResource,
) -> None:
    """The op's body: configuration -> ingest -> report (red when every feed failed)."""
    try:
        sources = configured_feeds(*feeds.configured(), torznab.indexers())
    except (FeedConfigError, TorznabConfigError) as error:
        raise dg.Failure(description=str(error)) from error
    indexers = torznab.client()
    try:
        with open_store(postgres) as store:
            result = ingest(sources, feeds.client().read, store, context.log, indexers)
    finally:
        indexers.close()
    report_step(context, result)


rss_ingest_op = step_op(
    "rss_ingest", description="Step 01: new torrents from the RSS feeds and Torznab indexers."
)(run_rss_ingest)
