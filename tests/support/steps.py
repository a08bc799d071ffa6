"""Generic helpers of the step tests (04-06) and their benchmark: atp.media rows in a given state,
the resources a step needs (pointed at a test database and fake services), running a step, and
reading what it reported."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import psycopg2.extensions
from psycopg2.extras import execute_values

from automatic_transmission.model import MediaRow, MediaType, PipelineStatus, RejectionStatus
from tests.support.tmdb import TMDB_KEY

MEDIA_COLUMNS = (
    "hash", "media_type", "pipeline_status", "rejection_status", "original_title", "media_title",
    "release_year", "season", "episode", "resolution", "video_codec", "upload_type", "imdb_id",
    "tmdb_id", "tvdb_id", "seeders", "size_bytes",
)  # fmt: skip


def media_row(
    status: PipelineStatus, media_type: MediaType = MediaType.MOVIE, **columns: Any
) -> MediaRow:
    """A media row as a step reads it (for decide functions' table tests): unfiltered, with a
    fixed hash and an original title unless `columns` say otherwise."""
    values: dict[str, Any] = {
        "hash": "c" * 40,
        "rejection_status": RejectionStatus.UNFILTERED,
        "original_title": "Some.Movie.2020.1080p",
        **columns,
    }
    return MediaRow(media_type=media_type, pipeline_status=status, **values)


def media_hash(name: str) -> str:
    return hashlib.sha1(name.encode()).hexdigest()


def insert_media(
    connection: psycopg2.extensions.connection, rows: Sequence[Mapping[str, Any]]
) -> list[str]:
    """Insert atp.media rows (plain SQL, one statement); missing columns get test defaults.
    `original_title` defaults to the media title; `hash` to its sha1. Returns the hashes."""
    values = []
    for row in rows:
        full = {
            "media_type": "movie",
            "pipeline_status": "parsed",
            "rejection_status": "unfiltered",
            "resolution": "1080p",
            **row,
        }
        full.setdefault("original_title", f"{full.get('media_title')} {full.get('release_year')}")
        full.setdefault("hash", media_hash(str(full["original_title"])))
        values.append(tuple(full.get(c) for c in MEDIA_COLUMNS))
    with connection.cursor() as cursor:
        execute_values(
            cursor,
            f"INSERT INTO atp.media ({', '.join(MEDIA_COLUMNS)}) VALUES %s",
            values,
            page_size=max(len(values), 1),
        )
    connection.commit()
    return [str(v[0]) for v in values]


def rows_by_key(
    connection: psycopg2.extensions.connection, query: str
) -> dict[Any, dict[str, Any]]:
    """The rows of `query` as dicts by column name, keyed by their first column."""
    with connection.cursor() as cursor:
        cursor.execute(query)
        names = [d[0] for d in cursor.description or ()]
        found = {r[0]: dict(zip(names, r, strict=True)) for r in cursor.fetchall()}
    connection.commit()
    return found


def media_rows(connection: psycopg2.extensions.connection) -> dict[str, dict[str, Any]]:
    """Every atp.media row by hash, enum columns as text."""
    return rows_by_key(
        connection,
        "SELECT hash, media_type::text, pipeline_status::text, rejection_status::text,"
        " rejection_reason, error_status, error_condition, media_title, release_year,"
        " imdb_id, tmdb_id FROM atp.media",
    )


def step_resources(
    postgres: Any,
    *,
    tmdb_url: str = "http://127.0.0.1:9/3",
    omdb_url: str = "http://127.0.0.1:9/",
    tmdb_key: str = TMDB_KEY,
    omdb_key: str = "omdbkey1",
    reel_driver: tuple[str, int] | None = None,
    threshold: float = 0.35,
    batch_size: int = 50,
    stale_days: float = 30,
    rules_dir: str | None = None,
    timeout_s: float = 5.0,
    feeds: Any = None,
    torznab: Any = None,
    download: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The resources steps 04-06 need, pointed at a test database and fake services (plus
    `feeds`, a FeedsResource, and `torznab`, a TorznabResource (none by default), for jobs that
    start at step 01, `download`, the resources of
    steps 02 and 07-10 from `tests.support.transmission.download_resources`, and the optional
    `notifier` and `plex`, configured by the environment unless `download` names them); retries
    do not pause at all (back-off 0: a resource is Dagster configuration and takes no `sleep`; the
    clients' tests check the pauses with a recording `Sleeps`)."""
    from automatic_transmission.clients.omdb import OmdbResource
    from automatic_transmission.clients.reel_driver import ReelDriverResource
    from automatic_transmission.clients.tmdb import TmdbResource
    from automatic_transmission.clients.torznab import TorznabResource
    from automatic_transmission.filters import FilterSettings
    from automatic_transmission.pipeline.resources import optional_resources
    from automatic_transmission.settings import PipelineSettings

    host, port = reel_driver if reel_driver else ("", None)
    step01 = {"feeds": feeds, "torznab": torznab or TorznabResource()} if feeds is not None else {}
    return {
        **optional_resources(),  # AT_NOTIFY_URLS and PLEX_URL of the test's environment: unset
        **step01,
        **(download or {}),
        "postgres": postgres,
        "pipeline_settings": PipelineSettings(batch_size=batch_size),
        "filter_settings": FilterSettings(stale_metadata_days=stale_days, rules_dir=rules_dir),
        "tmdb": TmdbResource(
            api_key=tmdb_key,
            base_url=tmdb_url,
            backoff_s=0,
            rate_limit_per_s=0,
            timeout_s=timeout_s,
        ),
        "omdb": OmdbResource(api_key=omdb_key, base_url=omdb_url, backoff_s=0, timeout_s=timeout_s),
        "reel_driver": ReelDriverResource(
            host=host, port=port, prefix="reel-driver", threshold=threshold, backoff_s=0
        ),
    }


def run_step(job: str, postgres: Any, **resources: Any) -> Any:
    """Run one pipeline job in process with `step_resources(postgres, **resources)`; failures are
    returned, not raised."""
    from automatic_transmission.pipeline.jobs import pipeline_jobs

    return pipeline_jobs()[job].execute_in_process(
        resources=step_resources(postgres, **resources), raise_on_error=False
    )


def plain(value: Any) -> Any:
    """A metadata value as plain data: a table as a list of dicts (one per row)."""
    import dagster as dg

    if isinstance(value, dg.TableMetadataValue):
        return [dict(record.data) for record in value.records]
    return value.value


def metadata_by_step(result: Any) -> dict[str, dict[str, Any]]:
    """The run metadata each step of a run attached to its output, by step (op) name."""
    return {
        event.step_key: {k: plain(v) for k, v in event.event_specific_data.metadata.items()}
        for event in result.all_events
        if event.event_type_value == "STEP_OUTPUT"
    }


def step_metadata(result: Any) -> dict[str, Any]:
    """The run metadata a step attached to its output (counts, table, requests...)."""
    return next(iter(metadata_by_step(result).values()), {})


def outcome_counts(metadata: Mapping[str, Any]) -> dict[str, int]:
    """The counts per outcome of one step's run metadata."""
    return {k: metadata[k] for k in ("advanced", "rejected", "errored", "retried later")}


def step_counts(result: Any) -> dict[str, int]:
    return outcome_counts(step_metadata(result))


def age_training(
    connection: psycopg2.extensions.connection, imdb_ids: Sequence[str], days: float
) -> None:
    """Make training rows `days` old (the update trigger would stamp now(): it is paused)."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE atp.training DISABLE TRIGGER training_10_stamp_updated_at")
        cursor.execute(
            "UPDATE atp.training SET updated_at = now() - make_interval(days => %s)"
            " WHERE imdb_id = ANY(%s)",
            (int(days), list(imdb_ids)),
        )
        cursor.execute("ALTER TABLE atp.training ENABLE TRIGGER training_10_stamp_updated_at")
    connection.commit()


def step_failure(result: Any) -> str:
    """The messages of the step's failure and its causes ('' when it did not fail)."""
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            data = event.event_specific_data
            parts = [getattr(data.user_failure_data, "description", None) or ""]
            error = data.error
            while error is not None:
                parts.append(error.message)
                error = error.cause
            return " | ".join(parts)
    return ""


def record_selects(monkeypatch: Any) -> list[tuple[int | None, int]]:
    """From now on, every `MediaStore.select` of this test appends (its limit, the rows it
    returned) to the returned list (steps run in process, so their selects are seen)."""
    from automatic_transmission.store import MediaStore

    selects: list[tuple[int | None, int]] = []
    original = MediaStore.select

    def select(self: MediaStore, *args: Any, **kwargs: Any) -> Any:
        rows = original(self, *args, **kwargs)
        selects.append((kwargs.get("limit", args[1] if len(args) > 1 else None), len(rows)))
        return rows

    monkeypatch.setattr(MediaStore, "select", select)
    return selects


def run_in_batches_of_two(
    run: Callable[..., Any],
    connection: psycopg2.extensions.connection,
    hashes: Sequence[str],
    status: str,
    monkeypatch: Any,
) -> Any:
    """Run a step with AT_BATCH_SIZE 2 over five rows (`hashes`): it succeeds, every row reaches
    `status`, and rows are selected 2, 2, 1 (read, decide, record per batch; a short one ends)."""
    assert len(hashes) == 5
    selects = record_selects(monkeypatch)
    result = run(batch_size=2)
    assert result.success
    rows = media_rows(connection)
    assert {rows[h]["pipeline_status"] for h in hashes} == {status}
    assert selects == [(2, 2), (2, 2), (2, 1)]
    return result
