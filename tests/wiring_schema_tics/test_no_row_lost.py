"""No committed row is ever lost to the schema jobs, whoever writes, and steps stay out of them."""

from __future__ import annotations

import threading
import time

import dagster as dg
import psycopg2.extensions
import pytest

from dagstributor_shared.maintenance import maintenance_shared
from tests.support.atp import fill_atp
from tests.support.database import PgTestServer
from tests.support.writers import RowWriter
from tests.wiring_schema_tics.conftest import JOBS, RunJob
from tests.wiring_schema_tics.support import (
    atp_exists,
    execute,
    query,
    snapshot,
    step_metadata,
)
from wiring_schema_tics.jobs import RESOURCE_KEY
from wiring_schema_tics.maintenance import SchemaMaintenanceResource

Connection = psycopg2.extensions.connection
JOB = "wst_atp_bak_drop_reload_job"


def _media_hashes(connection: Connection) -> set[str]:
    return {row[0] for row in query(connection, "SELECT hash FROM atp.media")}


@pytest.mark.parametrize("uses_lock", [True, False], ids=["pipeline-step", "psql-session"])
def test_a_writer_committing_every_50_ms_loses_no_row_to_bak_drop_reload(
    uses_lock: bool,
    run_job: RunJob,
    pg_server: PgTestServer,
    atp_database: str,
    atp_connection: Connection,
) -> None:
    fill_atp(atp_connection, 20_000, 2_000)
    existing = _media_hashes(atp_connection)
    writer = RowWriter(pg_server, atp_database, use_maintenance_lock=uses_lock).start()
    try:
        time.sleep(0.3)
        started = time.monotonic()
        result = run_job(JOB)
        ended = time.monotonic()
        time.sleep(0.3)
    finally:
        writer.stop()
    assert result.success
    present = _media_hashes(atp_connection)
    lost = (existing | set(writer.committed)) - present
    assert lost == set(), f"{len(lost)} committed rows lost"
    assert writer.errors == []
    if uses_lock:
        assert writer.skipped > 0  # it met the maintenance and stepped aside
    else:
        assert writer.committed_during(started, ended) > 0  # it really wrote during the job
    assert len(present) == len(existing) + len(writer.committed)


@pytest.mark.parametrize(
    "change",
    [
        "INSERT INTO atp.media (hash, media_type, original_title) "
        "VALUES (repeat('e', 40), 'movie', 'Epsilon')",
        "UPDATE atp.media SET media_title = 'changed' WHERE hash = repeat('a', 40)",
        "DELETE FROM atp.prediction WHERE imdb_id = 'tt0000001'",
    ],
    ids=["insert", "update", "delete"],
)
def test_the_drop_backs_up_again_whatever_changed_since_the_backup(
    change: str, run_job: RunJob, seeded: Connection
) -> None:
    assert run_job("wst_atp_bak_job").success
    execute(seeded, change)
    before = snapshot(seeded)
    result = run_job("wst_atp_drop_job")
    assert result.success
    again = step_metadata(result, "drop_atp")["backed_up_again"]
    assert len(again) == 1
    assert again[0]["table"] in change
    assert run_job("wst_atp_instantiate_job").success
    assert run_job("wst_atp_reload_job").success
    assert snapshot(seeded) == before


def test_a_drop_right_after_the_backup_backs_up_nothing_again(
    run_job: RunJob, seeded: Connection
) -> None:
    assert run_job("wst_atp_bak_job").success
    result = run_job("wst_atp_drop_job")
    assert result.success
    assert step_metadata(result, "drop_atp")["backed_up_again"] == []


def _run_with_wait(
    pg_server: PgTestServer, database: str, wait_seconds: float
) -> dg.ExecuteInProcessResult:
    postgres = pg_server.resource(database)
    maintenance = SchemaMaintenanceResource(postgres=postgres, wait_seconds=wait_seconds)
    return JOBS[JOB].execute_in_process(
        resources={RESOURCE_KEY: postgres, "maintenance": maintenance}, raise_on_error=False
    )


def test_a_schema_job_does_not_start_while_a_step_holds_the_lock_past_its_wait(
    pg_server: PgTestServer, atp_database: str, seeded: Connection
) -> None:
    before = snapshot(seeded)
    with pg_server.connection(atp_database) as step, maintenance_shared(step):
        result = _run_with_wait(pg_server, atp_database, wait_seconds=0.5)
    assert not result.success
    messages = " ".join(
        str(event.message) + str(getattr(event.event_specific_data, "error", ""))
        for event in result.all_events
    )
    assert "could not take the exclusive maintenance lock within 0.5 s" in messages
    assert "shared by backend" in messages
    assert atp_exists(seeded)
    assert snapshot(seeded) == before


def test_a_schema_job_waits_for_a_running_step_then_runs(
    pg_server: PgTestServer, atp_database: str, seeded: Connection
) -> None:
    before = snapshot(seeded)
    released_at: list[float] = []
    step = pg_server.connect(atp_database)
    holding = maintenance_shared(step)
    holding.__enter__()

    def finish_step() -> None:
        time.sleep(1.0)
        released_at.append(time.time())
        holding.__exit__(None, None, None)

    finisher = threading.Thread(target=finish_step)
    finisher.start()
    try:
        result = _run_with_wait(pg_server, atp_database, wait_seconds=30)
    finally:
        finisher.join()
        step.close()
    assert result.success
    backup_made = query(
        seeded,
        "SELECT extract(epoch FROM created_at) FROM bak.newest_backup('atp', 'media')",
    )[0][0]
    assert float(backup_made) >= released_at[0]  # nothing ran before the step let go
    assert snapshot(seeded) == before
