"""Create the `atp` schema in a test database exactly as the schema location does."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2.extensions

from dagstributor_shared.sql import SqlFileResult
from tests.support.database import PgTestServer
from wiring_schema_tics.schema import instantiate


def instantiate_atp(connection: psycopg2.extensions.connection) -> list[SqlFileResult]:
    """Run the location's DDL files 01 -> 02 -> 03 -> 10 on this connection's database."""
    return instantiate(connection)


def create_atp(server: PgTestServer, database: str) -> None:
    """Instantiate schema `atp` in `database` on a connection of its own."""
    with server.connection(database) as connection:
        instantiate_atp(connection)


@contextmanager
def temporary_atp_database(server: PgTestServer) -> Iterator[str]:
    """A fresh database with schema `atp`, dropped afterwards (benchmarks; tests use the
    `atp_database` fixture)."""
    with server.temporary_database() as name:
        create_atp(server, name)
        yield name
