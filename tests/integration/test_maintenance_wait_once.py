"""The maintenance wait happens once per run (issue 19) when the run goes the real way: launched
through the local stack's webserver, queued, started by the code server's run worker in a process
of its own, its failure seen by the run failure sensor.

A pipeline step holds the maintenance lock shared on its own connection all along, so the schema
job's wait (2 s here, 600 s by default) runs out: the log says "taking the maintenance lock" once
and the run fails after one wait, not two.
"""

from __future__ import annotations

import time

import dagster as dg
import psycopg2
import pytest

from dagstributor_shared.maintenance import maintenance_shared
from dagstributor_shared.postgres import start_embedded
from tests.integration.conftest import LocalStack
from tests.support.dagster_runs import launch_run, wait_for_run

pytestmark = pytest.mark.integration

JOB = "wst_atp_bak_drop_reload_job"
WAIT_SECONDS = 2.0
RUN_TIMEOUT = 120.0
WAITING = "taking the maintenance lock"


def test_a_schema_job_blocked_by_a_step_waits_once_and_fails_under_the_real_launch_path(
    local_stack: LocalStack,
) -> None:
    step = psycopg2.connect(
        host=start_embedded(local_stack.pgdata), user="postgres", dbname="postgres"
    )
    run_config = {"resources": {"maintenance": {"config": {"wait_seconds": WAIT_SECONDS}}}}
    try:
        with maintenance_shared(step):
            started = time.monotonic()
            run_id = launch_run(local_stack.url, "wiring_schema_tics", JOB, run_config)
            status = wait_for_run(local_stack.url, run_id, RUN_TIMEOUT)
            elapsed = time.monotonic() - started
            time.sleep(2.0)  # anything the run worker or a sensor would still do after the failure
    finally:
        step.close()
    with dg.DagsterInstance.from_config(str(local_stack.local / "dagster_home")) as instance:
        records = instance.all_logs(run_id)
        run = instance.get_run_by_id(run_id)
    waits = [r for r in records if WAITING in (r.user_message or "")]
    inits = [
        r for r in records if r.dagster_event_type == dg.DagsterEventType.RESOURCE_INIT_STARTED
    ]
    assert run is not None
    took = records[-1].timestamp - records[0].timestamp
    print(f"run {run_id}: {status}, {took:.1f} s from first to last event ({elapsed:.1f} s from "
          f"launch), {len(waits)} wait(s), {len(inits)} resource init(s)")  # fmt: skip
    assert status == "FAILURE"
    assert len(waits) == 1, [r.user_message for r in records]
    assert len(inits) == 1
    assert any(
        "could not take the exclusive maintenance lock within 2 s" in (r.user_message or "")
        or "could not take the exclusive maintenance lock within 2 s"
        in str(getattr(r.dagster_event and r.dagster_event.event_specific_data, "error", ""))
        for r in records
    )
