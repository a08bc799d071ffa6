"""Fixtures for the schema location's tests: seeded rows and a job runner (`atp_connection` is
in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dagster as dg
import psycopg2.extensions
import pytest

from tests.support.database import PgTestServer
from tests.wiring_schema_tics.support import SEED_SQL, execute
from wiring_schema_tics.jobs import build_jobs, build_resources

JOBS = build_jobs()

RunJob = Callable[..., dg.ExecuteInProcessResult]


@pytest.fixture
def seeded(atp_connection: psycopg2.extensions.connection) -> psycopg2.extensions.connection:
    """The connection to an `atp` database holding the seed rows."""
    execute(atp_connection, SEED_SQL)
    return atp_connection


@pytest.fixture
def run_job(pg_server: PgTestServer, atp_database: str) -> RunJob:
    """Run one of the six jobs in process on the test database; failures are returned."""

    def run(name: str, run_config: dict[str, Any] | None = None) -> dg.ExecuteInProcessResult:
        return JOBS[name].execute_in_process(
            run_config=run_config or {},
            resources=build_resources(pg_server.resource(atp_database)),
            raise_on_error=False,
        )

    return run
