"""The wiring_schema_tics code location: six schema jobs, the backup schedule, one resource."""

from __future__ import annotations

import dagster as dg

from dagstributor_shared.environment import Environment, current_environment
from dagstributor_shared.notify import run_failure_sensor
from dagstributor_shared.postgres import PostgresResource
from dagstributor_shared.schedules import build_schedules
from wiring_schema_tics.jobs import SCHEDULE_KEY, build_jobs, build_resources

SCHEDULED_JOB = "wst_atp_bak_job"
NOTIFY_URLS_VAR = "WST_NOTIFY_URLS"  # Apprise URLs of the failed runs of this location (secret)


def build_definitions(environment: Environment) -> dg.Definitions:
    """Definitions for one environment (the schedule file differs); tests build all three."""
    jobs = build_jobs()
    schedules = build_schedules(
        {SCHEDULE_KEY: jobs[SCHEDULED_JOB]}, prefix="wst_", environment=environment
    )
    return dg.Definitions(
        jobs=list(jobs.values()),
        schedules=schedules,
        sensors=[run_failure_sensor("wiring_schema_tics", NOTIFY_URLS_VAR)],
        resources=build_resources(PostgresResource(env_prefix="WST_PGSQL")),
    )


defs = build_definitions(current_environment())
