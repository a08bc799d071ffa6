"""The table of pipeline steps -> one job per step, the full pipeline job and the schedule keys."""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

from automatic_transmission.pipeline.run_tags import pipeline_tags, step_tags
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

SCHEDULE_PREFIX = "at_"


@dataclass(frozen=True)
class Step:
    number: int
    name: str
    op: dg.OpDefinition | None  # None: the step's job arrives with a later issue

    @property
    def key(self) -> str:
        """The schedule key, e.g. `at_01_rss_ingest`."""
        return f"{SCHEDULE_PREFIX}{self.number:02d}_{self.name}"

    @property
    def job_name(self) -> str:
        return f"{self.key}_job"


# The one table of steps; each step module owns its op.
STEPS: tuple[Step, ...] = (
    Step(1, "rss_ingest", rss_ingest_op),
    Step(2, "collect", collect_op),
    Step(3, "parse", parse_op),
    Step(4, "file_filtration", file_filtration_op),
    Step(5, "metadata_collection", metadata_collection_op),
    Step(6, "media_filtration", media_filtration_op),
    Step(7, "initiation", initiation_op),
    Step(8, "download_check", download_check_op),
    Step(9, "transfer", transfer_op),
    Step(10, "cleanup", cleanup_op),
)
# The watchlist sync (issue 16) is no numbered step: it reads no atp.media rows. It has its own
# job and schedule, and the full pipeline runs it first, so step 06 judges by a fresh list.
WATCHLIST_SYNC_KEY = f"{SCHEDULE_PREFIX}watchlist_sync"
SCHEDULE_KEYS = frozenset(step.key for step in STEPS) | {WATCHLIST_SYNC_KEY}
FULL_PIPELINE_JOB_NAME = "at_full_pipeline_job"


def step_job(step: Step) -> dg.JobDefinition:
    assert step.op is not None
    return dg.GraphDefinition(name=step.job_name, node_defs=[step.op]).to_job(
        executor_def=dg.in_process_executor,
        tags=step_tags(step.name),
        description=f"Step {step.number:02d} of the pipeline: {step.name.replace('_', ' ')}.",
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
    """The watchlist sync, then every implemented step in order, each starting after the
    previous one finished."""
    ready = [step for step in steps if step.op is not None]

    @dg.graph(name=FULL_PIPELINE_JOB_NAME)
    def full_pipeline() -> None:
        previous = watchlist_sync_op()
        for step in ready:
            assert step.op is not None
            previous = step.op(previous)

    return full_pipeline.to_job(
        executor_def=dg.in_process_executor,
        tags=pipeline_tags(["watchlist_sync", *(step.name for step in ready)]),
        description="All pipeline steps in order in one run.",
    )


def pipeline_jobs(steps: tuple[Step, ...] = STEPS) -> dict[str, dg.JobDefinition]:
    """Jobs by schedule key (step jobs) plus the full pipeline under its own name."""
    jobs = {step.key: step_job(step) for step in steps if step.op is not None}
    if jobs:
        jobs[WATCHLIST_SYNC_KEY] = watchlist_sync_job()
        jobs[FULL_PIPELINE_JOB_NAME] = full_pipeline_job(steps)
    return jobs
