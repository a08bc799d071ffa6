"""Fixtures every test folder shares: a real PostgreSQL server and fresh databases on it."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg2.extensions
import pytest

from dagstributor_shared.postgres import PostgresResource
from tests.support.database import PgTestServer, open_test_server
from tests.support.http import FakeHttpServer, fake_http_server
from tests.support.webhook import Webhook, json_webhook


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgTestServer]:
    with open_test_server() as server:
        yield server


@pytest.fixture
def fresh_database(pg_server: PgTestServer) -> Iterator[str]:
    """An empty database of its own for one test, dropped afterwards."""
    with pg_server.temporary_database() as name:
        yield name


@pytest.fixture
def http_server() -> Iterator[FakeHttpServer]:
    """A fresh HTTP server on 127.0.0.1 for one test; add routes with `.route()` / `.queue()`."""
    with fake_http_server() as server:
        yield server


@pytest.fixture
def atp_database(pg_server: PgTestServer, fresh_database: str) -> str:
    """A fresh database with schema `atp` instantiated by the schema location's DDL files."""
    from tests.support.atp import create_atp

    create_atp(pg_server, fresh_database)
    return fresh_database


@pytest.fixture
def fresh_connection(
    pg_server: PgTestServer, fresh_database: str
) -> Iterator[psycopg2.extensions.connection]:
    """A plain connection to the test's fresh database, closed afterwards."""
    with pg_server.connection(fresh_database) as connection:
        yield connection


@pytest.fixture
def atp_connection(
    atp_database: str, fresh_connection: psycopg2.extensions.connection
) -> psycopg2.extensions.connection:
    """A plain connection to the test's database once it holds schema `atp` (`atp_database` is
    the test's fresh database), closed afterwards."""
    return fresh_connection


@pytest.fixture
def postgres(pg_server: PgTestServer, atp_database: str) -> PostgresResource:
    """The pipeline's PostgreSQL resource pointing at the test database."""
    return pg_server.resource(atp_database, env_prefix="AT_PGSQL")


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    """A JSON webhook on 127.0.0.1; `webhook.apprise_url` is the AT_NOTIFY_URLS value for it."""
    with json_webhook() as hook:
        yield hook
