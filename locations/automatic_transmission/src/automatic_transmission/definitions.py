"""The automatic_transmission code location: `defs`, and nothing else."""

from __future__ import annotations

import dagster as dg

from automatic_transmission.filters import validate_rule_files
from automatic_transmission.health.asset import (
    HEALTH_CHECKS,
    HEALTH_SCHEDULE_KEY,
    build_health_job,
    health_resources,
    media_pipeline,
)
from automatic_transmission.library.naming import validate_naming
from automatic_transmission.operator.jobs import operator_jobs
from automatic_transmission.pipeline.jobs import (
    FULL_PIPELINE_JOB_NAME,
    FULL_PIPELINE_SCHEDULE_KEY,
    SCHEDULE_KEYS,
    SCHEDULE_PREFIX,
    chain_jobs,
    pipeline_jobs,
)
from automatic_transmission.pipeline.resources import pipeline_resources
from automatic_transmission.pipeline.sensors import build_sensors
from automatic_transmission.quality import load_quality
from automatic_transmission.safety import load_safety_rules
from automatic_transmission.seeding import load_seeding_rules
from automatic_transmission.settings import NOTIFY_URLS_VAR
from dagstributor_shared.environment import Environment, current_environment
from dagstributor_shared.notify import run_failure_sensor
from dagstributor_shared.schedules import build_schedules


def build_definitions(environment: Environment) -> dg.Definitions:
    validate_rule_files()  # a malformed filter rule is a load error naming the file and rule
    validate_naming()  # likewise a naming template that is unusable or leaves the library
    load_safety_rules()  # and safety.yaml (step 07's fake-release rules)
    load_seeding_rules()  # and seeding.yaml (steps 07 and 10)
    load_quality()  # and a quality ladder with an unknown key or quality
    jobs = pipeline_jobs()
    health_job = build_health_job()
    scheduled: dict[str, dg.JobDefinition | dg.UnresolvedAssetJobDefinition] = {
        key: job for key, job in jobs.items() if key in SCHEDULE_KEYS
    }
    scheduled[HEALTH_SCHEDULE_KEY] = health_job
    if FULL_PIPELINE_JOB_NAME in jobs:
        scheduled[FULL_PIPELINE_SCHEDULE_KEY] = jobs[FULL_PIPELINE_JOB_NAME]
    schedules = build_schedules(
        scheduled,
        SCHEDULE_PREFIX,
        environment,
        known_keys=SCHEDULE_KEYS | {HEALTH_SCHEDULE_KEY, FULL_PIPELINE_SCHEDULE_KEY},
    )
    chains = chain_jobs()
    sensors = build_sensors({**jobs, **chains}, environment)
    return dg.Definitions(
        assets=[media_pipeline],
        asset_checks=list(HEALTH_CHECKS),
        jobs=[*jobs.values(), *chains.values(), health_job, *operator_jobs()],
        schedules=schedules,
        sensors=[run_failure_sensor("automatic_transmission", NOTIFY_URLS_VAR), *sensors],
        resources={**pipeline_resources(), **health_resources()},
    )


defs = build_definitions(current_environment())
