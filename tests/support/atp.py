"""Create the `atp` schema in a test database exactly as the schema location does."""

from __future__ import annotations

import psycopg2.extensions

from dagstributor_shared.sql import SqlFileResult
from wiring_schema_tics.schema import instantiate


def instantiate_atp(connection: psycopg2.extensions.connection) -> list[SqlFileResult]:
    """Run the location's DDL files 01 -> 02 -> 03 -> 10 on this connection's database."""
    return instantiate(connection)
