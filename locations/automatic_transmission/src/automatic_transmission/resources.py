"""The pipeline's resources, each configured from its environment variables when a run starts."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import dagster as dg

from automatic_transmission.clients import omdb, tmdb, transmission
from automatic_transmission.clients.feeds import FeedClient
from automatic_transmission.clients.http import RetryPolicy
from automatic_transmission.clients.omdb import OmdbClient
from automatic_transmission.clients.plex import PlexResource
from automatic_transmission.clients.reel_driver import ReelDriverClient
from automatic_transmission.clients.tmdb import TmdbClient
from automatic_transmission.clients.transmission import TransmissionClient
from automatic_transmission.filters import RuleSet, load_file_rules, load_media_rules
from automatic_transmission.library import Library, load_naming
from dagstributor_shared.notify import NotifierResource
from dagstributor_shared.postgres import PostgresResource

if TYPE_CHECKING:
    from automatic_transmission.steps.cleanup import CleanupDelays

AT_PGSQL_PREFIX = "AT_PGSQL"
RSS_SOURCES_VAR = "AT_RSS_SOURCES"
RSS_URLS_VAR = "AT_RSS_URLS"
BATCH_SIZE_VAR = "AT_BATCH_SIZE"
DEFAULT_BATCH_SIZE = 50
MAINTENANCE_WAIT_VAR = "AT_MAINTENANCE_WAIT"  # seconds a step waits for a schema job
DEFAULT_MAINTENANCE_WAIT_SECONDS = 30.0


class SettingsError(ValueError):
    """A setting has an invalid value; names the variable (never a secret's value)."""


class FeedsResource(dg.ConfigurableResource):
    """The RSS feeds: labels (AT_RSS_SOURCES) and URLs (AT_RSS_URLS), comma lists matched by
    position and checked when the step starts; and how feeds are fetched."""

    sources: str
    urls: str
    timeout_s: float = 30.0
    retries: int = 1
    backoff_s: float = 1.0

    def client(self) -> FeedClient:

        return FeedClient(timeout_s=self.timeout_s, retries=self.retries, backoff_s=self.backoff_s)


def _setting(explicit: object, var: str, default: object) -> object:
    """An explicit field wins (tests); else the variable when set and not empty; else default."""
    if explicit is not None:
        return explicit
    value = os.environ.get(var)
    return default if value in (None, "") else value


def number_setting(
    explicit: float | None,
    var: str,
    default: float,
    low: float,
    high: float | None = None,
    *,
    whole: bool = False,
) -> float:
    """An optional numeric setting, validated with an error that names the variable."""
    raw = _setting(explicit, var, default)
    try:
        value = float(str(raw))
    except ValueError:
        raise SettingsError(f"{var} must be a number, got {raw!r}") from None
    if whole and not value.is_integer():
        raise SettingsError(f"{var} must be a whole number, got {raw!r}")
    if value < low or (high is not None and value > high):
        bound = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
        raise SettingsError(f"{var} must be {bound}, got {raw!r}")
    return value


class PipelineSettings(dg.ConfigurableResource):
    """Optional pipeline settings with defaults, read when a run starts (not at import):
    AT_BATCH_SIZE (rows per batch, default 50). An explicit field wins (tests)."""

    batch_size: int | None = None

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self.rows_per_batch()  # a bad value fails the run at its start, naming the variable

    def rows_per_batch(self) -> int:
        return int(
            number_setting(self.batch_size, BATCH_SIZE_VAR, DEFAULT_BATCH_SIZE, 1, whole=True)
        )


def maintenance_wait_seconds() -> float:
    """AT_MAINTENANCE_WAIT (seconds, default 30, 0 = do not wait): how long a step waits for a
    schema job that holds the maintenance lock before it skips this run; read when it starts."""
    return number_setting(
        None, MAINTENANCE_WAIT_VAR, DEFAULT_MAINTENANCE_WAIT_SECONDS, 0, 24 * 3600
    )


# --- steps 04-06: rule files, TMDB, OMDb, reel-driver --------------------------------------------

TMDB_BASE_URL_VAR = "AT_MOVIE_SEARCH_API_BASE_URL"
TMDB_DETAILS_BASE_URL_VAR = "AT_MOVIE_DETAILS_API_BASE_URL"
TMDB_API_KEY_VAR = "AT_MOVIE_SEARCH_API_KEY"  # a v3 api key or a v4 read access token
TMDB_RATE_LIMIT_VAR = "AT_MOVIE_SEARCH_API_RATE_LIMIT"  # requests per second, 0 = unlimited
OMDB_BASE_URL_VAR = "AT_MOVIE_RATINGS_API_BASE_URL"
OMDB_API_KEY_VAR = "AT_MOVIE_RATINGS_API_KEY"
REEL_DRIVER_HOST_VAR = "REEL_DRIVER_HOST"
REEL_DRIVER_PORT_VAR = "REEL_DRIVER_PORT"
REEL_DRIVER_PREFIX_VAR = "REEL_DRIVER_PREFIX"
REEL_DRIVER_THRESHOLD_VAR = "AT_REEL_DRIVER_THRESHOLD"
STALE_METADATA_VAR = "AT_STALE_METADATA_THRESHOLD"  # days
DEFAULT_REEL_DRIVER_PORT = 8000
DEFAULT_REEL_DRIVER_PREFIX = "reel-driver"
DEFAULT_REEL_DRIVER_THRESHOLD = 0.35
DEFAULT_STALE_METADATA_DAYS = 30.0


class FilterSettings(dg.ConfigurableResource):
    """Steps 04-06: where the rule files live and how old stored metadata may get.

    `rules_dir`: the folder of file_filtration.yaml / media_filtration.yaml (default
    `config/automatic_transmission/`); `stale_metadata_days`: AT_STALE_METADATA_THRESHOLD (30).
    """

    rules_dir: str | None = None
    stale_metadata_days: float | None = None

    def stale_after_days(self) -> float:
        return number_setting(
            self.stale_metadata_days, STALE_METADATA_VAR, DEFAULT_STALE_METADATA_DAYS, 0
        )

    def file_rules(self) -> RuleSet:

        return load_file_rules(self.rules_dir)

    def media_rules(self) -> RuleSet:

        return load_media_rules(self.rules_dir)


class _ApiResource(dg.ConfigurableResource):
    """What the keyed web-service resources (TMDB, OMDb) share: the api key and how their
    JSON client times out and retries."""

    api_key: str
    timeout_s: float = 10.0
    retries: int = 3
    backoff_s: float = 0.5
    max_retry_after_s: float = 60.0

    def _retry_policy(self) -> RetryPolicy:

        return RetryPolicy(self.retries, self.backoff_s, max_retry_after_s=self.max_retry_after_s)


class TmdbResource(_ApiResource):
    """TMDB: AT_MOVIE_SEARCH_API_KEY (api key or bearer token), AT_MOVIE_SEARCH_API_BASE_URL
    (default https://api.themoviedb.org/3), AT_MOVIE_DETAILS_API_BASE_URL (default: the search
    URL), AT_MOVIE_SEARCH_API_RATE_LIMIT (requests per second, default 40)."""

    base_url: str | None = None
    details_base_url: str | None = None
    rate_limit_per_s: float | None = None

    def client(self) -> TmdbClient:
        if not self.api_key:
            raise SettingsError(f"{TMDB_API_KEY_VAR} is empty")
        base_url = str(_setting(self.base_url, TMDB_BASE_URL_VAR, tmdb.DEFAULT_BASE_URL))
        return TmdbClient.connect(
            self.api_key,
            base_url,
            details_base_url=str(
                _setting(self.details_base_url, TMDB_DETAILS_BASE_URL_VAR, base_url)
            ),
            timeout_s=self.timeout_s,
            retry=self._retry_policy(),
            rate_limit_per_s=number_setting(
                self.rate_limit_per_s, TMDB_RATE_LIMIT_VAR, tmdb.DEFAULT_RATE_LIMIT_PER_S, 0
            ),
        )


class OmdbResource(_ApiResource):
    """OMDb: AT_MOVIE_RATINGS_API_KEY, AT_MOVIE_RATINGS_API_BASE_URL (default
    https://www.omdbapi.com/)."""

    base_url: str | None = None

    def client(self) -> OmdbClient:
        if not self.api_key:
            raise SettingsError(f"{OMDB_API_KEY_VAR} is empty")
        return OmdbClient.connect(
            self.api_key,
            str(_setting(self.base_url, OMDB_BASE_URL_VAR, omdb.DEFAULT_BASE_URL)),
            timeout_s=self.timeout_s,
            retry=self._retry_policy(),
        )


class ReelDriverResource(dg.ConfigurableResource):
    """The preference model: REEL_DRIVER_HOST (unset or empty: no model, step 06 uses the rules of
    media_filtration.yaml), REEL_DRIVER_PORT (8000), REEL_DRIVER_PREFIX (reel-driver),
    AT_REEL_DRIVER_THRESHOLD (0.35; a probability equal to it passes)."""

    host: str | None = None
    port: int | None = None
    prefix: str | None = None
    threshold: float | None = None
    timeout_s: float = 30.0
    retries: int = 2
    backoff_s: float = 0.5

    def configured(self) -> bool:
        return bool(_setting(self.host, REEL_DRIVER_HOST_VAR, ""))

    def resolved_threshold(self) -> float:
        return number_setting(
            self.threshold, REEL_DRIVER_THRESHOLD_VAR, DEFAULT_REEL_DRIVER_THRESHOLD, 0, 1
        )

    def client(self) -> ReelDriverClient | None:
        """None when no reel-driver is configured."""

        host = str(_setting(self.host, REEL_DRIVER_HOST_VAR, ""))
        if not host:
            return None
        raw_port = _setting(self.port, REEL_DRIVER_PORT_VAR, DEFAULT_REEL_DRIVER_PORT)
        try:
            port = int(str(raw_port))
            if not 0 < port < 65536:
                raise ValueError
        except ValueError:
            raise SettingsError(f"{REEL_DRIVER_PORT_VAR} is not a port number") from None
        prefix = str(_setting(self.prefix, REEL_DRIVER_PREFIX_VAR, DEFAULT_REEL_DRIVER_PREFIX))
        return ReelDriverClient.connect(
            host,
            port,
            prefix,
            timeout_s=self.timeout_s,
            retry=RetryPolicy(self.retries, self.backoff_s),
        )


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
    op and health check requires it) and `plex` (PLEX_URL, PLEX_TOKEN; step 09), read when a run
    starts."""
    return {"notifier": NotifierResource(), "plex": PlexResource()}


# --- steps 02 and 07-10: Transmission, the library, cleanup -----------------------------------

TRANSMISSION_HOST_VAR = "TRANSMISSION_HOST"
TRANSMISSION_PORT_VAR = "TRANSMISSION_PORT"
TRANSMISSION_USERNAME_VAR = "TRANSMISSION_USERNAME"
TRANSMISSION_PASSWORD_VAR = "TRANSMISSION_PASSWORD"
TRANSMISSION_PATH_VAR = "TRANSMISSION_PATH"
DOWNLOAD_DIR_VAR = "AT_DOWNLOAD_DIR"
MOVIE_DIR_VAR = "AT_MOVIE_DIR"
TV_SHOW_DIR_VAR = "AT_TV_SHOW_DIR"
UID_VAR = "AT_UID"
GID_VAR = "AT_GID"
NAMING_VAR = "AT_LIBRARY_NAMING"
TARGET_ACTIVE_ITEMS_VAR = "AT_TARGET_ACTIVE_ITEMS"
TRANSFERRED_DELAY_VAR = "AT_TRANSFERRED_ITEM_CLEANUP_DELAY"  # days
HUNG_DELAY_VAR = "AT_HUNG_ITEM_CLEANUP_DELAY"  # days
DEFAULT_TARGET_ACTIVE_ITEMS = 10
DEFAULT_TRANSFERRED_DELAY_DAYS = 0.0
DEFAULT_HUNG_DELAY_DAYS = 1.0
DEFAULT_NAMING = "plex"


def _required_setting(explicit: str | None, var: str) -> str:
    value = str(_setting(explicit, var, ""))
    if not value:
        raise SettingsError(f"{var} is not set")
    return value


class TransmissionResource(dg.ConfigurableResource):
    """The Transmission daemon: TRANSMISSION_HOST (required), TRANSMISSION_PORT (9091),
    TRANSMISSION_USERNAME, TRANSMISSION_PASSWORD, TRANSMISSION_PATH (/transmission/rpc)."""

    host: str | None = None
    port: int | None = None
    username: str | None = None
    password: str | None = None
    path: str | None = None
    timeout_s: float = 30.0

    def client(self) -> TransmissionClient:
        """Connected (one session-get); TransmissionUnavailable names HOST:PORT when it fails."""
        host = _required_setting(self.host, TRANSMISSION_HOST_VAR)
        port = int(
            number_setting(
                self.port, TRANSMISSION_PORT_VAR, transmission.DEFAULT_PORT, 1, 65535, whole=True
            )
        )
        return TransmissionClient.connect(
            host,
            port,
            username=str(_setting(self.username, TRANSMISSION_USERNAME_VAR, "")),
            password=str(_setting(self.password, TRANSMISSION_PASSWORD_VAR, "")),
            path=str(_setting(self.path, TRANSMISSION_PATH_VAR, transmission.DEFAULT_PATH)),
            timeout_s=self.timeout_s,
        )


def _owner_id(explicit: int | None, var: str) -> int | None:
    """A numeric user or group id; None when not set (files keep the owner they get)."""
    if _setting(explicit, var, "") == "":
        return None
    return int(number_setting(explicit, var, 0, 0, 2**32 - 2, whole=True))


class LibrarySettings(dg.ConfigurableResource):
    """Step 09: where finished downloads are (AT_DOWNLOAD_DIR, as this process sees
    Transmission's download dir), the library roots (AT_MOVIE_DIR, AT_TV_SHOW_DIR), the numeric
    owner of placed files (AT_UID, AT_GID; unset = leave it), the naming preset of
    config/automatic_transmission/naming.yaml (AT_LIBRARY_NAMING, default plex). `copy_only`
    (tests, benchmarks) copies even when a hardlink would do."""

    download_dir: str | None = None
    movie_dir: str | None = None
    tv_show_dir: str | None = None
    uid: int | None = None
    gid: int | None = None
    naming: str | None = None
    naming_dir: str | None = None
    copy_only: bool = False

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self.library()  # a missing folder setting or a bad preset fails the run at its start

    def library(self) -> Library:

        owner = [_owner_id(value, var) for value, var in ((self.uid, UID_VAR), (self.gid, GID_VAR))]
        return Library(
            download_dir=_required_setting(self.download_dir, DOWNLOAD_DIR_VAR),
            movie_dir=_required_setting(self.movie_dir, MOVIE_DIR_VAR),
            tv_show_dir=_required_setting(self.tv_show_dir, TV_SHOW_DIR_VAR),
            naming=load_naming(
                str(_setting(self.naming, NAMING_VAR, DEFAULT_NAMING)), self.naming_dir
            ),
            uid=owner[0],
            gid=owner[1],
            copy_only=self.copy_only,
        )


class CleanupSettings(dg.ConfigurableResource):
    """Step 10: AT_TRANSFERRED_ITEM_CLEANUP_DELAY (days, 0), AT_HUNG_ITEM_CLEANUP_DELAY (days, 1),
    both scaled by AT_TARGET_ACTIVE_ITEMS (10) / the torrents in Transmission. Negative = error."""

    target_active_items: int | None = None
    transferred_delay_days: float | None = None
    hung_delay_days: float | None = None

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self.delays()

    def delays(self) -> CleanupDelays:
        from automatic_transmission.steps.cleanup import CleanupDelays  # imports this module

        return CleanupDelays(
            target_active_items=int(
                number_setting(
                    self.target_active_items,
                    TARGET_ACTIVE_ITEMS_VAR,
                    DEFAULT_TARGET_ACTIVE_ITEMS,
                    1,
                    whole=True,
                )
            ),
            transferred_days=number_setting(
                self.transferred_delay_days,
                TRANSFERRED_DELAY_VAR,
                DEFAULT_TRANSFERRED_DELAY_DAYS,
                0,
            ),
            hung_days=number_setting(
                self.hung_delay_days, HUNG_DELAY_VAR, DEFAULT_HUNG_DELAY_DAYS, 0
            ),
        )


def transfer_resources() -> dict[str, dg.ConfigurableResource]:
    """The resources of steps 02 and 07-10 (merged into `pipeline_resources`)."""
    return {
        "transmission": TransmissionResource(),
        "library": LibrarySettings(),
        "cleanup_settings": CleanupSettings(),
    }
