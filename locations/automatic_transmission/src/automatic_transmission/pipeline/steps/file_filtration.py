"""Step 04 file_filtration: `parsed` rows pass or fail the file rules of their media type.

select: `parsed` rows, AT_BATCH_SIZE at a time (one query per batch) · decide: the first failing
rule of `file_filtration.yaml` for the row's media type, after AT_MIN_SEEDERS for a release whose
indexer reported its seeders; `override` rows skip every rule · record:
one conditional write per batch · report: counts and the table of items (steps/runner.py).
"""

from typing import Any

import dagster as dg

from automatic_transmission.filters import (
    FIELD_COLUMNS,
    FILE_FIELDS,
    MIN_SEEDERS_VAR,
    FilterSettings,
    RuleSet,
)
from automatic_transmission.model import MediaRow, Outcome, PipelineStatus, RejectionStatus
from automatic_transmission.pipeline.op import step_op
from automatic_transmission.pipeline.report import report_step
from automatic_transmission.pipeline.runner import open_store, run_batches
from automatic_transmission.pipeline.step_table import consumed_by
from automatic_transmission.settings import PipelineSettings
from dagstributor_shared.postgres import PostgresResource


def file_fields(row: MediaRow) -> dict[str, Any]:
    return {name: getattr(row, FIELD_COLUMNS.get(name, name)) for name in FILE_FIELDS}


def seeders_failure(row: MediaRow, min_seeders: int) -> str | None:
    """Why a release has too few seeders to be worth it; None when enough or not known (only
    Torznab indexers report them)."""
    if row.seeders is None or row.seeders >= min_seeders:
        return None
    return f"seeders {row.seeders} is below {MIN_SEEDERS_VAR} {min_seeders}"


def filter_file(row: MediaRow, rules: RuleSet, min_seeders: int = 0) -> Outcome:
    """Pass -> `file_accepted` / `accepted`; fail -> rejected with the first failing rule
    (seeders first); `override` -> `file_accepted` without looking at any rule (and stays
    `override`)."""
    if row.is_override:
        return Outcome.advance(row, PipelineStatus.FILE_ACCEPTED)
    reason = seeders_failure(row, min_seeders) or rules.first_failure(
        row.media_type, file_fields(row)
    )
    if reason is not None:
        return Outcome.reject(row, reason)
    return Outcome.advance(
        row, PipelineStatus.FILE_ACCEPTED, rejection_status=RejectionStatus.ACCEPTED
    )


def run_file_filtration(
    context: dg.OpExecutionContext,
    postgres: PostgresResource,
    pipeline_settings: PipelineSettings,
    filter_settings: FilterSettings,
) -> None:
    rules = filter_settings.file_rules()
    min_seeders = filter_settings.seeders_minimum()
    with open_store(postgres) as store:
        result = run_batches(
            store,
            consumed_by("file_filtration"),
            pipeline_settings.rows_per_batch(),
            lambda rows, _: [filter_file(row, rules, min_seeders) for row in rows],
        )
    report_step(context, result, {"rules": dg.MetadataValue.path(rules.source)})


file_filtration_op = step_op(
    "file_filtration", description="Step 04: parsed items against the file rules."
)(run_file_filtration)
