"""The pipeline's share of the database's maintenance lock (dagstributor_shared.maintenance).

Every pipeline step (and operator job) holds the lock shared, on a connection of its own that
stays idle while the work runs on its own connections, up to its last commit; the schema jobs of
wiring_schema_tics hold it exclusively. So a schema job waits for running steps, and a step that
starts during maintenance waits at most AT_MAINTENANCE_WAIT seconds and then gives up before
touching a row, with a message naming the holder: it never fails half-way through.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from automatic_transmission.resources import maintenance_wait_seconds
from dagstributor_shared.maintenance import maintenance_shared
from dagstributor_shared.postgres import PostgresResource


@contextmanager
def shared_maintenance_lock(postgres: PostgresResource) -> Iterator[None]:
    """Hold the maintenance lock shared while the body runs (on a connection of its own);
    raises MaintenanceLockTimeout, before the body starts, when a schema job keeps it longer
    than AT_MAINTENANCE_WAIT."""
    wait = maintenance_wait_seconds()  # a bad value fails here, naming the variable
    with postgres.connect() as connection, maintenance_shared(connection, wait_seconds=wait):
        yield
