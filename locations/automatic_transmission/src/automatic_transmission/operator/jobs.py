"""Operator jobs for the Launchpad: retry frozen rows, override a rejection, reject an item.

Their run config is a `dg.Config`, so the Launchpad shows and checks its types at once; the rules
below are checked when the run starts and a broken one fails the run with one sentence (a
`dg.Failure`, not a validation traceback). A hash may be whole or a unique prefix (6+ hex, as
`at-item` prints it), resolved inside the run's transaction. Each run reports exactly the rows it
changed (count and table, with the status before and after) and the named rows it left alone; an
unknown hash or an ambiguous prefix fails the run naming it, and then nothing changes. The reject job then removes the items' torrents with their
data from Transmission (a torrent Transmission does not hold is fine); when Transmission is down
the soft delete stands and the run is red, to be run again.

Each change is made holding the database's maintenance lock shared, like a pipeline step: during
a schema job the run waits at most AT_MAINTENANCE_WAIT seconds, then fails without a change,
naming the job that holds the lock.
"""

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass

import dagster as dg
import psycopg2.extensions
from pydantic import Field

from automatic_transmission.clients.transmission import (
    TransmissionClient,
    TransmissionResource,
    TransmissionUnavailable,
)
from automatic_transmission.metadata import cell, table
from automatic_transmission.pipeline.op import shared_maintenance_lock
from automatic_transmission.pipeline.run_tags import DEFAULT_MAX_RUNTIME_S
from automatic_transmission.settings import SettingsError
from automatic_transmission.store.operator import (
    OperatorResult,
    UnknownHashError,
    normalise_hashes,
    override,
    reject,
    retry_errored,
)
from dagstributor_shared.maintenance import MaintenanceLockTimeout
from dagstributor_shared.postgres import PostgresResource
from dagstributor_shared.run_tags import max_runtime_tag

RETRY_JOB_NAME = "at_retry_errored_job"
OVERRIDE_JOB_NAME = "at_override_job"
REJECT_JOB_NAME = "at_reject_job"
HASHES_HELP = (
    "torrent hashes (40 hex characters) or unique prefixes of 6 or more, e.g. from `at-item` "
    "or a step's table"
)


class _HashesConfig(dg.Config):
    hashes: list[str] = Field(default_factory=list, description=HASHES_HELP)

    def problem(self) -> str | None:
        """What is wrong with this config in one sentence, or None."""
        try:
            normalise_hashes(self.hashes)
        except ValueError as error:
            return str(error)
        return None


class RetryErroredConfig(_HashesConfig):
    """Which frozen rows to retry: give exactly one of `hashes`, `error_contains`, `all_errored`."""

    error_contains: str = Field(
        default="", description="retry every frozen row whose error contains this text"
    )
    all_errored: bool = Field(default=False, description="retry every frozen row")

    def problem(self) -> str | None:
        chosen = [bool(self.hashes), bool(self.error_contains.strip()), self.all_errored]
        if sum(chosen) != 1:
            return (
                "give exactly one of hashes, error_contains or all_errored: true "
                f"(got {sum(chosen)})"
            )
        return super().problem()


class ItemsConfig(_HashesConfig):
    """The items to act on (at least one hash)."""

    def problem(self) -> str | None:
        return "give at least one hash" if not self.hashes else super().problem()


@dataclass(frozen=True)
class TorrentRemoval:
    removed: Sequence[str]  # hashes whose torrent (with its data) left Transmission
    absent: Sequence[str] = ()  # hashes Transmission does not hold: nothing to remove


def remove_torrents(client: TransmissionClient, hashes: Sequence[str]) -> TorrentRemoval:
    """Remove the torrents of these hashes with their data: ONE `torrent-get` (hashes only) and
    ONE `torrent-remove` of those Transmission holds. TransmissionUnavailable when it is down."""
    held = {torrent.hash for torrent in client.torrents(())}
    removed = [h for h in hashes if h in held]
    client.remove(removed)
    return TorrentRemoval(removed, [h for h in hashes if h not in held])


CHANGED_COLUMNS = {
    "hash": "string",
    "title": "string",
    "status_before": "string",
    "status_after": "string",
    "detail": "string",
}  # the fields of operator_store.ChangedRow


def result_metadata(result: OperatorResult) -> dict[str, dg.MetadataValue]:
    metadata: dict[str, dg.MetadataValue] = {
        "rows changed": dg.MetadataValue.int(len(result.changed)),
        "changed": table(CHANGED_COLUMNS, [asdict(row) for row in result.changed]),
        "rows left alone": dg.MetadataValue.int(len(result.left_alone)),
    }
    if result.left_alone:
        metadata["left alone"] = table(
            {"hash": "string", "reason": "string"},
            [asdict(row) for row in result.left_alone],
        )
    return metadata


def torrent_metadata(removal: TorrentRemoval) -> dict[str, dg.MetadataValue]:
    return {
        "torrents removed": dg.MetadataValue.int(len(removal.removed)),
        "torrents": table(
            {"hash": "string", "torrent": "string"},
            [{"hash": h, "torrent": "removed with its data"} for h in removal.removed]
            + [{"hash": h, "torrent": "not in Transmission"} for h in removal.absent],
        ),
    }


def report(
    context: dg.OpExecutionContext,
    result: OperatorResult,
    extra: Mapping[str, dg.MetadataValue] | None = None,
) -> None:
    for row in result.changed:
        context.log.info(f"{row.hash} {row.title!r}: {row.status_before} -> {row.status_after}")
    for alone in result.left_alone:
        context.log.info(f"{alone.hash} left alone: {alone.reason}")
    context.add_output_metadata({**result_metadata(result), **(extra or {})})


@contextmanager
def operator_connection(
    postgres: PostgresResource, config: _HashesConfig
) -> Iterator[psycopg2.extensions.connection]:
    """A connection for an operator's change, made under the maintenance lock held shared;
    during a schema job that keeps it past AT_MAINTENANCE_WAIT, a red run and no change. A broken
    config, an unknown hash or an ambiguous prefix is a red run naming it, and no change."""
    problem = config.problem()
    if problem:
        raise dg.Failure(description=f"nothing changed: {problem}")
    try:
        with shared_maintenance_lock(postgres), postgres.connect() as connection:
            yield connection
    except MaintenanceLockTimeout as error:
        raise dg.Failure(
            description=f"nothing changed: {error}. Run the job again when the schema job is done."
        ) from None
    except UnknownHashError as error:
        raise dg.Failure(description=str(error)) from None


@dg.op(name="retry_errored", description="Clear the freeze of frozen rows.")
def retry_errored_op(
    context: dg.OpExecutionContext, config: RetryErroredConfig, postgres: PostgresResource
) -> None:
    with operator_connection(postgres, config) as connection:
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
    with operator_connection(postgres, config) as connection:
        result = override(connection, config.hashes, postgres.settings().schema)
    report(context, result)


@dg.op(
    name="reject",
    description="Reject items: soft delete (deleted_at, `user deletion`), then remove their "
    "torrents with their data from Transmission.",
)
def reject_op(
    context: dg.OpExecutionContext,
    config: ItemsConfig,
    postgres: PostgresResource,
    transmission: TransmissionResource,
) -> None:
    """The soft delete is the operator's verdict and is committed first. Then the torrents of
    every named hash leave Transmission, also of rows soft-deleted before: a run whose removal
    failed (Transmission down) is red, keeps the soft delete, and is simply run again."""
    with operator_connection(postgres, config) as connection:
        result = reject(connection, config.hashes, postgres.settings().schema)
    try:
        removal = remove_torrents(transmission.client(), result.hashes)
    except (TransmissionUnavailable, SettingsError) as error:
        raise dg.Failure(
            description=(
                f"{len(result.changed)} row(s) soft-deleted, but their torrents were not "
                f"removed: {cell(error)}. Run {REJECT_JOB_NAME} again with the same hashes "
                "to remove them."
            ),
            metadata=result_metadata(result),
        ) from None
    for hash_ in removal.removed:
        context.log.info(f"{hash_}: torrent and its data removed from Transmission")
    report(context, result, torrent_metadata(removal))


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
            "Reject by hash: soft delete (every step skips the item from then on), then its "
            "torrent leaves Transmission with its data.",
        ),
    ]
