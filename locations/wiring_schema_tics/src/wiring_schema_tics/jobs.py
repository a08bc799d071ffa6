"""The six schema jobs: thin ops over `schema`, `backups` and `replace`, chained strictly in order.

Every op is in one Dagster pool and every run carries one tag, so with the instance limits set
(see SCHEMA_POOL / SCHEMA_RUN_TAG) no two schema operations ever interleave. Each op depends on the
previous one through a Nothing input: when a step fails, everything after it is skipped, so
nothing is dropped without a verified backup. The jobs that change `atp` also hold the database's
maintenance lock for their whole run (`maintenance`), which keeps pipeline steps out.
"""

import datetime as dt
import decimal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from typing import Any, TypeVar

import dagster as dg
import psycopg2.extensions
from pydantic import Field

from dagstributor_shared.postgres import PostgresResource
from dagstributor_shared.run_tags import max_runtime_tag
from dagstributor_shared.sql import SqlFileResult, run_sql_file
from wiring_schema_tics import backups, replace, schema
from wiring_schema_tics.maintenance import MAINTENANCE_TAG, SchemaMaintenanceResource

# Instance configuration the lead puts in dagster.yaml / Helm values:
#   dagster instance concurrency set wst_atp_schema 1        (op level, the pool)
#   concurrency: {runs: {tag_concurrency_limits: [{key: "dagstributor/schema_lock", limit: 1}]}}
# The pool keeps two schema ops from running at once; the run tag keeps a second schema run
# queued until the first has finished, so a drop can never slip between another run's steps.
SCHEMA_POOL = "wst_atp_schema"
SCHEMA_RUN_TAG_KEY = "dagstributor/schema_lock"
SCHEMA_RUN_TAG: dict[str, str] = {SCHEMA_RUN_TAG_KEY: "atp"}
T = TypeVar("T")
RESOURCE_KEY = "postgres"
MAINTENANCE_KEY = "maintenance"
SCHEDULE_KEY = "wst_atp_bak"
# dagster/max_runtime per job: one schema operation takes minutes; the full chain copies every
# table twice (backup, reload), so it gets longer.
DEFAULT_MAX_RUNTIME_S = 60 * 60
JOB_MAX_RUNTIME_S: dict[str, int] = {"wst_atp_bak_drop_reload_job": 3 * 60 * 60}


class BackupConfig(dg.Config):
    keep: int = Field(
        default=backups.DEFAULT_KEEP, ge=1, description="backups kept per table (newest first)"
    )


class DropGuardConfig(dg.Config):
    force: bool = Field(default=False, description="drop without checking the backups")
    max_backup_age_hours: float = Field(
        default=backups.DEFAULT_MAX_BACKUP_AGE.total_seconds() / 3600,
        gt=0,
        description="each table needs a verified backup younger than this",
    )


class ReloadConfig(dg.Config):
    truncate: bool = Field(default=False, description="empty non-empty tables before reloading")


def _jsonable(value: Any) -> Any:
    """Rows and results as JSON metadata (timestamps, dates, decimals become strings)."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date | dt.datetime | dt.timedelta | decimal.Decimal):
        return str(value)
    return value


def _json(value: Any) -> dg.MetadataValue:
    return dg.MetadataValue.json(_jsonable(value))


def _per_table_metadata(
    results: Sequence[backups.BackupResult | backups.ReloadResult],
    key: str,
    rows: Mapping[str, int],
) -> dict[str, Any]:
    """`<table>_rows` counts, the results without their statements under `key`, and the
    statements per table (the metadata of the backup and the reload op)."""
    metadata: dict[str, Any] = {f"{table}_rows": n for table, n in rows.items()}
    metadata[key] = _json(
        [{k: v for k, v in asdict(r).items() if k != "statements"} for r in results]
    )
    metadata["statements"] = _json({r.table: r.statements for r in results})
    return metadata


def _held(
    maintenance: SchemaMaintenanceResource,
    postgres: PostgresResource,
    work: Callable[[psycopg2.extensions.connection], T],
) -> T:
    """`work` on a connection of its own, after checking that this run holds the maintenance
    lock (every op that changes atp calls this first)."""
    maintenance.ensure_held()
    with postgres.connect() as connection:
        return work(connection)


def _files_metadata(results: Sequence[SqlFileResult], key: str = "statements") -> dict[str, Any]:
    """The SQL files an op ran, by name, and their statements per file under `key`."""
    return {
        "files": [r.source.rsplit("/", 1)[-1] for r in results],
        key: _json({r.source: r.summary() for r in results}),
    }


def _log_notices(context: dg.OpExecutionContext, reloads: Sequence[backups.ReloadResult]) -> None:
    for reload in reloads:
        for notice in reload.notices:
            context.log.info(f"{reload.table}: {notice}")


def _schema_op(**kwargs: Any) -> Callable[[Callable[..., None]], dg.OpDefinition]:
    """dg.op with the shape every op here shares: in the pool, after the previous step, no value."""
    return dg.op(
        pool=SCHEMA_POOL, ins={"after": dg.In(dg.Nothing)}, out=dg.Out(dg.Nothing), **kwargs
    )


@_schema_op(description="Run test.sql: server version, database, user and server time.")
def test_db_connection(context: dg.OpExecutionContext, postgres: PostgresResource) -> None:
    with postgres.connect() as connection:
        result = run_sql_file(connection, schema.TEST_FILE)
    context.add_output_metadata(
        {
            "connection": postgres.settings().describe(),
            "rows": _json(result.rows),
            "statements": _json(result.summary()),
        }
    )


@_schema_op(
    description="Back up media, training, prediction, watchlist into schema bak; verify; prune."
)
def backup_atp(
    context: dg.OpExecutionContext,
    config: BackupConfig,
    postgres: PostgresResource,
    maintenance: SchemaMaintenanceResource,
) -> None:
    results = _held(maintenance, postgres, lambda c: backups.backup_all(c, keep=config.keep))
    context.add_output_metadata(
        _per_table_metadata(results, "backups", {r.table: r.backup_count for r in results})
    )


@_schema_op(description="Drop guard: a fresh verified backup of every table, or force: true.")
def check_backups(
    context: dg.OpExecutionContext, config: DropGuardConfig, postgres: PostgresResource
) -> None:
    if config.force:
        context.log.warning("force: true — dropping without checking the backups")
        context.add_output_metadata({"forced": True})
        return
    max_age = dt.timedelta(hours=config.max_backup_age_hours)
    with postgres.connect() as connection:
        statuses = backups.check_drop_allowed(connection, max_age)
    context.add_output_metadata(
        {
            "forced": False,
            "max_backup_age": str(max_age),
            "backups": _json([asdict(s) for s in statuses]),
        }
    )


def _refreshed_metadata(
    context: dg.OpExecutionContext, refreshed: Sequence[replace.RefreshedBackup]
) -> dict[str, Any]:
    for r in refreshed:
        context.log.warning(f"backed up again before the drop: {r.changes}")
    return {"backed_up_again": _json(replace.describe_refreshed(refreshed))}


@_schema_op(
    description="Lock the tables, back up again what changed since the backup, drop schema atp "
    "(00_drop_schema.sql), in one transaction; backups in bak stay."
)
def drop_atp(
    context: dg.OpExecutionContext,
    postgres: PostgresResource,
    maintenance: SchemaMaintenanceResource,
) -> None:
    result = _held(maintenance, postgres, replace.drop_checked)
    metadata = _refreshed_metadata(context, result.refreshed)
    metadata["statements"] = _json({r.source: r.summary() for r in result.files})
    context.add_output_metadata(metadata)


@_schema_op(
    description="Lock the tables, back up again what changed since the backup, drop -> "
    "instantiate -> reload every table and check its count, all in one transaction."
)
def replace_atp(
    context: dg.OpExecutionContext,
    postgres: PostgresResource,
    maintenance: SchemaMaintenanceResource,
) -> None:
    result = _held(maintenance, postgres, replace.replace_atp)
    _log_notices(context, result.reloads)
    metadata = _per_table_metadata(
        result.reloads, "reloads", {r.table: r.restored_count for r in result.reloads}
    )
    metadata.update(_refreshed_metadata(context, result.refreshed))
    metadata.update(_files_metadata(result.files, "file_statements"))
    context.add_output_metadata(metadata)


@_schema_op(description="Create schema atp: 01 -> 02 -> 03 -> 04 -> 10; refuses if it exists.")
def instantiate_atp(
    context: dg.OpExecutionContext,
    postgres: PostgresResource,
    maintenance: SchemaMaintenanceResource,
) -> None:
    context.add_output_metadata(_files_metadata(_held(maintenance, postgres, schema.instantiate)))


@_schema_op(description="Restore each table from its newest backup, one transaction per table.")
def reload_atp(
    context: dg.OpExecutionContext,
    config: ReloadConfig,
    postgres: PostgresResource,
    maintenance: SchemaMaintenanceResource,
) -> None:
    results = _held(
        maintenance, postgres, lambda c: backups.reload_all(c, truncate=config.truncate)
    )
    _log_notices(context, results)
    context.add_output_metadata(
        _per_table_metadata(results, "reloads", {r.table: r.restored_count for r in results})
    )


@_schema_op(description="Each table holds as many rows as its newest backup.")
def verify_counts(
    context: dg.OpExecutionContext,
    postgres: PostgresResource,
    maintenance: SchemaMaintenanceResource,
) -> None:
    counts = _held(maintenance, postgres, backups.verify_restored)
    metadata: dict[str, Any] = {f"{c.table}_rows": c.rows for c in counts}
    metadata["counts"] = _json([asdict(c) for c in counts])
    context.add_output_metadata(metadata)


# job name -> (description, ops in the order they run)
JOB_STEPS: dict[str, tuple[str, Sequence[dg.OpDefinition]]] = {
    "test_db_connection_job": ("Connection test (test.sql).", (test_db_connection,)),
    "wst_atp_bak_job": (
        "Back up and verify media, training, prediction, watchlist.",
        (backup_atp,),
    ),
    "wst_atp_drop_job": (
        "Drop schema atp, refused without fresh verified backups unless forced.",
        (check_backups, drop_atp),
    ),
    "wst_atp_instantiate_job": ("Create schema atp (01, 02, 03, 10).", (instantiate_atp,)),
    "wst_atp_reload_job": (
        "Restore every table from its newest backup.",
        (reload_atp, verify_counts),
    ),
    "wst_atp_bak_drop_reload_job": (
        "Backup -> verify -> drop -> instantiate -> reload -> verify counts, strictly in order; "
        "drop to verify counts in one transaction under a table lock.",
        (backup_atp, check_backups, replace_atp),
    ),
}
# Jobs that change atp hold the maintenance lock for their whole run.
MAINTENANCE_JOBS = frozenset(
    {
        "wst_atp_drop_job",
        "wst_atp_instantiate_job",
        "wst_atp_reload_job",
        "wst_atp_bak_drop_reload_job",
    }
)


def chain_job(name: str, description: str, steps: Sequence[dg.OpDefinition]) -> dg.JobDefinition:
    """A job running `steps` one after another in one process; a failure skips the rest."""

    tags = {
        **SCHEMA_RUN_TAG,
        **(MAINTENANCE_TAG if name in MAINTENANCE_JOBS else {}),
        **max_runtime_tag(JOB_MAX_RUNTIME_S.get(name, DEFAULT_MAX_RUNTIME_S)),
    }

    @dg.job(
        name=name,
        description=description,
        executor_def=dg.in_process_executor,
        tags=tags,
        run_tags=tags,
    )
    def _job() -> None:
        previous: Any = None
        for step in steps:
            previous = step() if previous is None else step(after=previous)

    return _job


def build_jobs() -> dict[str, dg.JobDefinition]:
    return {name: chain_job(name, d, steps) for name, (d, steps) in JOB_STEPS.items()}


def build_resources(postgres: PostgresResource) -> dict[str, Any]:
    """The resources every job here needs, around one PostgreSQL resource."""
    return {RESOURCE_KEY: postgres, MAINTENANCE_KEY: SchemaMaintenanceResource(postgres=postgres)}
