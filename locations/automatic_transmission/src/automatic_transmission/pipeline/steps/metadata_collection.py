"""Step 05 metadata_collection: `file_accepted` rows get TMDB's canonical identity and metadata.

select: `file_accepted` rows AT_BATCH_SIZE at a time, and the fresh metadata already stored for
them (one query each per batch) · decide: reuse stored metadata when it is fresh (no HTTP at
all); else, when a Torznab indexer gave the row ids, TMDB details by tmdb_id or `/find` by
imdb_id / tvdb_id (no title search; the title found must still be plausibly the row's); else
search TMDB and pick the best-scoring hit (title similarity, then year distance — not
the first hit), then details, the IMDb id (TV: external ids) and OMDb ratings · record: training
upsert (one statement) and the media rows (one conditional write) · report: counts, requests, the
table of items.

Failure handling: no plausible search hit -> rejected `media search failed`; a transient failure
(timeout, 429, 5xx, refused) leaves the row for the next run; a lasting one (404, malformed JSON)
freezes it; a configuration error (401/403) fails the step — it is not the rows' fault.

Release years: the media row takes TMDB's year, else the parsed one. `atp.training.release_year`
is NOT NULL and CHECKed to 1850-2100, so a title with no usable year (a show without a first-air
date, nothing parsed) is advanced without a training row instead of failing the batch's upsert;
step 06 does not need training metadata for TV, and every movie has a parsed year (step 03).
"""

from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import asdict, fields, replace
from difflib import SequenceMatcher

import dagster as dg

from automatic_transmission.clients.http import (
    CircuitBreaker,
    LastingServiceError,
    ServiceConfigurationError,
    ServiceError,
)
from automatic_transmission.clients.omdb import OmdbClient, OmdbResource
from automatic_transmission.clients.tmdb import SearchHit, TmdbClient, TmdbResource
from automatic_transmission.filters import FilterSettings
from automatic_transmission.limits import TITLE_CHARS
from automatic_transmission.model import (
    MediaRow,
    Outcome,
    PipelineStatus,
    TitleMetadata,
    TrainingRecord,
    normalised,
    valid_year,
)
from automatic_transmission.pipeline.op import step_op
from automatic_transmission.pipeline.report import report_step
from automatic_transmission.pipeline.runner import StepResult, StopStep, open_store, run_batches
from automatic_transmission.pipeline.step_table import consumed_by
from automatic_transmission.settings import PipelineSettings
from automatic_transmission.store.training import StoredTitle, TrainingStore, valid_imdb_id
from dagstributor_shared.postgres import PostgresResource

SEARCH_FAILED = "media search failed"
MIN_TITLE_SIMILARITY = 0.5  # below this a hit is another title, not a spelling of ours
MEDIA_TITLE_MAX = TITLE_CHARS


# --- decide: matching -----------------------------------------------------------------------


def title_similarity(query: str, hit: SearchHit) -> float:
    wanted = normalised(query)
    names = {normalised(hit.title), normalised(hit.original_title)} - {""}
    return max((SequenceMatcher(None, wanted, name).ratio() for name in names), default=0.0)


def year_penalty(year: int | None, hit_year: int | None) -> float:
    """Nothing for the same year, a little for one off (festival vs release), more beyond."""
    if year is None:
        return 0.0
    if hit_year is None:
        return 0.15
    distance = abs(hit_year - year)
    if distance == 0:
        return 0.0
    if distance == 1:
        return 0.05
    return 0.2 + 0.02 * min(distance, 15)


def best_hit(hits: Sequence[SearchHit], title: str, year: int | None) -> SearchHit | None:
    """The hit whose title matches best, the closest year breaking near-ties; votes break exact
    ties. None when no hit's title is close enough to be ours."""
    scored = [(title_similarity(title, hit), hit) for hit in hits]
    plausible = [(s, hit) for s, hit in scored if s >= MIN_TITLE_SIMILARITY]
    if not plausible:
        return None
    return max(
        plausible, key=lambda sh: (sh[0] - year_penalty(year, sh[1].year), sh[1].vote_count)
    )[1]


def match_stored(row: MediaRow, stored: Sequence[StoredTitle]) -> StoredTitle | None:
    """The stored (fresh) title this row is, if exactly one fits: by the row's tmdb_id, else by
    title (`normalised`, any script) and year when the row has one. Movies match movies, TV
    matches TV: TMDB's movie and TV ids overlap."""
    compatible = [s for s in stored if s.record.media_type.is_tv == row.media_type.is_tv]
    if row.tmdb_id is not None:
        by_id = [s for s in compatible if s.record.tmdb_id == row.tmdb_id]
        if by_id:
            return by_id[0]
    key = normalised(row.media_title)
    if not key:
        return None
    named = [
        s
        for s in compatible
        if key in (normalised(s.record.media_title), normalised(s.record.original_media_title))
        and (row.release_year is None or s.record.release_year == row.release_year)
    ]
    return named[0] if len(named) == 1 else None


# --- decide: outcomes -----------------------------------------------------------------------


class NoMatch:
    """The search found nothing that is our title."""


NO_MATCH = NoMatch()
FetchResult = TitleMetadata | NoMatch | ServiceError


def training_record(row: MediaRow, found: TitleMetadata, year: int) -> TrainingRecord | None:
    """The training row of a found title: its metadata, with the media row's type, season
    and episode (never a type stored earlier); None without a valid IMDb id."""
    imdb_id = valid_imdb_id(found.imdb_id)
    if imdb_id is None:
        return None
    metadata = {f.name: getattr(found, f.name) for f in fields(TitleMetadata)}
    return TrainingRecord(
        **{
            **metadata,
            "imdb_id": imdb_id,
            "media_type": row.media_type,
            "media_title": found.media_title or row.media_title or row.original_title,
            "release_year": year,
            "season": row.season,
            "episode": row.episode,
        }
    )


def outcome_for(row: MediaRow, result: FetchResult) -> tuple[Outcome, TrainingRecord | None]:
    """A row's outcome from what the services said, and the training row to upsert (if any)."""
    if isinstance(result, NoMatch):
        return Outcome.reject(row, SEARCH_FAILED), None
    if isinstance(result, ServiceError):
        if result.transient:
            return Outcome.retry(row, str(result)), None
        return Outcome.freeze(row, str(result)), None
    year = valid_year(result.release_year) or valid_year(row.release_year)
    changes: dict[str, object] = {
        "media_title": (result.media_title or row.media_title or "")[:MEDIA_TITLE_MAX] or None,
        "release_year": year,
        "tmdb_id": result.tmdb_id,
    }
    imdb_id = valid_imdb_id(result.imdb_id)
    if imdb_id is not None:
        changes["imdb_id"] = imdb_id
    record = training_record(row, result, year) if year is not None else None
    return Outcome.advance(row, PipelineStatus.METADATA_COLLECTED, **changes), record


def reuse_outcome(row: MediaRow, stored: StoredTitle) -> Outcome:
    """Fresh stored metadata: the canonical identity comes from it (never its media_type)."""
    record = stored.record
    changes: dict[str, object] = {
        "media_title": record.media_title[:MEDIA_TITLE_MAX],
        "release_year": record.release_year,
        "imdb_id": record.imdb_id,
    }
    if record.tmdb_id is not None:
        changes["tmdb_id"] = record.tmdb_id
    return Outcome.advance(row, PipelineStatus.METADATA_COLLECTED, **changes)


# --- act --------------------------------------------------------------------------------------


def title_details(row: MediaRow, tmdb: "TmdbClient", tmdb_id: int) -> TitleMetadata:
    """TMDB's details of a movie, or of a show with its IMDb id (TV details lack it)."""
    if row.media_type.is_tv:
        details = tmdb.tv_details(tmdb_id)
        return replace(details, imdb_id=tmdb.tv_imdb_id(tmdb_id))
    return tmdb.movie_details(tmdb_id)


def details_by_ids(row: MediaRow, tmdb: "TmdbClient") -> TitleMetadata | None:
    """The details of the title the row's ids (a Torznab indexer's) name, without a title
    search: its tmdb_id, else TMDB's `/find` by imdb_id, else (TV) by tvdb_id. None when the
    row has no id, TMDB knows none of them, or the title found is not the row's (an id of the
    other kind: TMDB's movie and TV ids overlap) — then the title search decides."""
    tv = row.media_type.is_tv
    tmdb_id = row.tmdb_id
    try:
        if tmdb_id is None and row.imdb_id:
            tmdb_id = tmdb.find(row.imdb_id, "imdb_id", tv=tv)
        if tmdb_id is None and row.tvdb_id and tv:
            tmdb_id = tmdb.find(str(row.tvdb_id), "tvdb_id", tv=tv)
        if tmdb_id is None:
            return None
        details = title_details(row, tmdb, tmdb_id)
    except LastingServiceError as error:
        if error.status_code == 404:  # an id TMDB does not know
            return None
        raise
    title = row.media_title or row.original_title
    named = SearchHit(tmdb_id, details.media_title, details.original_media_title, None)
    return details if title_similarity(title, named) >= MIN_TITLE_SIMILARITY else None


def fetch_metadata(row: MediaRow, tmdb: "TmdbClient", omdb: "OmdbClient") -> FetchResult:
    """Details by the row's ids when it has them, else search and details; the IMDb id and
    ratings for one row. Service failures come back as values; a configuration error (401/403)
    is raised: it concerns every row."""
    title = row.media_title or row.original_title
    year = row.release_year
    search = tmdb.search_tv if row.media_type.is_tv else tmdb.search_movie
    try:
        details = details_by_ids(row, tmdb)
        if details is None:
            hits = search(title, year)
            if not hits and year is not None:  # the parsed year may be off: ask once without it
                hits = search(title, None)
            hit = best_hit(hits, title, year)
            if hit is None:
                return NO_MATCH
            details = title_details(row, tmdb, hit.tmdb_id)
        imdb_id = valid_imdb_id(details.imdb_id)
        if imdb_id:
            details = replace(details, **asdict(omdb.ratings(imdb_id)))
    except ServiceConfigurationError:
        raise
    except ServiceError as error:
        return error
    return details


def collect_one(
    row: MediaRow,
    stored: Sequence[StoredTitle],
    fetch: Callable[[MediaRow], FetchResult],
    breaker: CircuitBreaker,
    result: StepResult,
) -> tuple[Outcome, TrainingRecord | None]:
    """One row's outcome (and training row): stored metadata when fresh, else the services.
    A configuration error (401/403) is raised: it concerns every row."""
    reusable = match_stored(row, stored)
    if reusable is not None:
        result.count(REUSED)
        return reuse_outcome(row, reusable), None
    fetched = breaker.call(fetch, row)
    return outcome_for(row, fetched)


def remembering(fetch: Callable[[MediaRow], FetchResult]) -> Callable[[MediaRow], FetchResult]:
    """Within one run, rows of the same title (episodes of one show, several releases of one
    film) are looked up once; failures are not remembered."""
    answers: dict[tuple[object, ...], FetchResult] = {}

    def fetch_once(row: MediaRow) -> FetchResult:
        key: tuple[object, ...] = (
            row.media_type.is_tv,
            normalised(row.media_title),
            row.release_year,
        )
        if row.tmdb_id or row.imdb_id or row.tvdb_id:  # an indexer named the title: by its ids
            key = (*key, row.tmdb_id, row.imdb_id, row.tvdb_id)
        if key in answers:
            return answers[key]
        result = fetch(row)
        if not isinstance(result, ServiceError):
            answers[key] = result
        return result

    return fetch_once


# --- the op -----------------------------------------------------------------------------------

REUSED = "reused stored metadata"
WRITTEN = "training rows written"


def run_metadata_collection(
    context: dg.OpExecutionContext,
    postgres: PostgresResource,
    pipeline_settings: PipelineSettings,
    filter_settings: FilterSettings,
    tmdb: TmdbResource,
    omdb: OmdbResource,
) -> None:
    max_age_days = filter_settings.stale_after_days()
    breaker = CircuitBreaker("metadata services")
    result = StepResult(figures=Counter({REUSED: 0, WRITTEN: 0}))
    with closing(tmdb.client()) as tmdb_client, closing(omdb.client()) as omdb_client:
        fetch = remembering(lambda r: fetch_metadata(r, tmdb_client, omdb_client))
        with open_store(postgres) as media:
            training = TrainingStore(media.connection, media.schema)

            def handle(rows: list[MediaRow], result: StepResult) -> list[Outcome]:
                stored = training.fresh_metadata(rows, max_age_days)
                outcomes: list[Outcome] = []
                records: list[TrainingRecord] = []
                try:
                    for row in rows:
                        outcome, record = collect_one(row, stored, fetch, breaker, result)
                        outcomes.append(outcome)
                        records += [record] if record is not None else []
                except ServiceConfigurationError as error:
                    raise StopStep(error, outcomes) from error
                finally:
                    result.count(WRITTEN, training.upsert_metadata(records))
                return outcomes

            batch_size = pipeline_settings.rows_per_batch()
            run_batches(media, consumed_by("metadata_collection"), batch_size, handle, result)
    report_step(
        context,
        result,
        {
            "TMDB requests": dg.MetadataValue.int(tmdb_client.requests_sent),
            "OMDb requests": dg.MetadataValue.int(omdb_client.http.stats.requests),
        },
    )


metadata_collection_op = step_op(
    "metadata_collection",
    description="Step 05: TMDB identity and metadata, OMDb ratings, for accepted files.",
)(run_metadata_collection)
