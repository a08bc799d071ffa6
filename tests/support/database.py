"""A real PostgreSQL for tests: the server named by WST_PGSQL_*, else an embedded one under .local/."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.extensions

from dagstributor_shared.postgres import (
    ConnectionSettings,
    PostgresResource,
    embedded_server,
    socket_dir_of,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
TEST_PGDATA = REPO_ROOT / ".local" / "test-pgdata"


def worker_pgdata() -> Path:
    """The embedded server's data directory of this test process: one per pytest-xdist worker
    (PYTEST_XDIST_WORKER, gw0, gw1 ...), so parallel workers never share a server."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return TEST_PGDATA.with_name(f"{TEST_PGDATA.name}-{worker}") if worker else TEST_PGDATA


@dataclass(frozen=True)
class PgTestServer:
    """Where test databases are created; `settings.database` is the maintenance database."""

    __test__ = False

    settings: ConnectionSettings

    def connect(self, database: str | None = None) -> psycopg2.extensions.connection:
        target = replace(self.settings, database=database or self.settings.database)
        return psycopg2.connect(**target.connect_kwargs(connect_timeout=10))

    def resource(self, database: str, env_prefix: str = "WST_PGSQL") -> PostgresResource:
        s = self.settings
        return PostgresResource(
            env_prefix=env_prefix,
            host=s.host,
            port=s.port,
            database=database,
            username=s.username,
            password=s.password,
        )

    def environ(self, database: str, env_prefix: str = "AT_PGSQL") -> dict[str, str]:
        """The `<prefix>_*` variables a deployment would set to reach `database` on this server
        (the password only when the server has one)."""
        s = self.settings
        env = {
            f"{env_prefix}_HOST": s.host,
            f"{env_prefix}_PORT": str(s.port),
            f"{env_prefix}_DATABASE": database,
            f"{env_prefix}_USERNAME": s.username,
        }
        if s.password:
            env[f"{env_prefix}_PASSWORD"] = s.password
        return env

    def connection_settings(self, database: str) -> ConnectionSettings:
        return replace(self.settings, database=database)

    @contextmanager
    def connection(self, database: str | None = None) -> Iterator[psycopg2.extensions.connection]:
        """A connection to `database` (default: the maintenance database), closed afterwards."""
        connection = self.connect(database)
        try:
            yield connection
        finally:
            connection.close()

    def _admin(self, statement: str) -> None:
        """Run one statement that cannot run in a transaction on the maintenance database."""
        with self.connection() as admin:
            admin.autocommit = True
            with admin.cursor() as cursor:
                cursor.execute(statement)

    def terminate_sessions(self, database: str, keep: Sequence[int] = ()) -> int:
        """End every session of `database` (server side, as a restart or a failover would),
        except the backends in `keep`, and wait until they are gone; returns how many ended."""
        others = (
            " FROM pg_stat_activity WHERE datname = %s"
            " AND pid <> pg_backend_pid() AND pid <> ALL(%s)"
        )
        params = (database, list(keep))
        with self.connection() as admin:
            admin.autocommit = True
            with admin.cursor() as cursor:
                cursor.execute("SELECT count(pg_terminate_backend(pid))" + others, params)
                ended = cursor.fetchone()
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    cursor.execute("SELECT count(*)" + others, params)
                    if cursor.fetchone() == (0,):
                        break
                    time.sleep(0.01)
        return int(ended[0]) if ended else 0

    def create_database(self, template: str = "template0") -> str:
        """A new database, a copy of `template` (by default an empty one)."""
        name = f"dagstributor_test_{uuid.uuid4().hex[:12]}"
        self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return name

    def drop_database(self, name: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    @contextmanager
    def temporary_database(self, template: str = "template0") -> Iterator[str]:
        name = self.create_database(template)
        try:
            yield name
        finally:
            self.drop_database(name)


def server_from_environment() -> Any:
    """Settings of an external server when WST_PGSQL_HOST (or AT_PGSQL_HOST) is set, else None."""
    for prefix in ("WST_PGSQL", "AT_PGSQL"):
        host = os.environ.get(f"{prefix}_HOST") or os.environ.get(f"{prefix}_ENDPOINT")
        if host:
            return ConnectionSettings(
                host=host,
                port=int(os.environ.get(f"{prefix}_PORT") or 5432),
                database=os.environ.get(f"{prefix}_DATABASE") or "postgres",
                username=os.environ.get(f"{prefix}_USERNAME") or "postgres",
                password=os.environ.get(f"{prefix}_PASSWORD") or None,
                schema="atp",
                embedded=False,
            )
    return None


@contextmanager
def open_test_server() -> Iterator[PgTestServer]:
    external = server_from_environment()
    if external is not None:
        yield PgTestServer(external)
        return
    server = embedded_server(worker_pgdata(), cleanup_mode="stop")
    socket_dir = socket_dir_of(server)
    with server:
        yield PgTestServer(
            ConnectionSettings(
                host=socket_dir,
                port=5432,
                database="postgres",
                username="postgres",
                password=None,
                schema="atp",
                embedded=True,
            )
        )


def stop_embedded(pgdata: Path) -> bool:
    """Stop the embedded server of this data directory unless another process still holds it.

    Returns True when this call stopped it.
    """
    if not (pgdata / "postmaster.pid").is_file():
        return False
    server = embedded_server(pgdata)
    before = server.get_pid()
    server.cleanup_mode = "stop"
    server.cleanup()
    return before is not None and not (pgdata / "postmaster.pid").is_file()
