"""The domain vocabulary: statuses of `atp.media`, the media row, and the outcomes a step decides."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from typing import Any

from automatic_transmission.limits import MAX_INTEGER as MAX_INTEGER
from automatic_transmission.limits import MAX_YEAR, MIN_YEAR

# Control characters (NUL among them: PostgreSQL text cannot hold it): outside text turns each run
# into one space before it is parsed or stored (feed titles, release names).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
# Step 10's rejection reason for a download without progress for AT_HUNG_ITEM_CLEANUP_DELAY; the
# notifications recognise a hung item by it.
HUNG_REASON = "exceeded time limit"
UPGRADED_PREFIX = "upgraded by"  # `upgraded by <hash>`: a better release replaced it
# The error a row is frozen with when neither its feed nor its name tells its type (steps 02, 03).
UNKNOWN_TYPE_ERROR = "media_type is unknown"


def valid_year(year: int | None) -> int | None:
    """A year the release_year columns accept, else None."""
    return year if year is not None and MIN_YEAR <= year <= MAX_YEAR else None


def as_number(value: Any) -> float | None:
    """A number from JSON or YAML (int, float or numeric text), else None; a bool is no number."""
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def normalised(title: str | None) -> str:
    """The one title normaliser (matching, lookups): accents off, case folded, punctuation to
    spaces: `Amélie: Part II` -> `amelie part ii`. Letters of every script are kept (`Брат`,
    `鬼滅の刃`). Only Python applies it: SQL only preselects candidates (by tmdb_id or year),
    so no second, locale-dependent copy of the rule exists."""
    text = unicodedata.normalize("NFKD", title or "")
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.casefold().replace("&", " and ")
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


class MediaType(StrEnum):
    MOVIE = "movie"
    TV_SHOW = "tv_show"
    TV_SEASON = "tv_season"
    TV_EPISODE_PACK = "tv_episode_pack"
    UNKNOWN = "unknown"

    @property
    def is_tv(self) -> bool:
        return self in (MediaType.TV_SHOW, MediaType.TV_SEASON, MediaType.TV_EPISODE_PACK)


class PipelineStatus(StrEnum):
    INGESTED = "ingested"
    PAUSED = "paused"
    PARSED = "parsed"
    REJECTED = "rejected"
    FILE_ACCEPTED = "file_accepted"
    METADATA_COLLECTED = "metadata_collected"
    MEDIA_ACCEPTED = "media_accepted"
    DOWNLOADING = "downloading"
    DOWNLOADED = "downloaded"
    TRANSFERRED = "transferred"
    COMPLETE = "complete"


# Statuses of a release "being fetched" (accepted, downloading, downloaded): the database allows
# one live release per item in them (constraint media_one_fetch_per_item); and of a release the
# library holds.
FETCHING_STATUSES = (
    PipelineStatus.MEDIA_ACCEPTED,
    PipelineStatus.DOWNLOADING,
    PipelineStatus.DOWNLOADED,
)
HELD_STATUSES = (PipelineStatus.TRANSFERRED, PipelineStatus.COMPLETE)


class RejectionStatus(StrEnum):
    UNFILTERED = "unfiltered"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    OVERRIDE = "override"


class RssSource(StrEnum):
    """Feed labels (AT_RSS_SOURCES); each is a value of the `atp.rss_source` enum.

    `other` is the label for any RSS/Atom feed whose items carry a magnet or an info-hash.
    """

    YTS_MX = "yts.mx"
    YTS_LT = "yts.lt"
    YTS_AM = "yts.am"
    EPISODEFEED = "episodefeed.com"
    EZTVX_TO = "eztvx.to"
    EZTV_RE = "eztv.re"
    SHOWRSS = "showrss.info"
    OTHER = "other"
    TORZNAB = "torznab"  # an indexer of AT_TORZNAB_URLS, not a label of AT_RSS_SOURCES

    @property
    def is_movie_feed(self) -> bool:
        """YTS-style feeds carry only movies; every other feed is classified per title."""
        return self in (RssSource.YTS_MX, RssSource.YTS_LT, RssSource.YTS_AM)


@dataclass(frozen=True)
class ReleaseFacts:
    """What a Torznab indexer says about a release beside its name (`torznab:attr`), named as
    the columns of `atp.media` that keep it. Unknown values are None."""

    seeders: int | None = None
    peers: int | None = None
    size_bytes: int | None = None
    categories: tuple[int, ...] = ()  # Newznab categories: 2000s movies, 5000s TV
    imdb_id: str | None = None  # `tt` and 7-8 digits, whichever spelling the indexer used
    tmdb_id: int | None = None
    tvdb_id: int | None = None
    minimum_ratio: float | None = None
    minimum_seed_time: int | None = None  # seconds
    download_volume_factor: float | None = None  # 0 = freeleech

    @property
    def category_media_type(self) -> MediaType | None:
        """Movie for a 2000s category, TV (a show's episode) for a 5000s one, else None."""
        for category in self.categories:
            if 2000 <= category < 3000:
                return MediaType.MOVIE
            if 5000 <= category < 6000:
                return MediaType.TV_SHOW
        return None


class LabelType(StrEnum):
    WOULD_WATCH = "would_watch"
    WOULD_NOT_WATCH = "would_not_watch"


@dataclass(frozen=True)
class MediaRow:
    """One row of `atp.media` as the pipeline sees it."""

    hash: str
    media_type: MediaType
    pipeline_status: PipelineStatus
    rejection_status: RejectionStatus
    original_title: str
    media_title: str | None = None
    season: int | None = None
    episode: int | None = None
    release_year: int | None = None
    error_status: bool = False
    error_condition: str | None = None
    rejection_reason: str | None = None
    parent_path: str | None = None
    target_path: str | None = None
    original_path: str | None = None
    original_link: str | None = None
    rss_source: RssSource | None = None
    uploader: str | None = None
    imdb_id: str | None = None
    tmdb_id: int | None = None
    resolution: str | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    upload_type: str | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    deleted_at: dt.datetime | None = None
    # What a Torznab indexer said about the release (issue 17); null for other feeds.
    indexer: str | None = None  # the indexer's URL without its query (never the API key)
    seeders: int | None = None
    peers: int | None = None
    size_bytes: int | None = None
    tvdb_id: int | None = None
    minimum_ratio: float | None = None
    minimum_seed_time: int | None = None  # seconds
    download_volume_factor: float | None = None
    # Items (issue 16): the last season/episode a pack covers, the PROPER/REPACK revision, the
    # indexer's seeders, and the item as the database computes it (`atp.media.item_span`,
    # [lower, upper) on one line where overlapping means "covers the same episode"; None: no
    # item known, the release is judged alone).
    last_season: int | None = None
    last_episode: int | None = None
    revision: int = 1
    item_span: tuple[int, int] | None = None

    @property
    def is_override(self) -> bool:
        return self.rejection_status is RejectionStatus.OVERRIDE


@dataclass(frozen=True, kw_only=True)
class OmdbRatings:
    """What OMDb says about a title, named as the columns of `atp.training`."""

    imdb_rating: float | None = None  # IMDb rating x 10 (0-100), as atp.training stores it
    imdb_votes: int | None = None
    metascore: int | None = None
    rt_score: int | None = None  # Rotten Tomatoes, percent


@dataclass(frozen=True, kw_only=True)
class TitleMetadata(OmdbRatings):
    """What TMDB (and OMDb) say about a title: the one list of the metadata fields, named as the
    columns of `atp.training` (the TMDB client fills it, the training store writes it, the media
    rules and reel-driver read it)."""

    tmdb_id: int | None = None
    media_title: str = ""
    original_media_title: str | None = None
    release_year: int | None = None
    imdb_id: str | None = None
    budget: int | None = None
    revenue: int | None = None
    runtime: int | None = None
    origin_country: tuple[str, ...] = ()
    production_companies: tuple[str, ...] = ()
    production_countries: tuple[str, ...] = ()
    production_status: str | None = None
    original_language: str | None = None
    spoken_languages: tuple[str, ...] = ()
    genre: tuple[str, ...] = ()
    tagline: str | None = None
    overview: str | None = None
    tmdb_rating: float | None = None
    tmdb_votes: int | None = None


@dataclass(frozen=True, kw_only=True)
class TrainingRecord(TitleMetadata):
    """The metadata columns of one `atp.training` row: a title's metadata plus what the media
    row says (its type, season, episode), keyed by imdb_id."""

    imdb_id: str
    release_year: int
    media_type: MediaType
    season: int | None = None
    episode: int | None = None

    def model_input(self) -> dict[str, Any]:
        """The record as plain JSON values (the reel-driver request item, the rules' fields,
        the training store's rows)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        out["media_type"] = self.media_type.value
        return out


TRAINING_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(TrainingRecord))


class Verdict(StrEnum):
    """How one row fared in one run of a step (the counts of the run metadata)."""

    ADVANCED = "advanced"
    REJECTED = "rejected"
    ERRORED = "errored"
    RETRY = "retried later"
    MOVED_ON = "moved on"  # decided, but the row changed meanwhile, so it was left alone


@dataclass(frozen=True)
class Outcome:
    """What a step decided for one row; the store applies it as a conditional transition.

    `from_status` is the status the step read: the update only happens if the row still has it,
    so overlapping runs and operators' edits are never overwritten.
    """

    hash: str
    verdict: Verdict
    from_status: PipelineStatus
    to_status: PipelineStatus | None = None
    changes: Mapping[str, Any] = field(default_factory=dict)
    reason: str | None = None
    title: str | None = None

    @classmethod
    def advance(cls, row: MediaRow, to_status: PipelineStatus, **changes: Any) -> Outcome:
        return cls(
            row.hash,
            Verdict.ADVANCED,
            row.pipeline_status,
            to_status,
            changes,
            title=row.original_title,
        )

    @classmethod
    def reject(cls, row: MediaRow, reason: str, **changes: Any) -> Outcome:
        changes = {
            **changes,
            "rejection_status": RejectionStatus.REJECTED,
            "rejection_reason": reason,
        }
        return cls(
            row.hash,
            Verdict.REJECTED,
            row.pipeline_status,
            PipelineStatus.REJECTED,
            changes,
            reason,
            row.original_title,
        )

    @classmethod
    def freeze(cls, row: MediaRow, error: str, **changes: Any) -> Outcome:
        changes = {**changes, "error_status": True, "error_condition": error}
        return cls(
            row.hash,
            Verdict.ERRORED,
            row.pipeline_status,
            None,
            changes,
            error,
            row.original_title,
        )

    @classmethod
    def retry(cls, row: MediaRow, reason: str) -> Outcome:
        """A transient failure: the row stays as it is and the next run tries again."""
        return cls(
            row.hash, Verdict.RETRY, row.pipeline_status, None, {}, reason, row.original_title
        )

    def moved_on(self) -> Outcome:
        """This outcome as reported when its row had moved on before the write."""
        return replace(
            self,
            verdict=Verdict.MOVED_ON,
            to_status=None,
            changes={},
            reason="the row changed meanwhile; left alone",
        )

    @property
    def writes(self) -> bool:
        return self.verdict not in (Verdict.RETRY, Verdict.MOVED_ON)
