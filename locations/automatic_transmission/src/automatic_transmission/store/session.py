"""How the stores use a connection's transactions (one rule for `MediaStore` and `TrainingStore`).

A read ends the transaction it opened (a connection is never left idle in transaction) but leaves
a transaction the caller had already opened alone; a write commits.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2.extensions


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
