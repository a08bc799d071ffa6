"""The one table of pipeline steps: number, name and the status each step consumes.

Low in the pipeline (it knows only the statuses), so a step module reads the status it selects
from here, health judges waiting rows by the step that owns their status, and pipeline/jobs.py
attaches each step's op, without any of them importing the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from automatic_transmission.model import PipelineStatus

if TYPE_CHECKING:
    import dagster as dg

SCHEDULE_PREFIX = "at_"


@dataclass(frozen=True)
class Step:
    number: int
    name: str
    consumes: PipelineStatus | None = (
        None  # None: the step starts from outside (feeds, Transmission)
    )
    op: dg.OpDefinition | None = None  # attached by pipeline/jobs.py; None: no job (yet)

    @property
    def key(self) -> str:
        """The schedule key, e.g. `at_01_rss_ingest`."""
        return f"{SCHEDULE_PREFIX}{self.number:02d}_{self.name}"

    @property
    def job_name(self) -> str:
        return f"{self.key}_job"


STEP_TABLE: tuple[Step, ...] = (
    Step(1, "rss_ingest"),
    Step(2, "collect"),
    Step(3, "parse", PipelineStatus.INGESTED),
    Step(4, "file_filtration", PipelineStatus.PARSED),
    Step(5, "metadata_collection", PipelineStatus.FILE_ACCEPTED),
    Step(6, "media_filtration", PipelineStatus.METADATA_COLLECTED),
    Step(7, "initiation", PipelineStatus.MEDIA_ACCEPTED),
    Step(8, "download_check", PipelineStatus.DOWNLOADING),
    Step(9, "transfer", PipelineStatus.DOWNLOADED),
    Step(10, "cleanup", PipelineStatus.TRANSFERRED),
)
# The watchlist sync (issue 16) is no numbered step: it reads no atp.media rows. It has its own
# job and schedule, and the full pipeline runs it first, so step 06 judges by a fresh list.
WATCHLIST_SYNC_KEY = f"{SCHEDULE_PREFIX}watchlist_sync"
SCHEDULE_KEYS = frozenset(step.key for step in STEP_TABLE) | {WATCHLIST_SYNC_KEY}
# The full pipeline's schedule: only the local profile (config/schedules/local.yaml) has it, so a
# workstation's stack runs every step once a minute in one run instead of ten.
FULL_PIPELINE_SCHEDULE_KEY = f"{SCHEDULE_PREFIX}full_pipeline"


def consumed_by(name: str) -> PipelineStatus:
    """The status whose rows the step named `name` selects (a KeyError for a step without one)."""
    status = next(step.consumes for step in STEP_TABLE if step.name == name)
    if status is None:
        raise KeyError(f"step {name} consumes no status")
    return status
