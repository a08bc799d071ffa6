"""No waiting for crons: sensors that start the next steps as soon as they have work.

- `at_download_sensor` asks Transmission (one `torrent-get`) every `minimum_interval_seconds`
  and starts steps 08 -> 09 in one run when a torrent finished since its last look.
- `at_chain_sensor` watches successful runs: a step 01 run that inserted rows starts 03 -> 06;
  a run whose step 06 accepted rows starts 07.

Each can be switched off in the schedule YAML (`at_download_sensor: {default_status: STOPPED}`
or `enabled: false`); the schedules stay the safety net, and the only driver without sensors.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import dagster as dg

from automatic_transmission.clients.transmission import (
    DOWNLOAD_CHECK_FIELDS,
    TransmissionResource,
    TransmissionUnavailable,
)
from automatic_transmission.pipeline.jobs import (
    DOWNLOADED_TO_LIBRARY_JOB_NAME,
    PARSE_TO_ACCEPT_JOB_NAME,
    STEPS,
)
from automatic_transmission.pipeline.steps.download_check import is_complete
from dagstributor_shared.environment import Environment
from dagstributor_shared.schedules import SensorEntry, load_sensor_specs, schedule_file

DOWNLOAD_SENSOR_KEY = "at_download_sensor"
CHAIN_SENSOR_KEY = "at_chain_sensor"
SENSOR_KEYS = frozenset({DOWNLOAD_SENSOR_KEY, CHAIN_SENSOR_KEY})
STEP_JOB = {step.number: step.job_name for step in STEPS}

# (step op, figure of its run metadata) > 0 -> the job to start next.
CHAIN_RULES: tuple[tuple[str, str, str], ...] = (
    ("rss_ingest", "inserted", PARSE_TO_ACCEPT_JOB_NAME),
    ("media_filtration", "advanced", STEP_JOB[7]),
)
# The runs whose success the chain sensor looks at: step 01, step 06 and the 03-06 chain.
CHAIN_WATCHED = (STEP_JOB[1], STEP_JOB[6], PARSE_TO_ACCEPT_JOB_NAME)


def next_jobs(figures: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The jobs a finished run calls for, from its steps' figures (by op name)."""
    return [
        job
        for op, figure, job in CHAIN_RULES
        if isinstance(figures.get(op, {}).get(figure), int) and figures[op][figure] > 0
    ]


def newly_done(done: list[str], cursor: str | None) -> tuple[list[str], str]:
    """The finished torrents not seen finished at the last look, and the new cursor."""
    seen = set(json.loads(cursor)) if cursor else set()
    return [h for h in done if h not in seen], json.dumps(sorted(done))


def run_figures(instance: dg.DagsterInstance, run_id: str) -> dict[str, dict[str, Any]]:
    """The int figures each step of a run attached to its output, by op name."""
    figures: dict[str, dict[str, Any]] = {}
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_OUTPUT):
        event = record.dagster_event
        if event is None or event.step_key is None:
            continue
        data = event.event_specific_data
        metadata = getattr(data, "metadata", {}) or {}
        figures[event.step_key] = {
            key: value.value
            for key, value in metadata.items()
            if isinstance(value, dg.IntMetadataValue)
        }
    return figures


def download_sensor(entry: SensorEntry, job: dg.JobDefinition) -> dg.SensorDefinition:
    @dg.sensor(
        name=DOWNLOAD_SENSOR_KEY,
        job=job,
        minimum_interval_seconds=entry.minimum_interval_seconds,
        default_status=entry.default_status,
        description="Starts steps 08-09 as soon as a torrent in Transmission has finished.",
    )
    def watch_downloads(
        context: dg.SensorEvaluationContext, transmission: TransmissionResource
    ) -> dg.SensorResult | dg.SkipReason:
        try:
            torrents = transmission.client().torrents(DOWNLOAD_CHECK_FIELDS)
        except TransmissionUnavailable as error:
            return dg.SkipReason(f"Transmission not asked: {error}")
        done = sorted(t.hash for t in torrents if is_complete(t))
        new, cursor = newly_done(done, context.cursor)
        if not new:
            context.update_cursor(cursor)
            return dg.SkipReason("no torrent finished since the last look")
        key = hashlib.sha1("".join(new).encode()).hexdigest()
        return dg.SensorResult(run_requests=[dg.RunRequest(run_key=key)], cursor=cursor)

    return watch_downloads


def chain_sensor(entry: SensorEntry, jobs: Mapping[str, dg.JobDefinition]) -> dg.SensorDefinition:
    @dg.run_status_sensor(
        name=CHAIN_SENSOR_KEY,
        run_status=dg.DagsterRunStatus.SUCCESS,
        monitored_jobs=[jobs[name] for name in CHAIN_WATCHED],
        request_jobs=[jobs[PARSE_TO_ACCEPT_JOB_NAME], jobs[STEP_JOB[7]]],
        minimum_interval_seconds=entry.minimum_interval_seconds,
        default_status=entry.default_status,
        description="After step 01 inserted rows: steps 03-06; after step 06 accepted rows: 07.",
    )
    def chain_steps(context: dg.RunStatusSensorContext) -> list[dg.RunRequest] | dg.SkipReason:
        run_id = context.dagster_run.run_id
        wanted = next_jobs(run_figures(context.instance, run_id))
        if not wanted:
            return dg.SkipReason(f"run {run_id[:8]} left nothing new for the next steps")
        return [dg.RunRequest(run_key=f"{run_id}:{job}", job_name=job) for job in wanted]

    return chain_steps


def build_sensors(
    jobs: Mapping[str, dg.JobDefinition], environment: Environment
) -> list[dg.SensorDefinition]:
    """The sensors the environment's schedule file leaves enabled (all, by default); `jobs`
    holds at least the step and chain jobs (any keys: they are found by name)."""
    jobs = {job.name: job for job in jobs.values()}
    specs = load_sensor_specs(schedule_file(environment), SENSOR_KEYS, "at_")
    sensors = []
    if specs[DOWNLOAD_SENSOR_KEY].enabled:
        sensors.append(
            download_sensor(specs[DOWNLOAD_SENSOR_KEY], jobs[DOWNLOADED_TO_LIBRARY_JOB_NAME])
        )
    if specs[CHAIN_SENSOR_KEY].enabled:
        sensors.append(chain_sensor(specs[CHAIN_SENSOR_KEY], jobs))
    return sensors
