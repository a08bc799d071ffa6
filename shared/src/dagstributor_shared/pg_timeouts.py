"""Bounded, interruptible waits on PostgreSQL for every connection `PostgresResource` opens.

Three layers, because a connection can go silent in different ways:

- TCP keepalives and `tcp_user_timeout` (`<PREFIX>_TCP_TIMEOUT`, default 30 s): a peer whose
  network or host is gone is noticed by the kernel, idle or not.
- A server-side `statement_timeout` (`<PREFIX>_STATEMENT_TIMEOUT`, default 45 s, 0 = none): a
  statement that runs too long is cancelled by the server, with PostgreSQL's own clear error.
- A client-side reply deadline of statement timeout + reply grace (REPLY_GRACE = 10 s; a
  `reply_grace` field of the resource for tests that must not wait it out): a server (or anything in between, like a proxy) that keeps the
  TCP connection open but never answers can beat both of the above; past the deadline the wait
  gives up with DatabaseNotAnswering and the connection is closed. Default: 45 + 10 = 55 s,
  within a minute.

The server ends what its client left behind on its own, as options of every session: an open
transaction idle for `<PREFIX>_IDLE_TIMEOUT` (default 30 s; its row locks with it:
`idle_in_transaction_session_timeout`), a dead peer found by the server's own keepalives
(`tcp_keepalives_*`, the same timing as the client's) and a client gone during a long query
(`client_connection_check_interval`). A session that must stay idle and keep a lock (the
maintenance lock's) also sets `idle_session_timeout` and sends a heartbeat (maintenance.py), so a
silent path frees the lock within about `<PREFIX>_IDLE_TIMEOUT` too.

The waits run in Python (psycopg2's wait callback, `install_interruptible_wait`), not inside
libpq, so a signal reaches the run while it waits for the server: Dagster turns a run's SIGTERM
(termination from the UI, a pod being stopped) into an exception in the main thread, which ends
the wait at once; the statement is cancelled on the server (at most CANCEL_WAIT seconds are spent
asking) and the connection is closed.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg2
import psycopg2.extensions

from dagstributor_shared.settings import SettingsError, number_setting

STATEMENT_TIMEOUT_SUFFIX = "STATEMENT_TIMEOUT"
TCP_TIMEOUT_SUFFIX = "TCP_TIMEOUT"
IDLE_TIMEOUT_SUFFIX = "IDLE_TIMEOUT"
DEFAULT_IDLE_TIMEOUT = 30.0
CONNECTION_CHECK_MS = 5000
DEFAULT_STATEMENT_TIMEOUT = 45.0
DEFAULT_TCP_TIMEOUT = 30
REPLY_GRACE = 10.0
CANCEL_WAIT = 2.0
_CONNECT_TIMEOUT = re.compile(r"(?:^|\s)connect_timeout=(\d+)")


class TimeoutSettingsError(SettingsError):
    """A timeout variable is not a number in range; names the variable, never another value."""


class DatabaseNotAnswering(psycopg2.OperationalError):
    """The server sent nothing back within the reply deadline; the connection was closed."""


@dataclass(frozen=True)
class TimeoutSettings:
    statement_timeout: float  # seconds; 0 = no limit (and no client-side reply deadline)
    tcp_timeout: int  # seconds until a dead TCP peer is noticed
    reply_grace: float = REPLY_GRACE  # seconds the reply may take beyond the statement timeout
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT  # seconds the server keeps an idle transaction

    @property
    def reply_timeout(self) -> float | None:
        return self.statement_timeout + self.reply_grace if self.statement_timeout > 0 else None

    def connect_kwargs(self) -> dict[str, Any]:
        """libpq options: keepalive probes that give up after about tcp_timeout, the same bound
        for unacknowledged data, and the statement timeout (ignored on Unix sockets: TCP only)."""
        idle = max(1, self.tcp_timeout // 3)
        interval = max(1, (self.tcp_timeout - idle) // 4)
        server = {
            "statement_timeout": round(self.statement_timeout * 1000),
            "idle_in_transaction_session_timeout": round(self.idle_timeout * 1000),
            "tcp_keepalives_idle": idle,
            "tcp_keepalives_interval": interval,
            "tcp_keepalives_count": 4,
            "client_connection_check_interval": CONNECTION_CHECK_MS,
        }
        return {
            "keepalives": 1,
            "keepalives_idle": idle,
            "keepalives_interval": interval,
            "keepalives_count": 4,
            "tcp_user_timeout": self.tcp_timeout * 1000,
            "options": " ".join(f"-c {name}={value}" for name, value in server.items()),
        }


def timeout_settings(
    prefix: str,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> TimeoutSettings:
    """`<prefix>_STATEMENT_TIMEOUT` and `<prefix>_TCP_TIMEOUT` (seconds), explicit values first;
    the reply grace only as an explicit value (`reply_grace`), else REPLY_GRACE."""
    env = os.environ if environ is None else environ
    given = overrides or {}
    problems: list[str] = []

    def number(suffix: str, field: str, default: float, minimum: float) -> float:
        var = f"{prefix}_{suffix}"
        try:
            return number_setting(given.get(field), var, default, minimum, environ=env)
        except SettingsError:
            problems.append(f"{var} must be a number of seconds >= {minimum:g}")
            return default

    statement = number(STATEMENT_TIMEOUT_SUFFIX, "statement_timeout", DEFAULT_STATEMENT_TIMEOUT, 0)
    tcp = number(TCP_TIMEOUT_SUFFIX, "tcp_timeout", DEFAULT_TCP_TIMEOUT, 1)
    idle = number(IDLE_TIMEOUT_SUFFIX, "idle_timeout", DEFAULT_IDLE_TIMEOUT, 1)
    grace = REPLY_GRACE if given.get("reply_grace") is None else float(given["reply_grace"])
    if problems:
        raise TimeoutSettingsError("; ".join(problems))
    return TimeoutSettings(
        statement_timeout=statement, tcp_timeout=int(tcp), reply_grace=grace, idle_timeout=idle
    )


class GuardedConnection(psycopg2.extensions.connection):
    """A connection that carries its reply deadline (seconds, None = unbounded), the grace that
    deadline allows beyond the statement timeout, and the idle timeout its server applies
    (seconds; None = the server's defaults)."""

    reply_timeout: float | None = None
    reply_grace: float = REPLY_GRACE
    idle_timeout: float | None = None


@contextmanager
def patience(connection: psycopg2.extensions.connection, seconds: float | None) -> Iterator[None]:
    """For a statement that may rightly wait longer than the statement timeout (a lock wait):
    raise the server's limit for the current transaction and the reply deadline to match
    (`seconds=None`: no limit). Must run inside a transaction (SET LOCAL)."""
    grace = getattr(connection, "reply_grace", REPLY_GRACE)
    milliseconds = 0 if seconds is None else round((seconds + grace / 2) * 1000)
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('statement_timeout', %s, true)", (f"{milliseconds}ms",))
    had = hasattr(connection, "reply_timeout")
    previous = getattr(connection, "reply_timeout", None)
    if had:
        connection.reply_timeout = None if seconds is None else seconds + grace  # type: ignore[attr-defined]
    try:
        yield
    finally:
        if had:
            connection.reply_timeout = previous  # type: ignore[attr-defined]


def _cancel_quietly(connection: psycopg2.extensions.connection) -> None:
    """Ask the server to stop this connection's statement, spending at most CANCEL_WAIT seconds.

    Through pg_cancel_backend on a second connection, made in a thread: psycopg2's own
    `cancel()` holds the GIL while libpq waits for the server, which would freeze the process
    when the server does not answer.
    """
    try:
        pid = connection.get_backend_pid()
        params = connection.get_dsn_parameters()
        password = connection.info.password
    except psycopg2.Error:
        return
    keys = ("host", "port", "dbname", "user", "sslmode")
    kwargs: dict[str, Any] = {k: params[k] for k in keys if params.get(k)}
    if password:
        kwargs["password"] = password

    def cancel() -> None:
        with contextlib.suppress(Exception):  # best effort: the connection is abandoned anyway
            other = psycopg2.connect(
                **kwargs,
                connect_timeout=max(1, round(CANCEL_WAIT)),
                application_name="dagstributor-cancel",
                connection_factory=GuardedConnection,
            )
            try:
                other.reply_timeout = CANCEL_WAIT
                other.autocommit = True
                with other.cursor() as cursor:
                    cursor.execute("SELECT pg_cancel_backend(%s)", (pid,))
            finally:
                other.close()

    asker = threading.Thread(target=cancel, name="pg-cancel", daemon=True)
    asker.start()
    asker.join(CANCEL_WAIT + 1)


def _limit(connection: psycopg2.extensions.connection) -> float | None:
    if connection.status == psycopg2.extensions.STATUS_SETUP:
        found = _CONNECT_TIMEOUT.search(connection.dsn or "")
        return float(found.group(1)) if found and int(found.group(1)) > 0 else None
    return getattr(connection, "reply_timeout", None)


def wait_interruptibly(connection: psycopg2.extensions.connection) -> None:
    """psycopg2's wait callback: wait for the server in Python, within the reply deadline."""
    limit = _limit(connection)
    deadline = None if limit is None else time.monotonic() + limit
    try:
        while True:
            state = connection.poll()
            if state == psycopg2.extensions.POLL_OK:
                return
            step = 1.0
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:  # no cancel: whatever is not answering would not hear it
                    raise DatabaseNotAnswering(
                        f"PostgreSQL sent no answer within {limit:g} s (statement timeout plus "
                        f"{getattr(connection, 'reply_grace', REPLY_GRACE):g} s): the server or "
                        "the network to it is not responding; "
                        "the connection was closed"
                    )
                step = min(step, remaining)
            if state == psycopg2.extensions.POLL_READ:
                select.select([connection.fileno()], [], [], step)
            elif state == psycopg2.extensions.POLL_WRITE:
                select.select([], [connection.fileno()], [], step)
            else:
                raise psycopg2.OperationalError(f"bad state from poll: {state}")
    except DatabaseNotAnswering:
        raise
    except psycopg2.Error:
        raise
    except BaseException:
        # An interrupt (Dagster raises one in the main thread on SIGTERM/SIGINT): stop the
        # statement on the server too, then let the interrupt end the run.
        _cancel_quietly(connection)
        raise


def install_interruptible_wait() -> None:
    """Make every psycopg2 connection of this process wait through `wait_interruptibly`."""
    if psycopg2.extensions.get_wait_callback() is not wait_interruptibly:
        psycopg2.extensions.set_wait_callback(wait_interruptibly)
