"""How the stores use a connection's transactions (one rule for every store).

A read ends the transaction it opened (a connection is never left idle in transaction) but leaves
a transaction the caller had already opened alone; a write commits.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg2.extensions
from psycopg2 import sql


@contextmanager
def transaction_cursor(
    connection: psycopg2.extensions.connection, *, commit: bool
) -> Iterator[psycopg2.extensions.cursor]:
    """A cursor in a transaction: committed when `commit` or when this call opened it."""
    opened = connection.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_IDLE
    try:
        with connection.cursor() as cursor:
            yield cursor
    except BaseException:
        # A connection the server ended cannot roll back: its transaction is gone already,
        # and trying would replace the real error with "connection already closed".
        if opened and not connection.closed:
            connection.rollback()
        raise
    if commit or opened:
        connection.commit()


def fetch_rows(
    connection: psycopg2.extensions.connection,
    query: sql.Composable,
    params: Sequence[object] | None = None,
    *,
    commit: bool,
) -> list[tuple[Any, ...]]:
    """Every row of one read. `commit`: end the transaction after it (a lone read never leaves the
    connection idle in transaction); False inside a caller's transaction (the operator jobs lock
    rows, then change them, in one)."""
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        found = list(cursor.fetchall())
    if commit:
        connection.commit()
    return found
