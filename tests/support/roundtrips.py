"""Count the database round trips a piece of code makes: a psycopg2 connection that counts.

Every message exchange with the server counts once: each `execute` (and `callproc`, `copy_*`),
each row of an `executemany` (psycopg2 sends them one by one), the implicit `BEGIN` psycopg2
sends before the first statement of a transaction, and each `commit`/`rollback` that has a
transaction to end. Fetching rows of an ordinary cursor costs nothing extra (they arrive with
the statement's answer).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg2
import psycopg2.extensions

from dagstributor_shared.postgres import ConnectionSettings


class CountingCursor(psycopg2.extensions.cursor):
    def _count(self, n: int = 1) -> None:
        connection = self.connection
        assert isinstance(connection, CountingConnection)
        connection.count_statement(n)

    def execute(self, query: Any, vars: Any = None) -> None:
        self._count()
        super().execute(query, vars)

    def executemany(self, query: Any, vars_list: Iterable[Any]) -> None:
        rows = list(vars_list)
        self._count(len(rows))
        super().executemany(query, rows)

    def callproc(self, procname: Any, parameters: Any = None) -> Any:
        self._count()
        return super().callproc(procname, parameters)

    def copy_expert(self, sql: Any, file: Any, size: int = 8192) -> None:
        self._count()
        super().copy_expert(sql, file, size)


class CountingConnection(psycopg2.extensions.connection):
    """A psycopg2 connection whose `round_trips` grows with every exchange with the server."""

    round_trips: int
    statements: int

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.round_trips = 0
        self.statements = 0

    def count_statement(self, n: int = 1) -> None:
        if (
            not self.autocommit
            and self.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_IDLE
        ):
            self.round_trips += 1  # the BEGIN psycopg2 sends first
        self.round_trips += n
        self.statements += n

    def _has_transaction(self) -> bool:
        return self.info.transaction_status != psycopg2.extensions.TRANSACTION_STATUS_IDLE

    def commit(self) -> None:
        if self._has_transaction():
            self.round_trips += 1
        super().commit()

    def rollback(self) -> None:
        if self._has_transaction():
            self.round_trips += 1
        super().rollback()

    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cursor_factory", CountingCursor)
        return super().cursor(*args, **kwargs)

    def reset_count(self) -> None:
        self.round_trips = 0
        self.statements = 0

    @contextmanager
    def counting(self) -> Iterator[RoundTrips]:
        """`with conn.counting() as trips: ...; trips.value` — the round trips of the block."""
        trips = RoundTrips(self, self.round_trips)
        yield trips
        trips.stop()


class RoundTrips:
    def __init__(self, connection: CountingConnection, start: int) -> None:
        self._connection = connection
        self._start = start
        self._end: int | None = None

    def stop(self) -> None:
        self._end = self._connection.round_trips

    @property
    def value(self) -> int:
        end = self._connection.round_trips if self._end is None else self._end
        return end - self._start


def connect_counting(settings: ConnectionSettings) -> CountingConnection:
    """A counting connection to the database these settings name."""
    connection = psycopg2.connect(
        **settings.connect_kwargs(connect_timeout=10), connection_factory=CountingConnection
    )
    assert isinstance(connection, CountingConnection)
    return connection
