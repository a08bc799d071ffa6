"""Operator jobs for the Launchpad: retry frozen rows, override a rejection, reject an item.

Their run config is a `dg.Config`, so the Launchpad shows and validates it (types at once, the
rules below when the run starts). Each run reports exactly the rows it changed (count and table,
with the status before and after) and the named rows it left alone; an unknown hash fails the run
naming it, and then nothing changes.
"""

from collections.abc import Sequence

import dagster as dg
from pydantic import Field, field_validator, model_validator

from automatic_transmission.operator_store import (
    OperatorResult,
    normalise_hashes,
    override,
    reject,
    retry_errored,
)
from automatic_transmission.reporting import cell
from automatic_transmission.run_tags import DEFAULT_MAX_RUNTIME_S
from dagstributor_shared.postgres import PostgresResource
from dagstributor_shared.run_tags import max_runtime_tag

RETRY_JOB_NAME = "at_retry_errored_job"
OVERRIDE_JOB_NAME = "at_override_job"
REJECT_JOB_NAME = "at_reject_job"
HASHES_HELP = "torrent hashes (40 hex characters), e.g. from `at-item` or a step's table"


class _HashesConfig(dg.Config):
    hashes: list[str] = Field(default_factory=list, description=HASHES_HELP)

    @field_validator("hashes")
    @classmethod
    def _valid_hashes(cls, hashes: list[str]) -> list[str]:
        return normalise_hashes(hashes)


class RetryErroredConfig(_HashesConfig):
    """Which frozen rows to retry: give exactly one of `hashes`, `error_contains`, `all_errored`."""

    error_contains: str = Field(
        default="", description="retry every frozen row whose error contains this text"
    )
    all_errored: bool = Field(default=False, description="retry every frozen row")

    @model_validator(mode="after")
    def _one_selector(self) -> "RetryErroredConfig":
        chosen = [bool(self.hashes), bool(self.error_contains.strip()), self.all_errored]
        if sum(chosen) != 1:
            raise ValueError(
                "give exactly one of hashes, error_contains or all_errored: true "
                f"(got {sum(chosen)})"
            )
        return self


class ItemsConfig(_HashesConfig):
    """The items to act on (at least one hash)."""

    @model_validator(mode="after")
    def _some_hashes(self) -> "ItemsConfig":
        if not self.hashes:
            raise ValueError("give at least one hash")
        return self


def result_metadata(result: OperatorResult) -> dict[str, dg.MetadataValue]:
    changed = ["| hash | title | before | after | detail |", "|---|---|---|---|---|"]
    changed += [
        f"| {r.hash} | {cell(r.title)} | {r.status_before} | {r.status_after} | {cell(r.detail)} |"
        for r in result.changed
    ]
    metadata: dict[str, dg.MetadataValue] = {
        "rows changed": dg.MetadataValue.int(len(result.changed)),
        "changed": dg.MetadataValue.md("\n".join(changed)),
        "rows left alone": dg.MetadataValue.int(len(result.left_alone)),
    }
    if result.left_alone:
        left = ["| hash | why |", "|---|---|"]
        left += [f"| {row.hash} | {row.reason} |" for row in result.left_alone]
        metadata["left alone"] = dg.MetadataValue.md("\n".join(left))
    return metadata


def report(context: dg.OpExecutionContext, result: OperatorResult) -> None:
    for row in result.changed:
        context.log.info(f"{row.hash} {row.title!r}: {row.status_before} -> {row.status_after}")
    for alone in result.left_alone:
        context.log.info(f"{alone.hash} left alone: {alone.reason}")
    context.add_output_metadata(result_metadata(result))


def remove_rejected_torrents(context: dg.OpExecutionContext, hashes: Sequence[str]) -> None:
    """HOOK, not done yet: remove the torrents (and their data) of rows an operator rejected.

    Needs step 10's Transmission client (branch i8); until it is wired here the torrents stay in
    Transmission and step 10's cleanup of hung items or a person removes them.
    """
    if hashes:
        context.log.warning(
            f"{len(hashes)} rejected item(s) keep their torrent: removing it needs the "
            "Transmission client of step 10, not wired into at_reject_job yet"
        )


@dg.op(name="retry_errored", description="Clear the freeze of frozen rows.")
def retry_errored_op(
    context: dg.OpExecutionContext, config: RetryErroredConfig, postgres: PostgresResource
) -> None:
    with postgres.connect() as connection:
        result = retry_errored(
            connection,
            hashes=config.hashes,
            error_contains=config.error_contains.strip() or None,
            schema=postgres.settings().schema,
        )
    report(context, result)


@dg.op(name="override", description="Take items the filters rejected: override skips them.")
def override_op(
    context: dg.OpExecutionContext, config: ItemsConfig, postgres: PostgresResource
) -> None:
    with postgres.connect() as connection:
        result = override(connection, config.hashes, postgres.settings().schema)
    report(context, result)


@dg.op(name="reject", description="Reject items: soft delete (deleted_at, `user deletion`).")
def reject_op(
    context: dg.OpExecutionContext, config: ItemsConfig, postgres: PostgresResource
) -> None:
    with postgres.connect() as connection:
        result = reject(connection, config.hashes, postgres.settings().schema)
    report(context, result)
    remove_rejected_torrents(context, [row.hash for row in result.changed])


def _operator_job(name: str, op: dg.OpDefinition, description: str) -> dg.JobDefinition:
    return dg.GraphDefinition(name=name, node_defs=[op]).to_job(
        executor_def=dg.in_process_executor,
        tags={**max_runtime_tag(DEFAULT_MAX_RUNTIME_S), "dagstributor/kind": "operator"},
        description=description,
    )


def operator_jobs() -> list[dg.JobDefinition]:
    return [
        _operator_job(
            RETRY_JOB_NAME,
            retry_errored_op,
            "Retry rows frozen in error (by hash, by error text, or all): the step that owns "
            "their status picks them up on its next run.",
        ),
        _operator_job(
            OVERRIDE_JOB_NAME,
            override_op,
            "Override by hash: take items the filters rejected (they start again from ingested).",
        ),
        _operator_job(
            REJECT_JOB_NAME,
            reject_op,
            "Reject by hash: soft delete; every step skips the item from then on.",
        ),
    ]
