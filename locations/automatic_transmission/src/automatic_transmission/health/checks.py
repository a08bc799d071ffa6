"""The health of the pipeline read from `atp.media` and schema `bak`, and the rules that judge it.

Plain Python (no Dagster; the SQL is in store/health.py): `read_health` is the snapshot the `media_pipeline` asset shows,
the `*_check` functions turn rows and thresholds into a `CheckOutcome`. Ages are measured from
`updated_at`, which every update stamps: the time a row has spent in its current state.

Which step moves a row out of each waiting status is fixed by the step modules (`pipeline/steps/`,
in the order of `pipeline/jobs.py`); `downloading` is judged by
the download check and `transferred` waits for the cleanup delay by design, so neither is held to the
schedule of its step.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import psycopg2.extensions

from automatic_transmission.model import PipelineStatus
from automatic_transmission.pipeline.step_table import STEP_TABLE
from automatic_transmission.store import health as store

TOP_REJECTION_REASONS = 10
LISTED_ROWS = 20  # offending rows named in a check's metadata
NO_REASON = "(no reason)"

# Rows wait in these by design (a download, the seeding delay before cleanup), so the owning
# step's schedule does not explain their age: shown, never judged against it.
OPEN_ENDED_WAITS = (PipelineStatus.DOWNLOADING, PipelineStatus.TRANSFERRED)
# Status -> number of the step that moves rows out of it (the step table says which it consumes).
STATUS_OWNER_STEP: Mapping[PipelineStatus, int] = {
    step.consumes: step.number
    for step in STEP_TABLE
    if step.consumes is not None and step.consumes not in OPEN_ENDED_WAITS
}
# Statuses a row waits in for a step to pick it up (shown as the age of their oldest row).
WAITING_STATUSES = (*STATUS_OWNER_STEP, *OPEN_ENDED_WAITS)


@dataclass(frozen=True)
class PipelineHealth:
    """One snapshot of `atp.media` (live rows: not soft-deleted)."""

    status_counts: Mapping[PipelineStatus, int]  # every status, 0 when empty
    frozen: int  # rows frozen in error
    soft_deleted: int
    rejection_reasons: Sequence[tuple[str, int]]  # the top ten, most frequent first
    downloads_in_progress: int  # `downloading`, not frozen
    oldest_waiting_hours: Mapping[PipelineStatus, float]  # waiting statuses, 0 when empty

    @property
    def total(self) -> int:
        return sum(self.status_counts.values())


@dataclass(frozen=True)
class StaleRow:
    hash: str
    title: str
    status: str
    hours: float  # since the row last changed
    detail: str = ""  # the error, or what the limit was


@dataclass(frozen=True)
class CheckOutcome:
    passed: bool
    summary: str  # one line a person reads first
    rows: Sequence[StaleRow] = ()
    figures: Mapping[str, float | int] = field(default_factory=dict)


def read_health(connection: psycopg2.extensions.connection, schema: str = "atp") -> PipelineHealth:
    """The snapshot of the asset: two queries, whatever the number of rows."""
    per_status = store.status_figures(connection, schema)
    reasons = store.rejection_reasons(connection, schema, NO_REASON, TOP_REJECTION_REASONS)
    counts = dict.fromkeys(PipelineStatus, 0)
    waiting_hours = dict.fromkeys(WAITING_STATUSES, 0.0)
    frozen = deleted = downloading = 0
    for status_text, live, errored, removed, oldest in per_status:
        status = PipelineStatus(str(status_text))
        counts[status] = int(str(live))
        frozen += int(str(errored))
        deleted += int(str(removed))
        if status is PipelineStatus.DOWNLOADING:
            downloading = int(str(live)) - int(str(errored))
        if status in waiting_hours:
            waiting_hours[status] = round(float(str(oldest)), 3)
    return PipelineHealth(
        status_counts=counts,
        frozen=frozen,
        soft_deleted=deleted,
        rejection_reasons=[(str(reason), int(str(n))) for reason, n in reasons],
        downloads_in_progress=downloading,
        oldest_waiting_hours=waiting_hours,
    )


def _stale_rows(found: Sequence[tuple[object, ...]]) -> tuple[int, list[StaleRow]]:
    """How many rows matched, and the oldest of them (store.health.stale_rows's rows)."""
    rows = [
        StaleRow(str(h).strip(), str(t), str(s), round(float(str(a)), 2), str(e))
        for h, t, s, e, a, _ in found
    ]
    return (int(str(found[0][5])) if found else 0), rows


def _older_than_check(
    connection: psycopg2.extensions.connection,
    schema: str,
    rows: store.Stale,
    max_hours: float,
    failed: str,
    passed: str,
) -> CheckOutcome:
    """Fails when a row of the kind `rows` has not changed for `max_hours`;
    `failed` / `passed` are the summaries, `{count}` and `{hours}` filled in."""
    count, found = _stale_rows(
        store.unchanged_rows(connection, schema, rows, max_hours * 3600, LISTED_ROWS)
    )
    summary = (failed if count else passed).format(count=count, hours=f"{max_hours:g}")
    return CheckOutcome(not count, summary, found, {"rows": count, "limit_hours": max_hours})


def frozen_check(
    connection: psycopg2.extensions.connection, max_hours: float, schema: str = "atp"
) -> CheckOutcome:
    """No row may stay frozen in error longer than `max_hours`."""
    return _older_than_check(
        connection,
        schema,
        store.Stale.FROZEN,
        max_hours,
        "{count} row(s) frozen in error for more than {hours} h",
        "no row frozen in error for more than {hours} h",
    )


def download_progress_check(
    connection: psycopg2.extensions.connection, max_hours: float, schema: str = "atp"
) -> CheckOutcome:
    """No download may sit in `downloading` without a change for longer than `max_hours`."""
    return _older_than_check(
        connection,
        schema,
        store.Stale.STALLED_DOWNLOAD,
        max_hours,
        "{count} download(s) without progress for more than {hours} h",
        "every download changed within {hours} h",
    )


def longest_gap_hours(cron: str, timezone: str = "UTC", fires: int = 400) -> float:
    """The longest wait between two runs of a cron schedule over its next `fires` runs (in the
    schedule's own time zone, so a DST change counts as the schedule lives it)."""
    from zoneinfo import ZoneInfo

    from croniter import croniter

    times = croniter(cron, dt.datetime.now(ZoneInfo(timezone)))
    previous: dt.datetime = times.get_next(dt.datetime)
    longest = 0.0
    for _ in range(fires):
        current: dt.datetime = times.get_next(dt.datetime)
        longest = max(longest, (current - previous).total_seconds())
        previous = current
    return longest / 3600.0


def stuck_check(
    connection: psycopg2.extensions.connection,
    limits_hours: Mapping[PipelineStatus, float],
    schema: str = "atp",
) -> CheckOutcome:
    """No row may wait in a status longer than the schedule of the step that owns it explains
    (`limits_hours`: status -> hours; statuses without a limit are not judged)."""
    if not limits_hours:
        return CheckOutcome(True, "no scheduled step to measure waiting rows against")
    statuses = list(limits_hours)
    count, rows = _stale_rows(
        store.waiting_rows(
            connection,
            schema,
            {s.value: limits_hours[s] * 3600 for s in statuses},
            LISTED_ROWS,
        )
    )
    rows = [
        StaleRow(
            r.hash,
            r.title,
            r.status,
            r.hours,
            f"limit {limits_hours[PipelineStatus(r.status)]:g} h",
        )
        for r in rows
    ]
    summary = (
        f"{count} row(s) waiting longer than their step's schedule explains"
        if count
        else "every waiting row is within its step's schedule"
    )
    figures: dict[str, float | int] = {"rows": count}
    figures.update({f"limit_hours_{s.value}": round(h, 3) for s, h in limits_hours.items()})
    return CheckOutcome(not count, summary, rows, figures)


# The schema location's job that makes the backups (named, not imported: locations stay apart).
BACKUP_JOB_NAME = "wst_atp_bak_job"


def backup_check(ages_hours: Mapping[str, float | None], max_hours: float) -> CheckOutcome:
    """Every table has a backup younger than the drop guard's limit; a failing check names the
    job that fixes it (a fresh install has no backup yet)."""
    problems = []
    for table, hours in ages_hours.items():
        if hours is None:
            problems.append(f"atp.{table} has no backup")
        elif hours > max_hours:
            problems.append(f"atp.{table}: newest backup is {hours:.1f} h old")
    summary = (
        "; ".join(problems) + f" (the drop guard allows {max_hours:g} h). Launch "
        f"{BACKUP_JOB_NAME} in the wiring_schema_tics location to make them; its schedule "
        "then keeps them fresh"
        if problems
        else f"every table has a backup younger than {max_hours:g} h"
    )
    figures: dict[str, float | int] = {"limit_hours": max_hours}
    figures.update(
        {f"age_hours_{table}": hours for table, hours in ages_hours.items() if hours is not None}
    )
    return CheckOutcome(not problems, summary, (), figures)
