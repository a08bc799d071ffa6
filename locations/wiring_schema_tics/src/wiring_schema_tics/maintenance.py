"""The run-long hold of the database's maintenance lock by the schema jobs that change `atp`.

A job tagged MAINTENANCE_TAG takes the lock exclusively when its run starts (waiting for the
pipeline steps that hold it shared, at most `wait_seconds`) and keeps it on a connection of its
own until the run ends, so no step runs between its ops. Other jobs (the backup, the connection
test) hold nothing: a backup reads one snapshot and the pipeline may go on meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dagster as dg
from pydantic import Field, PrivateAttr

from dagstributor_shared.maintenance import ensure_held, maintenance_exclusive
from dagstributor_shared.postgres import PostgresResource

MAINTENANCE_TAG_KEY = "dagstributor/maintenance"
MAINTENANCE_TAG: dict[str, str] = {MAINTENANCE_TAG_KEY: "exclusive"}
DEFAULT_WAIT_SECONDS = 600.0


class SchemaMaintenanceResource(dg.ConfigurableResource):
    """Holds the maintenance lock for the whole run of a job tagged MAINTENANCE_TAG."""

    postgres: PostgresResource
    wait_seconds: float = Field(
        default=DEFAULT_WAIT_SECONDS,
        ge=0,
        description="how long a schema job waits for running pipeline steps before it fails",
    )

    _connection: Any = PrivateAttr(default=None)

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[Any]:
        run = context.run
        if run is None or run.tags.get(MAINTENANCE_TAG_KEY) != MAINTENANCE_TAG[MAINTENANCE_TAG_KEY]:
            yield self
            return
        with self.postgres.connect() as connection:
            if context.log is not None:
                context.log.info("taking the maintenance lock (waiting for running steps)")
            with maintenance_exclusive(connection, self.wait_seconds):
                self._connection = connection
                try:
                    yield self
                finally:
                    self._connection = None

    @property
    def held(self) -> bool:
        return self._connection is not None

    def ensure_held(self) -> None:
        """Before a step that changes the schema: the lock is still ours (no-op for other jobs)."""
        if self._connection is not None:
            ensure_held(self._connection, exclusive=True)
