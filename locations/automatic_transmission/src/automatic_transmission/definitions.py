"""The automatic_transmission code location: `defs`, and nothing else."""

from __future__ import annotations

import dagster as dg

from automatic_transmission.filters import validate_rule_files
from automatic_transmission.health.asset import (
    HEALTH_CHECKS,
    HEALTH_SCHEDULE_KEY,
    health_job,
    health_resources,
    media_pipeline,
)
from automatic_transmission.library.naming import validate_naming
from automatic_transmission.operator.jobs import operator_jobs
from automatic_transmission.pipeline.jobs import SCHEDULE_KEYS, SCHEDULE_PREFIX, pipeline_jobs
from automatic_transmission.pipeline.resources import pipeline_resources
from automatic_transmission.quality import load_quality
from dagstributor_shared.environment import Environment, current_environment
from dagstributor_shared.notify import run_failure_sensor
from dagstributor_shared.schedules import build_schedules


def build_definitions(environment: Environment) -> dg.Definitions:
    validate_rule_files()  # a malformed filter rule is a load error naming the file and rule
    validate_naming()  # likewise a naming template that is unusable or leaves the library
    load_quality()  # and a quality ladder with an unknown key or quality
    jobs = pipeline_jobs()
    scheduled: dict[str, dg.JobDefinition | dg.UnresolvedAssetJobDefinition] = {
        key: job for key, job in jobs.items() if key in SCHEDULE_KEYS
    }
    scheduled[HEALTH_SCHEDULE_KEY] = health_job
    schedules = build_schedules(
        scheduled,
        SCHEDULE_PREFIX,
        environment,
        known_keys=SCHEDULE_KEYS | {HEALTH_SCHEDULE_KEY},
    )
    return dg.Definitions(
        assets=[media_pipeline],
        asset_checks=list(HEALTH_CHECKS),
        jobs=[*jobs.values(), health_job, *operator_jobs()],
        schedules=schedules,
        sensors=[run_failure_sensor("automatic_transmission")],
        resources={**pipeline_resources(), **health_resources()},
    )


defs = build_definitions(current_environment())
