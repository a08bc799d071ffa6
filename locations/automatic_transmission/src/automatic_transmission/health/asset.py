"""The asset `media_pipeline`: the pipeline's health as numeric metadata, with four asset checks.

Each materialization records counts per status, frozen rows, the top rejection reasons, downloads
in progress and the age of the oldest row waiting in each status; the UI plots every number across
materializations. The checks (thresholds from HealthSettings) run with each materialization; a
check that starts failing is notified once (not again while it keeps failing).
"""

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence

import dagster as dg
import psycopg2.extensions

from automatic_transmission.health.checks import (
    STATUS_OWNER_STEP,
    CheckOutcome,
    PipelineHealth,
    StaleRow,
    backup_check,
    download_progress_check,
    frozen_check,
    longest_gap_hours,
    read_health,
    stuck_check,
)
from automatic_transmission.metadata import table
from automatic_transmission.model import PipelineStatus
from automatic_transmission.pipeline.run_tags import DEFAULT_MAX_RUNTIME_S
from automatic_transmission.pipeline.step_table import (
    FULL_PIPELINE_SCHEDULE_KEY,
    SCHEDULE_KEYS,
    SCHEDULE_PREFIX,
    STEP_TABLE,
)
from automatic_transmission.settings import number_setting
from automatic_transmission.store.health import backup_ages_hours
from dagstributor_shared.atp_schema import MAX_BACKUP_AGE
from dagstributor_shared.environment import current_environment
from dagstributor_shared.notify import NotifierResource
from dagstributor_shared.postgres import PostgresResource
from dagstributor_shared.run_tags import max_runtime_tag
from dagstributor_shared.schedules import ScheduleEntry, load_schedule_specs, schedule_file

ASSET_KEY = dg.AssetKey("media_pipeline")
HEALTH_JOB_NAME = "at_media_pipeline_health_job"
HEALTH_SCHEDULE_KEY = "at_media_pipeline_health"

FROZEN_HOURS_VAR = "AT_HEALTH_FROZEN_HOURS"
DOWNLOAD_STALL_HOURS_VAR = "AT_HEALTH_DOWNLOAD_STALL_HOURS"
STUCK_FACTOR_VAR = "AT_HEALTH_STUCK_FACTOR"
BACKUP_MAX_AGE_HOURS_VAR = "AT_HEALTH_BACKUP_MAX_AGE_HOURS"
DEFAULT_FROZEN_HOURS = 24.0
DEFAULT_DOWNLOAD_STALL_HOURS = 48.0
DEFAULT_STUCK_FACTOR = 2.0  # two schedule gaps: one run was missed
DEFAULT_BACKUP_MAX_AGE_HOURS = MAX_BACKUP_AGE / dt.timedelta(hours=1)  # the drop guard's limit


class HealthSettings(dg.ConfigurableResource):
    """Thresholds of the health checks; an explicit field wins, else the variable, else default.

    AT_HEALTH_FROZEN_HOURS (24): a row frozen in error longer fails `no_long_frozen_rows`.
    AT_HEALTH_DOWNLOAD_STALL_HOURS (48): a download unchanged longer fails `downloads_progress`.
    AT_HEALTH_STUCK_FACTOR (2): a row waiting longer than this many gaps of its step's schedule
    fails `no_stuck_items`. AT_HEALTH_BACKUP_MAX_AGE_HOURS (24, the drop guard's limit): an older
    newest backup fails `backups_fresh`.
    """

    frozen_hours: float | None = None
    download_stall_hours: float | None = None
    stuck_factor: float | None = None
    backup_max_age_hours: float | None = None

    def frozen_limit(self) -> float:
        return number_setting(self.frozen_hours, FROZEN_HOURS_VAR, DEFAULT_FROZEN_HOURS, 0)

    def download_stall_limit(self) -> float:
        return number_setting(
            self.download_stall_hours, DOWNLOAD_STALL_HOURS_VAR, DEFAULT_DOWNLOAD_STALL_HOURS, 0
        )

    def stuck_limit_factor(self) -> float:
        return number_setting(self.stuck_factor, STUCK_FACTOR_VAR, DEFAULT_STUCK_FACTOR, 1)

    def backup_limit(self) -> float:
        return number_setting(
            self.backup_max_age_hours, BACKUP_MAX_AGE_HOURS_VAR, DEFAULT_BACKUP_MAX_AGE_HOURS, 0
        )


def step_schedule_key(step_number: int) -> str:
    return next(step.key for step in STEP_TABLE if step.number == step_number)


def waiting_limits_hours(
    specs: dict[str, ScheduleEntry], factor: float
) -> dict[PipelineStatus, float]:
    """Status -> the longest wait its owning step's schedule explains (factor x longest gap);
    the full pipeline's schedule (local profile) runs every step. A status whose step has no
    enabled schedule is not judged."""
    limits: dict[PipelineStatus, float] = {}
    for status, number in STATUS_OWNER_STEP.items():
        spec = specs.get(step_schedule_key(number)) or specs.get(FULL_PIPELINE_SCHEDULE_KEY)
        if spec is not None and spec.enabled:
            gap = longest_gap_hours(spec.cron_schedule, spec.execution_timezone)
            limits[status] = factor * gap
    return limits


def current_schedule_specs() -> dict[str, ScheduleEntry]:
    return load_schedule_specs(
        schedule_file(current_environment()),
        SCHEDULE_KEYS | {HEALTH_SCHEDULE_KEY, FULL_PIPELINE_SCHEDULE_KEY},
        SCHEDULE_PREFIX,
    )


# --- the asset ---------------------------------------------------------------------------------


def reason_key(reason: str) -> str:
    return f"rejected: {reason[:80]}"


def health_metadata(health: PipelineHealth) -> dict[str, dg.MetadataValue]:
    """Numbers under stable keys (the UI plots a key across materializations) and two tables."""
    metadata: dict[str, dg.MetadataValue] = {
        f"rows {status.value}": dg.MetadataValue.int(n)
        for status, n in health.status_counts.items()
    }
    metadata["rows total"] = dg.MetadataValue.int(health.total)
    metadata["rows frozen in error"] = dg.MetadataValue.int(health.frozen)
    metadata["rows soft-deleted"] = dg.MetadataValue.int(health.soft_deleted)
    metadata["downloads in progress"] = dg.MetadataValue.int(health.downloads_in_progress)
    for status, hours in health.oldest_waiting_hours.items():
        metadata[f"oldest waiting hours {status.value}"] = dg.MetadataValue.float(hours)
    for reason, count in health.rejection_reasons:
        metadata[reason_key(reason)] = dg.MetadataValue.int(count)
    metadata["top rejection reasons"] = table(
        {"rejection reason": "string", "rows": "int"},
        [{"rejection reason": r, "rows": n} for r, n in health.rejection_reasons],
    )
    return metadata


@dg.asset(
    key=ASSET_KEY,
    group_name="health",
    description=(
        "The pipeline as numbers: rows per pipeline_status, rows frozen in error, the top ten "
        "rejection reasons, downloads in progress and the age of the oldest row waiting in each "
        "status. Plotted across materializations; four checks judge it."
    ),
)
def media_pipeline(postgres: PostgresResource) -> dg.MaterializeResult:
    with postgres.connect() as connection:
        health = read_health(connection, postgres.settings().schema)
    return dg.MaterializeResult(metadata=health_metadata(health))


# --- the checks --------------------------------------------------------------------------------


ROW_COLUMNS = {
    "hash": "string",
    "title": "string",
    "status": "string",
    "hours": "float",
    "detail": "string",
}  # the fields of health.StaleRow


# Statuses of a check's execution record, by value: the enum lives in a private Dagster module.
FAILED_CHECK_STATUS = "FAILED"
COMPLETED_CHECK_STATUSES = frozenset({"SUCCEEDED", FAILED_CHECK_STATUS})


def rows_table(rows: Sequence[StaleRow]) -> dg.MetadataValue:
    return table(ROW_COLUMNS, [dataclasses.asdict(row) for row in rows])


def was_failing(context: dg.AssetCheckExecutionContext, check_key: dg.AssetCheckKey) -> bool:
    """The last completed evaluation of this check in another run failed (already notified)."""
    history = context.instance.event_log_storage.get_asset_check_execution_history(
        check_key, limit=10
    )
    completed = (r for r in history if r.status.value in COMPLETED_CHECK_STATUSES)
    previous = next((r for r in completed if r.run_id != context.run.run_id), None)
    return previous is not None and previous.status.value == FAILED_CHECK_STATUS


def check_result(
    context: dg.AssetCheckExecutionContext,
    name: str,
    outcome: CheckOutcome,
    notifier: NotifierResource,
    severity: dg.AssetCheckSeverity,
) -> dg.AssetCheckResult:
    """The check's result; a check that starts failing is notified once."""
    metadata: dict[str, dg.MetadataValue] = {
        key: dg.MetadataValue.float(float(value))
        if isinstance(value, float)
        else dg.MetadataValue.int(value)
        for key, value in outcome.figures.items()
    }
    metadata["summary"] = dg.MetadataValue.text(outcome.summary)
    if outcome.rows:
        metadata["rows"] = rows_table(outcome.rows)
    if not outcome.passed:
        key = dg.AssetCheckKey(ASSET_KEY, name)
        if was_failing(context, key):
            context.log.info(f"{name} still fails; notified when it started failing")
        else:
            body = f"Health check {name} on {ASSET_KEY.to_user_string()} failed: {outcome.summary}"
            body += "".join(
                f"\n- {r.title} ({r.hash[:12]}, {r.status}, {r.hours:g} h)"
                for r in outcome.rows[:5]
            )
            notifier.notifier(context.log).send(f"Dagstributor: health check {name} failed", body)
    return dg.AssetCheckResult(
        passed=outcome.passed,
        severity=severity,
        description=outcome.summary,
        metadata=metadata,
    )


# (connection, schema, settings) -> the check's outcome
Evaluation = Callable[[psycopg2.extensions.connection, str, HealthSettings], CheckOutcome]


def health_check(
    name: str, description: str, severity: dg.AssetCheckSeverity, evaluate: Evaluation
) -> dg.AssetChecksDefinition:
    """One check on media_pipeline: evaluate on a fresh connection, record, notify a new failure."""

    @dg.asset_check(asset=ASSET_KEY, name=name, description=description)
    def _check(
        context: dg.AssetCheckExecutionContext,
        postgres: PostgresResource,
        health_settings: HealthSettings,
        notifier: NotifierResource,
    ) -> dg.AssetCheckResult:
        with postgres.connect() as connection:
            outcome = evaluate(connection, postgres.settings().schema, health_settings)
        return check_result(context, name, outcome, notifier, severity)

    return _check


def _stuck(
    connection: psycopg2.extensions.connection, schema: str, settings: HealthSettings
) -> CheckOutcome:
    limits = waiting_limits_hours(current_schedule_specs(), settings.stuck_limit_factor())
    return stuck_check(connection, limits, schema)


def _backups(
    connection: psycopg2.extensions.connection, schema: str, settings: HealthSettings
) -> CheckOutcome:
    return backup_check(backup_ages_hours(connection, schema=schema), settings.backup_limit())


HEALTH_CHECKS = (
    health_check(
        "no_long_frozen_rows",
        f"No row frozen in error longer than {FROZEN_HOURS_VAR} hours (24).",
        dg.AssetCheckSeverity.WARN,
        lambda conn, schema, s: frozen_check(conn, s.frozen_limit(), schema),
    ),
    health_check(
        "downloads_progress",
        f"No download unchanged longer than {DOWNLOAD_STALL_HOURS_VAR} hours (48).",
        dg.AssetCheckSeverity.WARN,
        lambda conn, schema, s: download_progress_check(conn, s.download_stall_limit(), schema),
    ),
    health_check(
        "no_stuck_items",
        "No row waits in a status longer than the schedule of the step that owns it explains "
        f"({STUCK_FACTOR_VAR} = 2 gaps of its cron schedule).",
        dg.AssetCheckSeverity.WARN,
        _stuck,
    ),
    health_check(
        "backups_fresh",
        "Every atp table has a backup younger than the drop guard allows "
        f"({BACKUP_MAX_AGE_HOURS_VAR}, {DEFAULT_BACKUP_MAX_AGE_HOURS:g} hours).",
        dg.AssetCheckSeverity.ERROR,
        _backups,
    ),
)


def build_health_job() -> "dg.UnresolvedAssetJobDefinition":
    """The health job; built with the definitions, as its run tags depend on where they load."""
    return dg.define_asset_job(
        HEALTH_JOB_NAME,
        selection=dg.AssetSelection.assets(ASSET_KEY),
        description="Materialize media_pipeline and run its checks.",
        tags=max_runtime_tag(DEFAULT_MAX_RUNTIME_S),
        # One process: the asset and its four checks are quick queries, and a process per step
        # (Dagster's default) cost about 14 s each (benchmarks/health_job.py).
        executor_def=dg.in_process_executor,
    )


def health_resources() -> dict[str, dg.ConfigurableResource]:
    """The resource of this module's thresholds (the checks' `notifier` and `postgres` are the
    pipeline's, resources.pipeline_resources)."""
    return {"health_settings": HealthSettings()}
