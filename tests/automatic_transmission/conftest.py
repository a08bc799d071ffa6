"""Fixtures of the pipeline tests: a counting connection, the store, rows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from typing import Any

import psycopg2.extensions
import pytest
from psycopg2 import sql

from automatic_transmission.store import MediaStore
from dagstributor_shared.maintenance import maintenance_exclusive
from tests.support.database import PgTestServer
from tests.support.roundtrips import CountingConnection, connect_counting


class MediaTable:
    """Arrange and inspect `atp.media` rows directly (tests only; the pipeline uses the store)."""

    def __init__(self, connection: CountingConnection) -> None:
        self.connection = connection

    def add(self, hash: str, **columns: Any) -> None:
        values = {
            "hash": hash,
            "media_type": "movie",
            "original_title": f"Title of {hash[:8]}",
            **columns,
        }
        query = sql.SQL("INSERT INTO atp.media ({}) VALUES ({})").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in values),
            sql.SQL(", ").join(sql.Placeholder() for _ in values),
        )
        with self.connection.cursor() as cursor:
            cursor.execute(query, [str(v) if hasattr(v, "value") else v for v in values.values()])
        self.connection.commit()

    def update(self, hash: str, **columns: Any) -> None:
        query = sql.SQL("UPDATE atp.media SET {} WHERE hash = %s").format(
            sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(c)) for c in columns)
        )
        with self.connection.cursor() as cursor:
            cursor.execute(query, [*columns.values(), hash])
        self.connection.commit()

    def row(self, hash: str) -> dict[str, Any]:
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT * FROM atp.media WHERE hash = %s", (hash,))
            record = cursor.fetchone()
            assert record is not None, f"no row {hash}"
            names = [d.name for d in cursor.description or ()]
        self.connection.commit()
        values = dict(zip(names, record, strict=True))
        values["hash"] = values["hash"].strip()
        return values

    def hashes(self) -> list[str]:
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT hash FROM atp.media ORDER BY hash")
            found = [r[0].strip() for r in cursor.fetchall()]
        self.connection.commit()
        return found

    def count(self) -> int:
        return len(self.hashes())


@pytest.fixture
def db_connection(pg_server: PgTestServer, atp_database: str) -> Iterator[CountingConnection]:
    """A round-trip-counting connection to a fresh database with schema `atp`."""
    with closing(connect_counting(pg_server.connection_settings(atp_database))) as connection:
        yield connection


@pytest.fixture
def store(db_connection: CountingConnection) -> MediaStore:
    return MediaStore(db_connection)


@pytest.fixture
def media(pg_server: PgTestServer, atp_database: str) -> Iterator[MediaTable]:
    """Direct access to `atp.media` on a connection of its own (not counted with the store's)."""
    with closing(connect_counting(pg_server.connection_settings(atp_database))) as connection:
        yield MediaTable(connection)


# How long a step or operator job waits for the schema job in the tests that hold the lock.
SHORT_MAINTENANCE_WAIT = 0.3


@pytest.fixture
def schema_job(
    monkeypatch: pytest.MonkeyPatch, pg_server: PgTestServer, atp_database: str
) -> Iterator[psycopg2.extensions.connection]:
    """The session of a schema job, holding the maintenance lock exclusively during the test;
    steps and operator jobs wait SHORT_MAINTENANCE_WAIT seconds for it (AT_MAINTENANCE_WAIT)."""
    monkeypatch.setenv("AT_MAINTENANCE_WAIT", str(SHORT_MAINTENANCE_WAIT))
    with pg_server.connection(atp_database) as job, maintenance_exclusive(job, wait_seconds=5):
        yield job
