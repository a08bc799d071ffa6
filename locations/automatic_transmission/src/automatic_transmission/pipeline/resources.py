"""Every resource the pipeline's jobs use, by key: each is defined beside what it configures."""

from __future__ import annotations

import dagster as dg

from automatic_transmission.clients.feeds import FeedsResource
from automatic_transmission.clients.omdb import OmdbResource
from automatic_transmission.clients.plex import PlexResource
from automatic_transmission.clients.reel_driver import ReelDriverResource
from automatic_transmission.clients.tmdb import TmdbResource
from automatic_transmission.clients.torznab import TorznabResource
from automatic_transmission.clients.transmission import TransmissionResource
from automatic_transmission.clients.watchlist import WatchlistResource
from automatic_transmission.filters import FilterSettings
from automatic_transmission.library.files import LibrarySettings
from automatic_transmission.pipeline.steps.cleanup import CleanupSettings
from automatic_transmission.safety import SafetySettings
from automatic_transmission.seeding import SeedingSettings
from automatic_transmission.settings import AT_PGSQL_PREFIX, NOTIFY_URLS_VAR, PipelineSettings
from dagstributor_shared.notify import NotifierResource
from dagstributor_shared.postgres import PostgresResource


def pipeline_resources() -> dict[str, dg.ConfigurableResource]:
    """Every resource the steps use; a job initialises only those its ops require. The required
    settings (feeds, TMDB and OMDb keys) are read when a run starts, not through `dg.EnvVar`
    in the run config: a missing EnvVar makes Dagster refuse the launch with a page of config
    tracebacks, while the step op's check (pipeline/op.py) fails the run at its start with one
    sentence listing every missing variable of the job. Secrets stay out of the run config and
    logs either way."""
    return {
        "postgres": PostgresResource(env_prefix=AT_PGSQL_PREFIX),
        "feeds": FeedsResource(),
        "torznab": TorznabResource(),
        "pipeline_settings": PipelineSettings(),
        "filter_settings": FilterSettings(),
        "tmdb": TmdbResource(),
        "omdb": OmdbResource(),
        "reel_driver": ReelDriverResource(),
        **transfer_resources(),
        **optional_resources(),
    }


def optional_resources() -> dict[str, dg.ConfigurableResource]:
    """The resources that do nothing until configured: `notifier` (AT_NOTIFY_URLS; every step
    op and health check requires it), `plex` (PLEX_URL, PLEX_TOKEN; step 09) and `watchlist`
    (AT_WATCHLIST_URLS, AT_TV_FOLLOW; the watchlist sync and step 06), read when a run starts."""
    return {
        "notifier": NotifierResource(urls_var=NOTIFY_URLS_VAR),
        "plex": PlexResource(),
        "watchlist": WatchlistResource(),
    }


def transfer_resources() -> dict[str, dg.ConfigurableResource]:
    """The resources of steps 02 and 07-10 (merged into `pipeline_resources`)."""
    return {
        "transmission": TransmissionResource(),
        "library": LibrarySettings(),
        "cleanup_settings": CleanupSettings(),
        "safety_settings": SafetySettings(),
        "seeding_settings": SeedingSettings(),
    }
