"""Hunting: search every indexer for wanted titles that no feed listed (issue 17).

An RSS pipeline only sees new uploads; a title wanted after its release is never found. `hunt`
asks each indexer of AT_TORZNAB_URLS for each wanted title (by id when the indexer's `t=caps`
allows, else by name: `clients/torznab.search_params`) and ingests what comes back exactly like
step 01 ingests a feed (`steps/rss_ingest.ingest`: the same hashes, rows and duplicates rules,
label `torznab`), so steps 03-10 decide on the results and nothing is downloaded twice.

What is wanted comes from the watchlist (the items issue); the job that reads it and runs `hunt`
on a schedule arrives with it. This module holds the part that needs no watchlist.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from automatic_transmission.clients.feeds import FeedItem, redacted
from automatic_transmission.clients.torznab import (
    Caps,
    TorrentHash,
    TorznabError,
    Wanted,
    search_params,
    with_params,
)
from automatic_transmission.model import RssSource
from automatic_transmission.pipeline.runner import StepResult
from automatic_transmission.pipeline.steps.rss_ingest import FeedSource, Log, ingest
from automatic_transmission.store import MediaStore


class Hunter(Protocol):
    """What hunting asks of the Torznab client."""

    def caps(self, indexer_url: str) -> Caps: ...
    def read(self, url: str) -> Sequence[FeedItem]: ...
    def torrent_hash(self, link: str) -> TorrentHash: ...


@dataclass
class IndexerTally:
    """Per indexer: requests sent (caps and searches), results listed, errors."""

    name: str
    requests: int = 0
    results: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class HuntedItem:
    """Per wanted title: the releases the indexers listed and the rows they became."""

    wanted: Wanted
    found: int
    inserted: int


@dataclass
class HuntResult:
    ingested: StepResult
    indexers: list[IndexerTally]
    items: list[HuntedItem]


def missing_episodes(
    show: Wanted, season: int, aired: Sequence[int], held: Collection[tuple[int, int]]
) -> list[Wanted]:
    """decide (pure): the episodes of `season` that have aired and the library does not hold
    (`held`: (season, episode) pairs), each a Wanted of the show (its title and ids)."""
    return [
        replace(show, season=season, episode=episode)
        for episode in aired
        if (season, episode) not in held
    ]


def _no_rss(url: str) -> Sequence[FeedItem]:
    raise AssertionError(f"hunting reads indexers only, not {redacted(url)}")


def hunt(
    wanted: Sequence[Wanted],
    indexers: Sequence[str],
    client: Hunter,
    store: MediaStore,
    log: Log,
    max_items: int = 25,
) -> HuntResult:
    """Search every indexer for the first `max_items` wanted titles (the caller orders them:
    oldest searched first) and ingest the results. An indexer whose caps cannot be read is
    left out for the run; a failing search counts for its indexer only. One ingest for all
    searches: the round trips do not grow with the titles."""
    tallies = [IndexerTally(redacted(url)) for url in indexers]
    usable: list[tuple[int, str, Caps]] = []
    for number, url in enumerate(indexers):
        tallies[number].requests += 1
        try:
            usable.append((number, url, client.caps(url)))
        except TorznabError as error:
            tallies[number].errors.append(str(error))
            log.warning(f"{tallies[number].name}: left out of this hunt: {error}")
    chosen = list(wanted[:max_items])
    sources: list[FeedSource] = []
    asked: dict[int, tuple[int, int]] = {}  # source position -> (title, indexer)
    for title, item in enumerate(chosen):
        for number, url, caps in usable:
            query = {**search_params(caps, item), "extended": "1"}
            source = FeedSource(RssSource.TORZNAB, with_params(url, query), len(sources) + 1)
            sources.append(source)
            asked[source.position] = (title, number)
    result = ingest(sources, _no_rss, store, log, client)
    found = [0] * len(chosen)
    inserted_by = [0] * len(chosen)
    assert result.sources is not None
    for position, row in enumerate(result.sources.rows, 1):
        title, number = asked[position]
        tallies[number].requests += 1
        tallies[number].results += row.figures["entries"]
        found[title] += row.figures["entries"]
        inserted_by[title] += row.figures["inserted"]
        if row.error:
            tallies[number].errors.append(row.error)
    items = [
        HuntedItem(item, found[title], inserted_by[title]) for title, item in enumerate(chosen)
    ]
    return HuntResult(result, tallies, items)
