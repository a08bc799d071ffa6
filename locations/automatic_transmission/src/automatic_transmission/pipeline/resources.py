"""Every resource the pipeline's jobs use, by key: each is defined beside what it configures."""

from __future__ import annotations

import dagster as dg

from automatic_transmission.clients.feeds import RSS_SOURCES_VAR, RSS_URLS_VAR, FeedsResource
from automatic_transmission.clients.omdb import OMDB_API_KEY_VAR, OmdbResource
from automatic_transmission.clients.plex import PlexResource
from automatic_transmission.clients.reel_driver import ReelDriverResource
from automatic_transmission.clients.tmdb import TMDB_API_KEY_VAR, TmdbResource
from automatic_transmission.clients.transmission import TransmissionResource
from automatic_transmission.clients.watchlist import WatchlistResource
from automatic_transmission.filters import FilterSettings
from automatic_transmission.library.files import LibrarySettings
from automatic_transmission.pipeline.steps.cleanup import CleanupSettings
from automatic_transmission.settings import AT_PGSQL_PREFIX, PipelineSettings
from dagstributor_shared.notify import NotifierResource
from dagstributor_shared.postgres import PostgresResource


def pipeline_resources() -> dict[str, dg.ConfigurableResource]:
    """Every resource the steps use; a job initialises only those its ops require."""
    return {
        "postgres": PostgresResource(env_prefix=AT_PGSQL_PREFIX),
        "feeds": FeedsResource(sources=dg.EnvVar(RSS_SOURCES_VAR), urls=dg.EnvVar(RSS_URLS_VAR)),
        "pipeline_settings": PipelineSettings(),
        "filter_settings": FilterSettings(),
        "tmdb": TmdbResource(api_key=dg.EnvVar(TMDB_API_KEY_VAR)),
        "omdb": OmdbResource(api_key=dg.EnvVar(OMDB_API_KEY_VAR)),
        "reel_driver": ReelDriverResource(),
        **transfer_resources(),
        **optional_resources(),
    }


def optional_resources() -> dict[str, dg.ConfigurableResource]:
    """The resources that do nothing until configured: `notifier` (AT_NOTIFY_URLS; every step
    op and health check requires it), `plex` (PLEX_URL, PLEX_TOKEN; step 09) and `watchlist`
    (AT_WATCHLIST_URLS, AT_TV_FOLLOW; the watchlist sync and step 06), read when a run starts."""
    return {
        "notifier": NotifierResource(),
        "plex": PlexResource(),
        "watchlist": WatchlistResource(),
    }


def transfer_resources() -> dict[str, dg.ConfigurableResource]:
    """The resources of steps 02 and 07-10 (merged into `pipeline_resources`)."""
    return {
        "transmission": TransmissionResource(),
        "library": LibrarySettings(),
        "cleanup_settings": CleanupSettings(),
    }
