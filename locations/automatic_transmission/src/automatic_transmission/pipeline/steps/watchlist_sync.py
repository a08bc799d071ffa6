"""at_watchlist_sync: the watchlist feeds (AT_WATCHLIST_URLS) and watchlist.yaml -> atp.watchlist.

Each source is read and stored on its own: a feed that fails (timeout, HTTP error) or answers
something that is not RSS keeps the titles stored from it (never emptied) and is reported as
failed; the run is red when every source failed. Feed URLs carry the Plex token: only their
redacted form (no query) appears in logs, metadata and `atp.watchlist.source`.
"""

from __future__ import annotations

import logging
from contextlib import closing
from dataclasses import replace

import dagster as dg

from automatic_transmission.clients.feeds import FeedError, redacted
from automatic_transmission.clients.http import ServiceError
from automatic_transmission.clients.tmdb import TmdbClient, TmdbResource
from automatic_transmission.clients.watchlist import WatchlistResource
from automatic_transmission.pipeline.op import step_op
from automatic_transmission.pipeline.report import report_step
from automatic_transmission.pipeline.runner import Sources, StepResult, open_store
from automatic_transmission.store.watchlist import WatchlistStore
from automatic_transmission.watchlist import (
    YAML_SOURCE,
    WatchedTitle,
    WatchKind,
    WatchlistError,
    load_watchlist_file,
    parse_watchlist_feed,
)
from dagstributor_shared.postgres import PostgresResource

STORED, REMOVED = "titles", "removed"


def with_tmdb_ids(
    titles: list[WatchedTitle], tmdb: TmdbClient, log: logging.Logger | None = None
) -> list[WatchedTitle]:
    """Shows named only by a tvdb id get their tmdb_id from TMDB's /find (step 06 matches by
    tmdb_id). A failed lookup keeps the title as it is; the next sync asks again."""
    out = []
    for title in titles:
        if title.kind is WatchKind.SHOW and title.tvdb_id and not title.tmdb_id:
            try:
                found = tmdb.tv_tmdb_id_of_tvdb(title.tvdb_id)
            except ServiceError as error:
                if log is not None:
                    log.warning(f"tvdb {title.tvdb_id}: no tmdb_id this time ({error})")
                found = None
            title = replace(title, tmdb_id=found) if found else title
        out.append(title)
    return out


def run_watchlist_sync(
    context: dg.OpExecutionContext,
    postgres: PostgresResource,
    watchlist: WatchlistResource,
    tmdb: TmdbResource,
) -> None:
    result = StepResult(sources=Sources("source", (STORED, REMOVED)))
    assert result.sources is not None
    client = watchlist.client()
    with open_store(postgres) as media, closing(tmdb.client()) as tmdb_client:
        store = WatchlistStore(media.connection, media.schema)
        try:
            titles = load_watchlist_file(watchlist.config_dir)
        except WatchlistError as error:
            result.sources.add(YAML_SOURCE).error = str(error)
        else:
            if titles is not None:
                row = result.sources.add(YAML_SOURCE)
                row.figures[STORED], row.figures[REMOVED] = store.replace_source(
                    YAML_SOURCE, titles
                )
        for url in watchlist.feed_urls():
            source = redacted(url)
            row = result.sources.add(source)
            try:
                found = parse_watchlist_feed(client.fetch(url), source)
            except (FeedError, WatchlistError) as error:
                row.error = str(error)
                context.log.warning(f"watchlist {source} kept as stored: {error}")
                continue
            found = with_tmdb_ids(found, tmdb_client, context.log)
            row.figures[STORED], row.figures[REMOVED] = store.replace_source(source, found)
    report_step(context, result)


watchlist_sync_op = step_op(
    "watchlist_sync",
    description="Watchlist feeds and watchlist.yaml -> atp.watchlist (a failed source keeps its list).",
)(run_watchlist_sync)
