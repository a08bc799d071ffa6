"""Every pipeline step holds the database's maintenance lock shared for its whole run: a step
started during a schema job waits AT_MAINTENANCE_WAIT seconds and then skips (green, no row
changed, the holder named), a schema job waits for a running step to finish, and a step whose
wait outlasts the schema job does its work."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import dagster as dg
import psycopg2.extensions
import pytest

from automatic_transmission.model import MediaRow, Outcome
from automatic_transmission.pipeline.jobs import STEPS, full_pipeline_job, pipeline_jobs
from automatic_transmission.pipeline.steps import parse
from dagstributor_shared.maintenance import maintenance_exclusive
from dagstributor_shared.postgres import PostgresResource
from tests.automatic_transmission.conftest import SHORT_MAINTENANCE_WAIT
from tests.support.database import PgTestServer
from tests.support.steps import (
    insert_media,
    media_rows,
    metadata_by_step,
    run_step,
    step_metadata,
    step_resources,
)

Connection = psycopg2.extensions.connection
PARSE_JOB = "at_03_parse"
TITLES = [f"Some Movie {n} 20{10 + n} 1080p WEB-DL x264-GRP" for n in range(6)]


@pytest.fixture
def ingested(atp_connection: Connection) -> Connection:
    """Six `ingested` rows step 03 parses (so a run that works changes every one of them)."""
    insert_media(
        atp_connection, [{"original_title": t, "pipeline_status": "ingested"} for t in TITLES]
    )
    return atp_connection


SchemaJob = Callable[[Callable[[Connection], None]], threading.Thread]


@pytest.fixture
def schema_job_thread(pg_server: PgTestServer, atp_database: str) -> SchemaJob:
    """`schema_job_thread(while_held)`: a schema job in a thread (not started yet) that takes the
    maintenance lock exclusively (waiting up to 30 s), runs `while_held` on its session, and
    lets go."""

    def make(while_held: Callable[[Connection], None]) -> threading.Thread:
        def job() -> None:
            with (
                pg_server.connection(atp_database) as session,
                maintenance_exclusive(session, wait_seconds=30),
            ):
                while_held(session)

        return threading.Thread(target=job)

    return make


def statuses(connection: Connection) -> dict[str, str]:
    return {h: row["pipeline_status"] for h, row in media_rows(connection).items()}


def test_a_step_during_maintenance_skips_green_naming_the_holder_and_changes_no_row(
    postgres: PostgresResource, ingested: Connection, schema_job: Connection
) -> None:
    before = media_rows(ingested)

    started = time.monotonic()
    with dg.DagsterInstance.ephemeral() as instance:
        result = pipeline_jobs()[PARSE_JOB].execute_in_process(
            resources=step_resources(postgres), instance=instance
        )
        warnings = [
            entry.user_message
            for entry in instance.all_logs(result.run_id)
            if entry.level == logging.WARNING
        ]

    assert result.success
    assert time.monotonic() - started >= SHORT_MAINTENANCE_WAIT  # it waited before it gave up
    skipped = step_metadata(result)["skipped"]
    assert "database maintenance (a schema job) is in progress" in skipped
    assert f"exclusive by backend {schema_job.info.backend_pid}" in skipped
    assert [w for w in warnings if w.startswith("skipped: ") and skipped in w]
    assert media_rows(ingested) == before


def test_in_the_full_pipeline_every_step_after_a_skipped_one_skips_too(
    postgres: PostgresResource, ingested: Connection, schema_job: Connection
) -> None:
    before = media_rows(ingested)
    job = full_pipeline_job(STEPS[2:6])  # steps 03-06: the resources of step_resources
    result = job.execute_in_process(resources=step_resources(postgres), raise_on_error=False)

    assert result.success
    by_step = metadata_by_step(result)
    assert set(by_step) == {
        "watchlist_sync", "parse", "file_filtration", "metadata_collection", "media_filtration",
    }  # fmt: skip
    assert all("exclusive by backend" in m["skipped"] for m in by_step.values())
    assert media_rows(ingested) == before


def test_a_schema_job_waits_for_a_running_step_which_finishes_uninterrupted(
    monkeypatch: pytest.MonkeyPatch,
    schema_job_thread: SchemaJob,
    postgres: PostgresResource,
    ingested: Connection,
) -> None:
    seen_by_job: list[dict[str, str]] = []
    job_waited: list[bool] = []
    acquired = threading.Event()

    def look_at_the_rows(job: Connection) -> None:
        acquired.set()
        seen_by_job.append(statuses(job))

    job_thread = schema_job_thread(look_at_the_rows)
    decide = parse.decide_parse

    def decide_while_the_schema_job_starts(row: MediaRow) -> Outcome:
        if not job_thread.is_alive() and not job_waited:  # the first row of the first batch
            job_thread.start()
            job_waited.append(not acquired.wait(0.7))
        return decide(row)

    monkeypatch.setattr(parse, "decide_parse", decide_while_the_schema_job_starts)
    try:
        result = run_step(PARSE_JOB, postgres, batch_size=2)  # three batches, three commits
    finally:
        job_thread.join(timeout=30)

    assert result.success and "skipped" not in step_metadata(result)
    assert job_waited == [True]  # the schema job did not get the lock while the step ran
    # When it got it, the step had committed its last batch: nothing was left half-way.
    assert seen_by_job == [dict.fromkeys(seen_by_job[0], "parsed")]
    assert len(seen_by_job[0]) == len(TITLES)


def test_a_step_whose_wait_outlasts_the_schema_job_then_does_its_work(
    monkeypatch: pytest.MonkeyPatch,
    schema_job_thread: SchemaJob,
    postgres: PostgresResource,
    ingested: Connection,
) -> None:
    monkeypatch.setenv("AT_MAINTENANCE_WAIT", "30")
    holding = threading.Event()
    released_at: list[float] = []

    def maintain_briefly(_: Connection) -> None:
        holding.set()
        time.sleep(0.7)
        released_at.append(time.monotonic())

    job_thread = schema_job_thread(maintain_briefly)
    job_thread.start()
    assert holding.wait(10)
    try:
        result = run_step(PARSE_JOB, postgres)
        finished = time.monotonic()
    finally:
        job_thread.join(timeout=30)

    assert result.success
    metadata = step_metadata(result)
    assert "skipped" not in metadata and metadata["advanced"] == len(TITLES)
    assert released_at and finished >= released_at[0]
    assert set(statuses(ingested).values()) == {"parsed"}


@pytest.mark.parametrize("value", ["-1", "soon"])
def test_a_bad_maintenance_wait_fails_the_step_naming_the_variable_and_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, postgres: PostgresResource, ingested: Connection, value: str
) -> None:
    monkeypatch.setenv("AT_MAINTENANCE_WAIT", value)
    before = media_rows(ingested)

    result = run_step(PARSE_JOB, postgres)

    assert not result.success
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE)
    assert "AT_MAINTENANCE_WAIT" in str(failure.event_specific_data)
    assert media_rows(ingested) == before
