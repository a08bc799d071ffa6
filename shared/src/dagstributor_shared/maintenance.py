"""The database-wide maintenance lock: schema jobs hold it exclusively, pipeline steps shared.

It is a PostgreSQL session-level advisory lock, so it works across processes and pods and the
server releases it when the session ends (a run that dies, a pod that is killed, a connection
cut off: keepalives and `tcp_user_timeout` bound how long a dead peer keeps it). Advisory locks
are scoped to the current database, so each database has its own maintenance lock.

PostgreSQL queues a new shared request behind a waiting exclusive one, so a schema job waiting
for running steps is not starved by steps that start after it.

Hold the lock on a connection that stays open for the whole protected work (a dedicated one is
simplest: session-level advisory locks ignore COMMIT and ROLLBACK, but die with the session).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg2
import psycopg2.errors
import psycopg2.extensions

from dagstributor_shared.pg_timeouts import patience

# pg_advisory_lock(int4, int4): ('DGST', 1). The two-key form lives apart from single bigint keys.
LOCK_CLASS = 0x44475354
LOCK_OBJECT = 1
DEFAULT_SHARED_WAIT_SECONDS = 30.0


class MaintenanceLockTimeout(RuntimeError):
    """The maintenance lock could not be taken in time; says who holds it."""

    def __init__(self, mode: str, waited: float, holders: list[LockHolder]) -> None:
        self.mode = mode
        self.waited = waited
        self.holders = holders
        held_by = "; ".join(h.describe() for h in holders) or "a session that has since ended"
        if mode == "shared":
            what = "database maintenance (a schema job) is in progress"
        else:
            what = "other work holds the maintenance lock (pipeline steps or another schema job)"
        super().__init__(
            f"{what}: could not take the {mode} maintenance lock within {waited:g} s; held by "
            f"{held_by}"
        )


class MaintenanceLockLost(RuntimeError):
    """The session holding the lock is gone, so the protection is gone too."""


@dataclass(frozen=True)
class LockHolder:
    pid: int
    mode: str  # "exclusive" or "shared"
    application_name: str
    client: str
    since: str

    def describe(self) -> str:
        app = self.application_name or "unnamed"
        return f"{self.mode} by backend {self.pid} ({app} from {self.client}, since {self.since})"


def lock_holders(connection: psycopg2.extensions.connection) -> list[LockHolder]:
    """Sessions of this database that hold the maintenance lock now (not the waiting ones)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT l.pid, l.mode, coalesce(a.application_name, ''),"
            " coalesce(host(a.client_addr), 'local socket'),"
            " coalesce(date_trunc('second', a.state_change)::text, '?')"
            " FROM pg_catalog.pg_locks AS l"
            " LEFT JOIN pg_catalog.pg_stat_activity AS a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted"
            " AND l.database = (SELECT oid FROM pg_catalog.pg_database"
            "                   WHERE datname = current_database())"
            " AND l.classid = %s AND l.objid = %s AND l.objsubid = 2 ORDER BY l.pid",
            (LOCK_CLASS, LOCK_OBJECT),
        )
        rows = cursor.fetchall()
    return [
        LockHolder(
            pid=int(pid),
            mode="exclusive" if mode == "ExclusiveLock" else "shared",
            application_name=str(app),
            client=str(client),
            since=str(since),
        )
        for pid, mode, app, client, since in rows
    ]


def _autocommit(connection: psycopg2.extensions.connection) -> bool:
    if connection.info.transaction_status != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
        raise RuntimeError(
            "take the maintenance lock outside a transaction (commit or roll back first): "
            "work done before it would not be protected"
        )
    previous = bool(connection.autocommit)
    connection.autocommit = True
    return previous


def acquire(
    connection: psycopg2.extensions.connection, *, exclusive: bool, wait_seconds: float | None
) -> None:
    """Take the lock on this session; `wait_seconds=None` waits as long as it takes, 0 not at all.

    Raises MaintenanceLockTimeout (naming the holders) when the wait runs out.
    """
    mode = "exclusive" if exclusive else "shared"
    suffix = "" if exclusive else "_shared"
    previous = _autocommit(connection)
    try:
        with connection.cursor() as cursor:
            if wait_seconds is not None and wait_seconds <= 0:
                cursor.execute(
                    f"SELECT pg_try_advisory_lock{suffix}(%s, %s)", (LOCK_CLASS, LOCK_OBJECT)
                )
                row = cursor.fetchone()
                if not (row and row[0]):
                    raise MaintenanceLockTimeout(mode, 0, lock_holders(connection))
                return
            # lock_timeout bounds the wait inside the server, so the wait is in the queue (no
            # polling, no starvation); 0 means no limit. Set for this statement's transaction only.
            timeout_ms = 0 if wait_seconds is None else max(1, math.ceil(wait_seconds * 1000))
            cursor.execute("BEGIN")
            try:
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", (f"{timeout_ms}ms",))
                with patience(connection, wait_seconds):
                    cursor.execute(
                        f"SELECT pg_advisory_lock{suffix}(%s, %s)", (LOCK_CLASS, LOCK_OBJECT)
                    )
                cursor.execute("COMMIT")
            except psycopg2.errors.LockNotAvailable:
                cursor.execute("ROLLBACK")
                raise MaintenanceLockTimeout(
                    mode, wait_seconds or 0, lock_holders(connection)
                ) from None
            except BaseException:
                if not connection.closed:
                    cursor.execute("ROLLBACK")
                raise
    finally:
        if not connection.closed:
            connection.autocommit = previous


def release(connection: psycopg2.extensions.connection, *, exclusive: bool) -> None:
    """Give the lock back; a closed or broken session has already lost it (nothing to do)."""
    if connection.closed:
        return
    suffix = "" if exclusive else "_shared"
    try:
        previous = _autocommit(connection)
    except RuntimeError:
        connection.rollback()  # an unfinished transaction of the protected work: not ours to keep
        previous = _autocommit(connection)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT pg_advisory_unlock{suffix}(%s, %s)", (LOCK_CLASS, LOCK_OBJECT))
    except psycopg2.OperationalError:
        pass  # the session is gone and the server dropped the lock with it
    finally:
        if not connection.closed:
            connection.autocommit = previous


def ensure_held(connection: psycopg2.extensions.connection, *, exclusive: bool) -> None:
    """Raise MaintenanceLockLost unless this session still holds the lock in that mode."""
    mode = "ExclusiveLock" if exclusive else "ShareLock"
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT EXISTS (SELECT FROM pg_catalog.pg_locks WHERE locktype = 'advisory'"
                " AND pid = pg_backend_pid() AND granted AND mode = %s"
                " AND classid = %s AND objid = %s AND objsubid = 2)",
                (mode, LOCK_CLASS, LOCK_OBJECT),
            )
            row = cursor.fetchone()
        if connection.info.transaction_status != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
            connection.rollback()
    except psycopg2.OperationalError as error:
        raise MaintenanceLockLost(
            f"the session holding the maintenance lock is gone: {error}".strip()
        ) from error
    if not (row and row[0]):
        raise MaintenanceLockLost("this session no longer holds the maintenance lock")


@contextmanager
def kept_alive(connection: psycopg2.extensions.connection) -> Iterator[None]:
    """While the body runs, the lock's idle session tells the server it is still wanted: the
    session sets `idle_session_timeout` to the connection's idle timeout and a heartbeat thread
    sends `SELECT 1` every third of it. A client gone, or a path gone silent, stops the
    heartbeat, and the server ends the session (and drops the lock) within the idle timeout
    instead of keeping it for as long as TCP holds. Nothing to do for a connection without an
    idle timeout (not opened by PostgresResource)."""
    idle = getattr(connection, "idle_timeout", None)
    if not idle:
        yield
        return

    def say(statement: str, *params: object) -> None:
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
        if not connection.autocommit:
            connection.commit()  # never an idle transaction: that has its own, shorter end

    say("SELECT set_config('idle_session_timeout', %s, false)", f"{round(idle * 1000)}ms")
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(idle / 3):
            try:
                say("SELECT 1")
            except psycopg2.Error:
                return  # the session is gone: the server dropped the lock with it

    thread = threading.Thread(target=beat, name="maintenance-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=1.0)


@contextmanager
def maintenance_exclusive(
    connection: psycopg2.extensions.connection, wait_seconds: float | None = None
) -> Iterator[None]:
    """Hold the lock alone (schema jobs): waits for running steps, keeps new ones out."""
    acquire(connection, exclusive=True, wait_seconds=wait_seconds)
    try:
        with kept_alive(connection):
            yield
    finally:
        release(connection, exclusive=True)


@contextmanager
def maintenance_shared(
    connection: psycopg2.extensions.connection,
    wait_seconds: float | None = DEFAULT_SHARED_WAIT_SECONDS,
) -> Iterator[None]:
    """Hold the lock beside other steps (pipeline steps); raises MaintenanceLockTimeout when a
    schema job keeps it longer than `wait_seconds` — the step then skips this run."""
    acquire(connection, exclusive=False, wait_seconds=wait_seconds)
    try:
        with kept_alive(connection):
            yield
    finally:
        release(connection, exclusive=False)
