"""The op every pipeline step is: `step_op`, and the maintenance lock every step holds shared.

The pipeline's share of the database's maintenance lock (dagstributor_shared.maintenance):
every pipeline step (and operator job) holds the lock shared, on a connection of its own that
stays idle while the work runs on its own connections, up to its last commit; the schema jobs of
wiring_schema_tics hold it exclusively. So a schema job waits for running steps, and a step that
starts during maintenance waits at most AT_MAINTENANCE_WAIT seconds and then gives up before
touching a row, with a message naming the holder: it never fails half-way through.
"""

import functools
import inspect
import typing
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import dagster as dg

from automatic_transmission.settings import maintenance_wait_seconds
from dagstributor_shared.maintenance import MaintenanceLockTimeout, maintenance_shared
from dagstributor_shared.notify import NotifierResource
from dagstributor_shared.postgres import PostgresResource

NOTIFIER_KEY = "notifier"
POSTGRES_KEY = "postgres"
SKIPPED_KEY = "skipped"


@contextmanager
def shared_maintenance_lock(postgres: PostgresResource) -> Iterator[None]:
    """Hold the maintenance lock shared while the body runs (on a connection of its own);
    raises MaintenanceLockTimeout, before the body starts, when a schema job keeps it longer
    than AT_MAINTENANCE_WAIT."""
    wait = maintenance_wait_seconds()  # a bad value fails here, naming the variable
    with postgres.connect() as connection, maintenance_shared(connection, wait_seconds=wait):
        yield


def skip_step(context: dg.OpExecutionContext, error: MaintenanceLockTimeout) -> None:
    """A step that could not take the maintenance lock: green, no row touched, and said so."""
    context.log.warning(f"skipped: {error}; no row changed, the next run does them")
    context.add_output_metadata({SKIPPED_KEY: dg.MetadataValue.text(str(error))})


def missing_job_settings(job: dg.JobDefinition) -> list[str]:
    """Every required variable that is not set, of every resource the job's ops use (the
    resources that have `missing_settings()`), in a stable order without repeats. Read from the
    job's resource definitions, so a step finds what a later step of the same run would lack."""
    ops = [node.definition for node in job.graph.nodes]
    keys = sorted(
        {k for op in ops if isinstance(op, dg.OpDefinition) for k in op.required_resource_keys}
    )
    missing: list[str] = []
    for key in keys:
        definition = job.resource_defs.get(key)
        cls = getattr(definition, "configurable_resource_cls", None)
        if definition is None or cls is None or not hasattr(cls, "missing_settings"):
            continue
        configured = definition.config_schema.as_field().default_value
        if any(isinstance(value, dict) for value in configured.values()):
            continue  # a dg.EnvVar field: Dagster itself checks it before the run starts
        missing += cls(**configured).missing_settings()
    return list(dict.fromkeys(missing))


def check_job_settings(context: dg.OpExecutionContext) -> None:
    """Fail the run before any work with one sentence naming every missing required setting."""
    missing = missing_job_settings(context.job_def)
    if missing:
        raise dg.Failure(
            description=(
                f"{context.job_name} needs settings that are not set: {', '.join(missing)}. "
                "Set them in the environment (on a workstation: the .env file at the repo "
                "root, read by scripts/local_stack.py) and launch again; nothing was changed."
            )
        )


def step_op(name: str, **kwargs: Any) -> Callable[[Callable[..., None]], dg.OpDefinition]:
    """The op decorator every step uses: an optional `after` input orders steps in the full job.

    Every step op also requires the `notifier` resource, without the step function taking it:
    `report_step` finds it in `context.resources` and notifies what the recorded outcomes call
    for (reporting.notify_step), so no step handles notifications itself.

    Before anything else a step checks the required settings of the whole job (the resources'
    `missing_settings()`): one missing fails the run at once, naming every missing variable.

    And every step runs holding the database's maintenance lock shared (maintenance_hold.py),
    taken before the step opens its own connections and given back after its last commit. When
    a schema job keeps the lock longer than AT_MAINTENANCE_WAIT, the step skips this run: green,
    no row changed, a warning and a `skipped` metadata entry naming the holder. In the full
    pipeline the later steps then each wait and skip the same way.
    """

    def decorate(run: Callable[..., None]) -> dg.OpDefinition:
        signature = inspect.signature(run)
        hints = typing.get_type_hints(run)  # resolved here: Dagster reads them off the wrapper
        parameters = [
            p.replace(annotation=hints.get(p.name, p.annotation))
            for p in signature.parameters.values()
        ]
        added = [NOTIFIER_KEY]
        parameters.append(
            inspect.Parameter(
                NOTIFIER_KEY, inspect.Parameter.KEYWORD_ONLY, annotation=NotifierResource
            )
        )
        if POSTGRES_KEY not in signature.parameters:
            added.append(POSTGRES_KEY)
            parameters.append(
                inspect.Parameter(
                    POSTGRES_KEY, inspect.Parameter.KEYWORD_ONLY, annotation=PostgresResource
                )
            )

        @functools.wraps(run)
        def body(context: dg.OpExecutionContext, *args: Any, **values: Any) -> None:
            postgres: PostgresResource = values[POSTGRES_KEY]
            for key in added:
                values.pop(key)
            check_job_settings(context)
            with ExitStack() as hold:
                try:
                    hold.enter_context(shared_maintenance_lock(postgres))
                except MaintenanceLockTimeout as error:
                    skip_step(context, error)
                    return
                run(context, *args, **values)

        body.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        return dg.op(
            name=name,
            ins={"after": dg.In(dg.Nothing)},
            out=dg.Out(dg.Nothing),
            **kwargs,
        )(body)

    return decorate
