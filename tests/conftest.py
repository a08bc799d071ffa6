"""Fixtures every test folder shares: a real PostgreSQL server and fresh databases on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2.extensions
import pytest

from dagstributor_shared.postgres import PostgresResource
from scripts.transmission_daemon import binary as transmission_binary
from tests.support.database import PgTestServer, open_test_server
from tests.support.http import FakeHttpServer, fake_http_server
from tests.support.requirements import pytest_terminal_summary, require
from tests.support.transmission import Daemon, transmission_daemon
from tests.support.webhook import Webhook, json_webhook
from tests.support.webseed import WebSeed, web_seed

__all__ = ["pytest_terminal_summary"]  # the one summary line of missing Debian packages


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


@pytest.fixture(scope="session")
def atp_template(pg_server: PgTestServer) -> Iterator[str]:
    """A database with schema `atp` instantiated once by the schema location's DDL files: the
    template every `atp_database` is copied from (one CREATE DATABASE ... TEMPLATE per test)."""
    from tests.support.atp import temporary_atp_database

    with temporary_atp_database(pg_server) as name:
        yield name


@pytest.fixture
def atp_database(pg_server: PgTestServer, atp_template: str) -> Iterator[str]:
    """A fresh database of its own holding schema `atp` (a copy of `atp_template`)."""
    with pg_server.temporary_database(template=atp_template) as name:
        yield name


@pytest.fixture
def fresh_connection(
    pg_server: PgTestServer, fresh_database: str
) -> Iterator[psycopg2.extensions.connection]:
    """A plain connection to the test's fresh database, closed afterwards."""
    with pg_server.connection(fresh_database) as connection:
        yield connection


@pytest.fixture
def atp_connection(
    pg_server: PgTestServer, atp_database: str
) -> Iterator[psycopg2.extensions.connection]:
    """A plain connection to the test's database holding schema `atp`, closed afterwards."""
    with pg_server.connection(atp_database) as connection:
        yield connection


@pytest.fixture
def postgres(pg_server: PgTestServer, atp_database: str) -> PostgresResource:
    """The pipeline's PostgreSQL resource pointing at the test database."""
    return pg_server.resource(atp_database, env_prefix="AT_PGSQL")


@pytest.fixture(scope="session")
def transmission_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """The one private transmission-daemon on 127.0.0.1 of this test process (`transmission`
    hands it to each test clean); skipped where it is not installed (a failure under CI)."""
    require("transmission-daemon", transmission_binary() is not None, "transmission-daemon")
    with transmission_daemon(tmp_path_factory.mktemp("transmission")) as daemon:
        yield daemon


@pytest.fixture
def transmission(transmission_session: Daemon, tmp_path: Path) -> Iterator[Daemon]:
    """A private transmission-daemon on 127.0.0.1, clean for this test: no torrent, downloads
    under tmp_path/daemon; the test's torrents are removed with their data afterwards."""
    transmission_session.reset(tmp_path / "daemon")
    yield transmission_session
    transmission_session.clear()


@pytest.fixture
def seed(tmp_path: Path) -> Iterator[WebSeed]:
    """A byte-range web seed on 127.0.0.1 serving tmp_path/seed and the test torrents."""
    with web_seed(tmp_path / "seed") as server:
        yield server


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    """A JSON webhook on 127.0.0.1; `webhook.apprise_url` is the AT_NOTIFY_URLS value for it."""
    with json_webhook() as hook:
        yield hook


# pytest-xdist (`-n auto`, pyproject addopts) hands each worker whole files, so a module-scoped
# fixture is built once; these files share the session's local stack and go to one worker too.
SHARED_SCOPES = {
    "tests/integration/test_code_servers.py": "local_stack",
    "tests/integration/test_ui_browser.py": "local_stack",
    "tests/integration/test_maintenance_wait_once.py": "local_stack",
}


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadfile` with SHARED_SCOPES merged (xdist's `loadgroup` marks do not reach its
    scheduler under pytest 9, which ignores the node id suffix they set)."""
    from xdist.scheduler import LoadScopeScheduling

    class SharedFixtureScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return SHARED_SCOPES.get(path, path)

    return SharedFixtureScheduling(config, log)


# Files that start the longest-running processes (stacks, code servers, environments): first, so
# the workers finish together instead of one waiting for the other's last stack.
FIRST = ("tests/integration/", "tests/deploy/test_location_independence.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow files first (FIRST); among them, the test that stops the session's local stack
    (`stops_local_stack`) after every other user of it (in one process, or on the one worker
    of SHARED_SCOPES), so the stack runs only as long as it is needed."""
    items.sort(
        key=lambda item: (
            not item.nodeid.startswith(FIRST),
            item.get_closest_marker("stops_local_stack") is not None,
        )
    )
