"""The PostgreSQL resource: a configured server, or the embedded one on a workstation."""

from __future__ import annotations

import atexit
import os
import sys
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg2
import psycopg2.extensions
from pydantic import Field, PrivateAttr

from dagstributor_shared.environment import in_kubernetes
from dagstributor_shared.pg_timeouts import (
    GuardedConnection,
    install_interruptible_wait,
    timeout_settings,
)
from dagstributor_shared.settings import SettingsError, setting

EMBEDDED_PGDATA_VAR = "DAGSTRIBUTOR_PGDATA"
EMBEDDED_DATABASE = "postgres"
# Variable suffixes after the prefix (WST_PGSQL_HOST, AT_PGSQL_ENDPOINT, ...). The pipeline's
# cluster ConfigMaps call the host ENDPOINT; both spellings are accepted for either prefix.
HOST_SUFFIXES = ("HOST", "ENDPOINT")
SETTING_SUFFIXES = ("PORT", "DATABASE", "USERNAME", "PASSWORD", "SCHEMA")


class DatabaseSettingsError(SettingsError):
    """Settings are missing or invalid; lists every variable by name (never a value)."""


@dataclass(frozen=True)
class ConnectionSettings:
    host: str
    port: int
    database: str
    username: str
    password: str | None = field(repr=False)  # never in a log line, error or traceback
    schema: str
    embedded: bool
    # The embedded server's data directory while its socket folder is not known yet: reading
    # settings starts nothing; the server is started (or joined) when a connection needs it.
    pgdata: Path | None = None

    def connect_kwargs(self, connect_timeout: int) -> dict[str, Any]:
        """psycopg2's arguments; for the embedded server this starts (or joins) it first."""
        host = start_embedded(self.pgdata) if self.pgdata is not None else self.host
        kwargs: dict[str, Any] = {
            "host": host,
            "port": self.port,
            "dbname": self.database,
            "user": self.username,
            "connect_timeout": connect_timeout,
            "application_name": "dagstributor",
        }
        if self.password:
            kwargs["password"] = self.password
        return kwargs

    def describe(self) -> str:
        """Where we connect, safe for logs: never the password."""
        if self.pgdata is not None:
            return f"embedded postgresql://{self.username}@{self.pgdata}/{self.database}"
        kind = "embedded" if self.embedded else "configured"
        return f"{kind} postgresql://{self.username}@{self.host}:{self.port}/{self.database}"


def repo_root() -> Path | None:
    """The checkout this code runs from, if any (the embedded data lives in its `.local/`)."""
    for origin in (Path.cwd(), Path(__file__).resolve()):
        for folder in (origin, *origin.parents):
            if (folder / "workspace.yaml").is_file() and (folder / "pyproject.toml").is_file():
                return folder
    return None


def embedded_pgdata() -> Path:
    explicit = setting(None, EMBEDDED_PGDATA_VAR, None)
    if explicit:
        return Path(str(explicit))
    root = repo_root()
    if root is None:
        raise DatabaseSettingsError(
            f"no database host configured and no checkout found for the embedded server; "
            f"set a host or {EMBEDDED_PGDATA_VAR}"
        )
    return root / ".local" / "pgdata"


def embedded_server(pgdata: Path, cleanup_mode: str | None = None) -> Any:
    """pgserver's handle on the server of this data directory, started if it is not running.

    `cleanup_mode=None` leaves the server running for the other location and later runs; pgserver
    serialises concurrent starts with a file lock (kept in the runtime dir, /tmp/runtime-<uid> when
    XDG_RUNTIME_DIR is unset, which is fine and not worth a warning on every start).
    """
    pgdata.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        import pgserver

        return pgserver.get_server(pgdata, cleanup_mode=cleanup_mode)


def socket_dir_of(server: Any) -> str:
    """The Unix socket folder an embedded server listens in."""
    uri = str(server.get_uri())
    return uri.split("host=", 1)[1] if "host=" in uri else str(server.pgdata)


# How a person stops the embedded server a command left running (scripts/local_stack.py).
STOP_EMBEDDED_HINT = "uv run python scripts/local_stack.py --stop-database"
_announced: set[Path] = set()  # data directories whose server this process started


def embedded_pid(pgdata: Path) -> int | None:
    """The PID of the server running on this data directory (its postmaster.pid), if any."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().splitlines()[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return None
    return pid


def _say_left_running(pgdata: Path) -> None:
    pid = embedded_pid(pgdata)
    if pid is not None:
        print(
            f"note: this command started the embedded PostgreSQL (pid {pid}, data in {pgdata}) "
            f"and left it running for the next command and the local stack; "
            f"stop it with: {STOP_EMBEDDED_HINT}",
            file=sys.stderr,
        )


def start_embedded(pgdata: Path, *, announce: bool = True) -> str:
    """Start (or join) the one embedded server for this data directory; returns its socket dir.

    The server outlives the process (the other location and later commands join it). So a
    process that started it says so once when it exits, with how to stop it, unless it stops the
    server itself (`announce=False`: the local stack); joining a running server says nothing.
    """
    started_here = embedded_pid(pgdata) is None
    socket_dir = socket_dir_of(embedded_server(pgdata))
    if started_here and announce and pgdata not in _announced:
        _announced.add(pgdata)
        atexit.register(_say_left_running, pgdata)
    return socket_dir


def database_configured(prefix: str, environ: Mapping[str, str] | None = None) -> bool:
    """The one rule for "is a database configured": `<prefix>_HOST` or `<prefix>_ENDPOINT` is
    set and not empty (else a workstation gets the embedded server)."""
    return any(setting(None, f"{prefix}_{suffix}", None, environ) for suffix in HOST_SUFFIXES)


def resolve_settings(
    prefix: str, overrides: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> ConnectionSettings:
    """Merge explicit fields over `<prefix>_*` variables; no host outside Kubernetes -> embedded
    (not started here: see `ConnectionSettings.connect_kwargs`)."""
    env = os.environ if environ is None else environ

    def variable(suffix: str) -> str | None:
        value = setting(None, f"{prefix}_{suffix}", None, env)
        return None if value is None else str(value)

    host = overrides.get("host") or next(
        (v for s in HOST_SUFFIXES if (v := variable(s)) is not None), None
    )
    raw = {s.lower(): overrides.get(s.lower()) or variable(s) for s in SETTING_SUFFIXES}
    problems: list[str] = []
    port = 5432
    if raw["port"] is not None:
        try:
            port = int(raw["port"])
            if not 0 < port < 65536:
                raise ValueError
        except ValueError:
            problems.append(f"{prefix}_PORT is not a port number")
    schema = str(raw["schema"] or "atp")
    if host is None:
        if in_kubernetes(env):
            # Name exactly what is missing or invalid, so the one error is the whole to-do list.
            missing = [f"{prefix}_HOST"] + [
                f"{prefix}_{suffix.upper()}"
                for suffix in ("database", "username", "password")
                if raw[suffix] is None
            ]
            raise DatabaseSettingsError(
                "inside Kubernetes the database must be configured; missing: "
                + ", ".join(missing)
                + "".join(f"; {problem}" for problem in problems)
            )
        if problems:
            raise DatabaseSettingsError("; ".join(problems))
        pgdata = embedded_pgdata()
        return ConnectionSettings(
            host=str(pgdata),
            port=5432,
            database=str(raw["database"] or EMBEDDED_DATABASE),
            username="postgres",
            password=None,
            schema=schema,
            embedded=True,
            pgdata=pgdata,
        )
    for suffix in ("database", "username"):
        if raw[suffix] is None:
            problems.append(f"{prefix}_{suffix.upper()} is not set")
    if problems:
        raise DatabaseSettingsError("invalid database settings: " + "; ".join(problems))
    return ConnectionSettings(
        host=str(host),
        port=port,
        database=str(raw["database"]),
        username=str(raw["username"]),
        password=None if raw["password"] is None else str(raw["password"]),
        schema=schema,
        embedded=False,
    )


class PostgresResource(dg.ConfigurableResource):
    """PostgreSQL for one location, configured by `<env_prefix>_*` variables read at run start.

    The variables are read when a run starts, not at import: one error then lists every missing
    variable, and a workstation with no host configured gets the embedded server. Explicit fields
    (used by tests) win over the environment. The password never appears in logs or metadata.
    """

    env_prefix: str = Field(description="the location's variable prefix, <LOCATION>_PGSQL")
    host: str | None = None
    port: int | None = None
    database: str | None = None
    username: str | None = None
    password: str | None = Field(default=None, repr=False)
    db_schema: str | None = Field(default=None, description="schema of the pipeline tables")
    connect_timeout: int = 10
    # None: <env_prefix>_STATEMENT_TIMEOUT / _TCP_TIMEOUT / _IDLE_TIMEOUT, else the defaults
    # (pg_timeouts.py); reply_grace only as a field (tests), else pg_timeouts.REPLY_GRACE.
    statement_timeout: float | None = Field(default=None, description="seconds, 0 = none")
    tcp_timeout: int | None = Field(default=None, description="seconds to notice a dead peer")
    reply_grace: float | None = Field(
        default=None, description="seconds a reply may take beyond the statement timeout"
    )
    idle_timeout: float | None = Field(
        default=None, description="seconds the server keeps an idle transaction or lock session"
    )

    _settings: ConnectionSettings | None = PrivateAttr(default=None)

    def settings(self) -> ConnectionSettings:
        if self._settings is None:
            overrides = {
                "host": self.host,
                "port": self.port,
                "database": self.database,
                "username": self.username,
                "password": self.password,
                "schema": self.db_schema,
            }
            self._settings = resolve_settings(self.env_prefix, overrides)
        return self._settings

    @contextmanager
    def connect(self) -> Iterator[psycopg2.extensions.connection]:
        """A fresh connection, closed afterwards; the caller commits (the SQL executor does).

        Every wait on it is bounded and interruptible (pg_timeouts.py)."""
        timeouts = timeout_settings(
            self.env_prefix,
            {
                "statement_timeout": self.statement_timeout,
                "tcp_timeout": self.tcp_timeout,
                "reply_grace": self.reply_grace,
                "idle_timeout": self.idle_timeout,
            },
        )
        install_interruptible_wait()
        connection = psycopg2.connect(
            **self.settings().connect_kwargs(self.connect_timeout),
            **timeouts.connect_kwargs(),
            connection_factory=GuardedConnection,
        )
        connection.reply_timeout = timeouts.reply_timeout
        connection.reply_grace = timeouts.reply_grace
        connection.idle_timeout = timeouts.idle_timeout
        try:
            yield connection
        finally:
            connection.close()
