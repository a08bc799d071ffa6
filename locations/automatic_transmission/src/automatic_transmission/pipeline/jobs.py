"""The steps of pipeline/step_table.py with their ops -> one job per step and the full pipeline job."""

from __future__ import annotations

from dataclasses import replace

import dagster as dg

from automatic_transmission.pipeline.run_tags import pipeline_tags, step_tags
from automatic_transmission.pipeline.step_table import (
    FULL_PIPELINE_SCHEDULE_KEY,
    SCHEDULE_KEYS,
    SCHEDULE_PREFIX,
    STEP_TABLE,
    WATCHLIST_SYNC_KEY,
    Step,
)
from automatic_transmission.pipeline.steps.cleanup import cleanup_op
from automatic_transmission.pipeline.steps.collect import collect_op
from automatic_transmission.pipeline.steps.download_check import download_check_op
from automatic_transmission.pipeline.steps.file_filtration import file_filtration_op
from automatic_transmission.pipeline.steps.initiation import initiation_op
from automatic_transmission.pipeline.steps.media_filtration import media_filtration_op
from automatic_transmission.pipeline.steps.metadata_collection import metadata_collection_op
from automatic_transmission.pipeline.steps.parse import parse_op
from automatic_transmission.pipeline.steps.rss_ingest import rss_ingest_op
from automatic_transmission.pipeline.steps.transfer import transfer_op
from automatic_transmission.pipeline.steps.watchlist_sync import watchlist_sync_op

# Each step's op attached to its row of the one table (pipeline/step_table.py).
OPS: dict[str, dg.OpDefinition] = {
    op.name: op
    for op in (
        rss_ingest_op,
        collect_op,
        parse_op,
        file_filtration_op,
        metadata_collection_op,
        media_filtration_op,
        initiation_op,
        download_check_op,
        transfer_op,
        cleanup_op,
    )
}
STEPS: tuple[Step, ...] = tuple(replace(step, op=OPS[step.name]) for step in STEP_TABLE)
FULL_PIPELINE_JOB_NAME = "at_full_pipeline_job"


def step_job(step: Step) -> dg.JobDefinition:
    assert step.op is not None
    return dg.GraphDefinition(name=step.job_name, node_defs=[step.op]).to_job(
        executor_def=dg.in_process_executor,
        tags=step_tags(step.name),
        description=f"Step {step.number:02d} of the pipeline: {step.name.replace('_', ' ')}.",
    )


def chain_job(
    name: str,
    steps: tuple[Step, ...],
    description: str,
    first: dg.OpDefinition | None = None,
) -> dg.JobDefinition:
    """`first` (when given), then these steps in order in one run, each starting after the
    previous one finished."""
    ready = [step for step in steps if step.op is not None]

    @dg.graph(name=name)
    def chain() -> None:
        previous = first() if first is not None else None
        for step in ready:
            assert step.op is not None
            previous = step.op(previous) if previous is not None else step.op()

    return chain.to_job(
        executor_def=dg.in_process_executor,
        tags=pipeline_tags([*([first.name] if first else []), *(s.name for s in ready)]),
        description=description,
    )


def watchlist_sync_job() -> dg.JobDefinition:
    return dg.GraphDefinition(
        name=f"{WATCHLIST_SYNC_KEY}_job", node_defs=[watchlist_sync_op]
    ).to_job(
        executor_def=dg.in_process_executor,
        tags=step_tags("watchlist_sync"),
        description="The watchlist feeds and watchlist.yaml into atp.watchlist.",
    )


def full_pipeline_job(steps: tuple[Step, ...]) -> dg.JobDefinition:
    """The watchlist sync, then every implemented step in order (step 06 judges by a fresh
    list), each starting after the previous one finished."""
    return chain_job(
        FULL_PIPELINE_JOB_NAME,
        steps,
        "The watchlist sync, then all pipeline steps in order in one run.",
        first=watchlist_sync_op,
    )


# The runs the sensors start (pipeline/sensors.py): steps that can run now, run now.
PARSE_TO_ACCEPT_JOB_NAME = "at_03_06_parse_to_media_filtration_job"
DOWNLOADED_TO_LIBRARY_JOB_NAME = "at_08_09_download_check_to_transfer_job"
CHAINS = {
    PARSE_TO_ACCEPT_JOB_NAME: (
        (3, 4, 5, 6),
        "Steps 03-06 in one run (started by at_chain_sensor).",
    ),
    DOWNLOADED_TO_LIBRARY_JOB_NAME: (
        (8, 9),
        "Steps 08-09 in one run (started by at_download_sensor).",
    ),
}


def chain_jobs(steps: tuple[Step, ...] = STEPS) -> dict[str, dg.JobDefinition]:
    by_number = {step.number: step for step in steps}
    return {
        name: chain_job(name, tuple(by_number[n] for n in numbers), description)
        for name, (numbers, description) in CHAINS.items()
    }


def pipeline_jobs(steps: tuple[Step, ...] = STEPS) -> dict[str, dg.JobDefinition]:
    """Jobs by schedule key (step jobs) plus the full pipeline under its own name."""
    jobs = {step.key: step_job(step) for step in steps if step.op is not None}
    if jobs:
        jobs[WATCHLIST_SYNC_KEY] = watchlist_sync_job()
        jobs[FULL_PIPELINE_JOB_NAME] = full_pipeline_job(steps)
    return jobs


__all__ = [
    "FULL_PIPELINE_SCHEDULE_KEY",
    "SCHEDULE_KEYS",
    "SCHEDULE_PREFIX",
    "STEPS",
    "WATCHLIST_SYNC_KEY",
    "Step",
    "pipeline_jobs",
]
