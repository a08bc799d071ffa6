"""The whole Dagstributor stack on this machine, in one command.

    uv run python scripts/local_stack.py            # http://127.0.0.1:3000, Ctrl-C stops it all

What it does:
1. the Dagster instance: `.local/dagster_home/dagster.yaml` from `config/dagster/local.yaml`,
   storage prepared once (what `dagster instance migrate` does) and the schema pool limited to 1,
   before any Dagster process starts (concurrent creation of a SQLite instance corrupts it);
2. one `dagster code-server start` per location, on the host/port of `workspace.yaml` (or of
   --at-port/--wst-port, through a rendered copy of it), always on loopback;
3. while they load their code: the database, i.e. the embedded PostgreSQL (data in
   `.local/pgdata`, or `$DAGSTRIBUTOR_PGDATA`) unless `WST_PGSQL_HOST` names a server, and schema
   `atp` instantiated when it is missing;
4. once both code servers answer their gRPC health check: `dagster-webserver` and
   `dagster-daemon run` on that workspace; the UI binds to loopback unless `--host` asks otherwise.
   "ready" is printed when the webserver's GraphQL API shows both locations loaded.

Children get DAGSTER_HOME and ENVIRONMENT (default `dev`) and write to this terminal, except the
private transmission-daemon, whose lines go to `.local/logs/transmission-daemon.log`.
Ctrl-C (SIGINT) or SIGTERM stops every process it started: each child runs in its own process
group, which gets SIGTERM, then SIGKILL after the grace period. The embedded PostgreSQL is stopped
too when this command started it; when it was already running (another checkout's stack, a
`dagster job execute`), it is left running. `--keep-database` always leaves it running.
`--stop-database` only stops the embedded server (one that `at-item` or `dagster job execute` left
running says so when it exits) and exits.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import traceback
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

if not __package__:
    # Run as `python scripts/local_stack.py`: the repository root makes `scripts` importable.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.processes import (
    LOCATION_MODULES,
    LOOPBACK,
    POLL_SECONDS,
    REPO_ROOT,
    console_script,
    grpc_serving,
    pid_running,
    poll,
    start_in_group,
    stop_groups,
    workspace_entries,
)
from scripts.transmission_daemon import INSTALL_HINT, binary, new_password, private_config

if TYPE_CHECKING:
    from dagstributor_shared.postgres import ConnectionSettings

WORKSPACE_FILE = REPO_ROOT / "workspace.yaml"
INSTANCE_TEMPLATE = REPO_ROOT / "config" / "dagster" / "local.yaml"
DEFAULT_DAGSTER_HOME = REPO_ROOT / ".local" / "dagster_home"
DEFAULT_WEBSERVER_PORT = 3000
DEFAULT_GRACE_SECONDS = 10.0
DEFAULT_STARTUP_TIMEOUT = 180.0
DB_PREFIX = "WST_PGSQL"  # the schema location
# The pipeline (AT_PGSQL_*) may name another server: `atp` is ensured in each distinct one.
DB_PREFIXES = (DB_PREFIX, "AT_PGSQL")


class StartupError(RuntimeError):
    """The stack could not be brought up; the message says which part and why."""


class StopRequested(Exception):
    """SIGINT or SIGTERM arrived while the stack was starting."""


STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"[local_stack {time.monotonic() - STARTED:5.1f}s] {message}", flush=True)


# --- signals ---------------------------------------------------------------------------------


class StopFlag:
    """Set by SIGINT/SIGTERM; a second signal while stopping asks for SIGKILL right away.

    One Ctrl-C can arrive twice: the terminal sends it to the whole foreground group (`uv` and
    this script) and `uv run` forwards its copy to us too. Only a signal that comes later than
    `REPEAT_S` after the first counts as a second Ctrl-C.
    """

    REPEAT_S = 1.0

    def __init__(self) -> None:
        self.requested = False
        self.hurry = False
        self.signal_name = ""
        self._first_at = 0.0

    def handle(self, signum: int, _frame: FrameType | None) -> None:
        # No output here: a handler that prints can interrupt a print of the main code.
        now = time.monotonic()
        if self.requested:
            self.hurry = self.hurry or now - self._first_at > self.REPEAT_S
            return
        self.requested = True
        self._first_at = now
        self.signal_name = signal.Signals(signum).name

    def install(self) -> None:
        signal.signal(signal.SIGINT, self.handle)
        signal.signal(signal.SIGTERM, self.handle)

    def check(self) -> None:
        if self.requested:
            raise StopRequested


# --- configuration -------------------------------------------------------------------------


@dataclass(frozen=True)
class Location:
    name: str
    module: str
    host: str
    port: int


def read_workspace(path: Path = WORKSPACE_FILE) -> list[Location]:
    """The locations of workspace.yaml with their host and port (the local defaults)."""
    import yaml

    document = yaml.safe_load(path.read_text())
    locations: list[Location] = []
    for entry in document.get("load_from", []):
        server = entry.get("grpc_server")
        if not server:
            continue
        name = str(server["location_name"])
        if name not in LOCATION_MODULES:
            raise StartupError(f"{path}: unknown location {name!r}")
        host, port = server.get("host", LOOPBACK), server.get("port")
        if not isinstance(host, str) or not isinstance(port, int):
            raise StartupError(f"{path}: {name} needs a literal host and port for the local stack")
        locations.append(Location(name, LOCATION_MODULES[name], host, port))
    missing = set(LOCATION_MODULES) - {location.name for location in locations}
    if missing:
        raise StartupError(f"{path}: no grpc_server entry for {', '.join(sorted(missing))}")
    return locations


def with_ports(locations: Sequence[Location], ports: Mapping[str, int | None]) -> list[Location]:
    """The same locations, with the ports given on the command line (None keeps the file's)."""
    return [
        replace(location, port=port) if (port := ports.get(location.name)) else location
        for location in locations
    ]


def render_workspace(locations: Sequence[Location], target: Path) -> Path:
    """A workspace file naming these hosts and ports."""
    import yaml

    entries = [
        {"grpc_server": {"location_name": loc.name, "host": loc.host, "port": loc.port}}
        for loc in locations
    ]
    header = "# Rendered by scripts/local_stack.py from workspace.yaml with other ports.\n"
    target.write_text(header + yaml.safe_dump({"load_from": entries}, sort_keys=False))
    return target


def workspace_for(locations: Sequence[Location], dagster_home: Path) -> Path:
    """workspace.yaml itself when the ports are its own, else a rendered copy in DAGSTER_HOME."""
    if list(locations) == read_workspace():
        return WORKSPACE_FILE
    return render_workspace(locations, dagster_home / "workspace.yaml")


ENV_FILE = REPO_ROOT / ".env"  # settings of this workstation (git-ignored), KEY=value lines
SCHEDULE_PROFILE_VAR = "DAGSTRIBUTOR_SCHEDULES"  # dagstributor_shared.schedules reads it
LOCAL_SCHEDULES = "local"  # config/schedules/local.yaml: the pipeline runs by itself


def env_file_values(path: Path = ENV_FILE) -> dict[str, str]:
    """The settings of the `.env` file at the repo root, if there is one (empty values kept)."""
    if not path.is_file():
        return {}
    from dotenv import dotenv_values  # python-dotenv, installed with dagster

    return {key: value or "" for key, value in dotenv_values(path).items()}


def child_environment(
    dagster_home: Path,
    base: Mapping[str, str] | None = None,
    *,
    paused: bool = False,
    env_file: Path = ENV_FILE,
) -> dict[str, str]:
    """The children's environment: this one, then what `.env` adds (a variable set in the shell
    wins), DAGSTER_HOME, ENVIRONMENT (default dev) and, unless `paused`, the local schedules."""
    env = {**env_file_values(env_file), **(os.environ if base is None else base)}
    env["DAGSTER_HOME"] = str(dagster_home)
    env.setdefault("ENVIRONMENT", "dev")
    env.setdefault("PYTHONUNBUFFERED", "1")
    if not paused:
        env.setdefault(SCHEDULE_PROFILE_VAR, LOCAL_SCHEDULES)
    return env


# --- database --------------------------------------------------------------------------------


@dataclass
class Database:
    pgdata: Path | None  # the embedded server's data directory; None for a configured server
    was_running: bool  # the embedded server ran before this command (so it is left running)
    settings: ConnectionSettings | None = None  # once started / reached


def postmaster_pid(pgdata: Path) -> int | None:
    from dagstributor_shared.postgres import embedded_pid

    return embedded_pid(pgdata)


def start_database(stack: Stack) -> ConnectionSettings:
    """The server named by WST_PGSQL_HOST, else the embedded one, started if not running.

    `stack.database` is set before the server starts, so an interrupted start is cleaned up too.
    """
    from dagstributor_shared.postgres import (
        database_configured,
        embedded_pgdata,
        resolve_settings,
        start_embedded,
    )

    configured = all(database_configured(prefix) for prefix in DB_PREFIXES)
    pgdata = None if configured else embedded_pgdata().resolve()
    was_running = pgdata is not None and postmaster_pid(pgdata) is not None
    stack.database = database = Database(pgdata=pgdata, was_running=was_running)
    settings = database.settings = resolve_settings(DB_PREFIX, {})
    if settings.pgdata is not None:
        start_embedded(settings.pgdata, announce=False)  # stopped on exit, or said so
    else:
        database.pgdata = None
    where = f" (data in {database.pgdata})" if database.pgdata else ""
    log(f"database: {settings.describe()}{where}")
    return settings


def ensure_atp(settings: ConnectionSettings) -> None:
    """Instantiate schema `atp` when it is missing (the schema location's own DDL files)."""
    import psycopg2

    from wiring_schema_tics import schema

    connection = psycopg2.connect(**settings.connect_kwargs(connect_timeout=10))
    try:
        if schema.atp_exists(connection):
            log(f"schema {schema.SCHEMA} exists")
        else:
            results = schema.instantiate(connection)
            files = ", ".join(Path(result.source).name for result in results)
            log(f"schema {schema.SCHEMA} instantiated ({files})")
    finally:
        connection.close()


def stop_database(database: Database, grace: float) -> None:
    """Fast shutdown (SIGINT) of the embedded server, immediate (SIGQUIT) after the grace."""
    if database.pgdata is None:
        return
    pid = postmaster_pid(database.pgdata)
    if pid is None:
        return
    os.kill(pid, signal.SIGINT)
    if not poll(lambda: not pid_running(pid), grace):
        os.kill(pid, signal.SIGQUIT)
        poll(lambda: not pid_running(pid), grace)
    log(f"embedded PostgreSQL stopped (pid {pid})")


def stop_embedded_database(grace: float) -> int:
    """`--stop-database`: stop the embedded server of this checkout (left running by a command
    such as `at-item` or `dagster job execute`, or by --keep-database), then exit."""
    from dagstributor_shared.postgres import embedded_pgdata

    pgdata = embedded_pgdata().resolve()
    if postmaster_pid(pgdata) is None:
        log(f"embedded PostgreSQL is not running ({pgdata})")
        return 0
    stop_database(Database(pgdata=pgdata, was_running=False), grace)
    return 0


# --- Dagster instance ------------------------------------------------------------------------


def prepare_dagster_home(dagster_home: Path, template: Path = INSTANCE_TEMPLATE) -> None:
    """dagster.yaml from the template, storage migrated and the schema pool limited, once."""
    from dagster import DagsterInstance

    from wiring_schema_tics.jobs import SCHEMA_POOL

    dagster_home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, dagster_home / "dagster.yaml")
    with DagsterInstance.from_config(str(dagster_home)) as instance:
        instance.upgrade()  # what `dagster instance migrate` runs
        instance.event_log_storage.set_concurrency_slots(SCHEMA_POOL, 1)
    log(f"DAGSTER_HOME {dagster_home} ready (pool {SCHEMA_POOL} limited to 1)")


# --- transmission ----------------------------------------------------------------------------


def start_transmission(env: dict[str, str], local: Path) -> list[Child]:
    """A private transmission-daemon when TRANSMISSION_HOST is unset and the binary is installed:
    127.0.0.1 only, no DHT/PEX/LPD/port forwarding, its RPC password generated once into
    `<local>/transmission/rpc-password`, downloads in `<local>/downloads`, the library in
    `<local>/library` (`local`: the folder of the Dagster home, `.local/` by default), its log
    lines in `<local>/logs/transmission-daemon.log` (not mixed into Dagster's output here). Its
    settings go into `env` (the children's), library folders only where unset. Otherwise one
    line says what to do, and the pipeline's Transmission steps will fail."""
    if env.get("TRANSMISSION_HOST"):
        log(f"Transmission: {env['TRANSMISSION_HOST']} (TRANSMISSION_HOST)")
        return []
    executable_path = binary()
    if executable_path is None:
        log(f"Transmission: none; {INSTALL_HINT}")
        return []
    password_file = local / "transmission" / "rpc-password"
    if not password_file.exists():
        password_file.parent.mkdir(parents=True, exist_ok=True)
        password_file.write_text(new_password())
        password_file.chmod(0o600)
    config = private_config(
        local, username="dagstributor", password=password_file.read_text().strip()
    )
    env.update(
        TRANSMISSION_HOST=config.host,
        TRANSMISSION_PORT=str(config.rpc_port),
        TRANSMISSION_USERNAME=config.username,
        TRANSMISSION_PASSWORD=config.password,
    )
    env.setdefault("AT_DOWNLOAD_DIR", str(config.download_dir))
    for var, folder in (("AT_MOVIE_DIR", "movies"), ("AT_TV_SHOW_DIR", "tv")):
        (local / "library" / folder).mkdir(parents=True, exist_ok=True)
        env.setdefault(var, str(local / "library" / folder))
    log_file = local / "logs" / "transmission-daemon.log"
    child = start_child("transmission-daemon", config.command(executable_path), env, log_file)
    log(f"Transmission: private daemon on {config.host}:{config.rpc_port}, its log in {log_file}")
    return [child]


# --- processes -------------------------------------------------------------------------------


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid


def executable(name: str) -> str:
    """A console script of this interpreter's environment (the uv workspace's .venv)."""
    try:
        return console_script(name)
    except FileNotFoundError as error:
        raise StartupError(str(error)) from None


def start_child(
    name: str, command: Sequence[str], env: Mapping[str, str], log_file: Path | None = None
) -> Child:
    """Start a command in a session (and process group) of its own, so Ctrl-C in the terminal
    reaches only this script, which then stops the group as a whole. Its output goes to this
    terminal, or appended to `log_file` when one is given."""
    if log_file is None:
        process = start_in_group(command, env)
    else:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        with log_file.open("ab") as output:  # the child keeps its own copy of the descriptor
            process = start_in_group(command, env, output=output)
    log(f"started {name} (pid {process.pid}, process group {process.pid})")
    return Child(name, process)


def stop_children(children: Sequence[Child], grace: float, stop: StopFlag | None = None) -> None:
    """SIGTERM to every child's process group at once, SIGKILL to what is left after `grace`
    (at once on a second Ctrl-C)."""
    names = {child.pid: child.name for child in children}

    def killing(process: subprocess.Popen[bytes]) -> None:
        why = "second Ctrl-C" if stop is not None and stop.hurry else f"after {grace:.0f} s"
        log(f"{names[process.pid]} still running ({why}): SIGKILL")

    stop_groups(
        [child.process for child in children],
        grace,
        kill_wait=min(grace, 3.0),
        reap_timeout=1.0,
        hurry=(lambda: stop.hurry) if stop is not None else None,
        on_kill=killing,
    )
    for child in children:
        log(f"stopped {child.name} (pid {child.pid}, exit code {child.process.returncode})")


def ensure_alive(children: Iterable[Child]) -> None:
    for child in children:
        code = child.process.poll()
        if code is not None:
            raise StartupError(f"{child.name} exited with code {code}")


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def loaded_locations(url: str) -> dict[str, dict[str, Any]] | None:
    """Location name -> its RepositoryLocation once the webserver has loaded every location;
    None while it is not answering or still loading; a load error raises StartupError."""
    entries = workspace_entries(url, timeout=5.0)
    if entries is None:
        return None
    locations: dict[str, dict[str, Any]] = {}
    for name, loaded in entries.items():
        if loaded is None:
            return None
        if loaded["__typename"] == "PythonError":
            raise StartupError(f"location {name} failed to load: {loaded['message']}")
        locations[name] = loaded
    return locations


# --- the stack -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    host: str
    webserver_port: int
    locations: list[Location]
    dagster_home: Path
    grace: float
    startup_timeout: float
    keep_database: bool
    check: bool
    stop_database: bool = False
    paused: bool = False

    @property
    def url(self) -> str:
        shown = LOOPBACK if self.host in ("0.0.0.0", "") else self.host
        return f"http://{shown}:{self.webserver_port}"


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        description="Start the embedded database, both code servers, the webserver and the daemon."
    )
    parser.add_argument(
        "--host", default=LOOPBACK, help="address the webserver binds (default: %(default)s)"
    )
    parser.add_argument(
        "--port", "--webserver-port", dest="port", type=int, default=DEFAULT_WEBSERVER_PORT
    )
    parser.add_argument("--at-port", type=int, help="automatic_transmission's code server port")
    parser.add_argument("--wst-port", type=int, help="wiring_schema_tics's code server port")
    parser.add_argument("--dagster-home", type=Path, default=DEFAULT_DAGSTER_HOME)
    parser.add_argument("--grace", type=float, default=DEFAULT_GRACE_SECONDS, metavar="SECONDS")
    parser.add_argument(
        "--startup-timeout", type=float, default=DEFAULT_STARTUP_TIMEOUT, metavar="SECONDS"
    )
    parser.add_argument(
        "--keep-database",
        action="store_true",
        help="leave the embedded PostgreSQL running on exit even when this command started it",
    )
    parser.add_argument(
        "--check", action="store_true", help="start everything, wait until ready, stop, exit"
    )
    parser.add_argument(
        "--paused",
        action="store_true",
        help="keep every schedule stopped (config/schedules/dev.yaml): nothing runs by itself",
    )
    parser.add_argument(
        "--stop-database",
        action="store_true",
        help="only stop the embedded PostgreSQL a command left running, then exit",
    )
    args = parser.parse_args(argv)
    ports = {"automatic_transmission": args.at_port, "wiring_schema_tics": args.wst_port}
    return Options(
        host=args.host,
        webserver_port=args.port,
        locations=with_ports(read_workspace(), ports),
        dagster_home=args.dagster_home.resolve(),
        grace=args.grace,
        startup_timeout=args.startup_timeout,
        keep_database=args.keep_database,
        check=args.check,
        stop_database=args.stop_database,
        paused=args.paused,
    )


def code_server_command(location: Location) -> list[str]:
    return [
        executable("dagster"),
        "code-server",
        "start",
        "-m",
        location.module,
        "--host",
        location.host,
        "--port",
        str(location.port),
        "--location-name",
        location.name,
    ]


def check_ports_free(options: Options) -> None:
    wanted = [(loc.host, loc.port, loc.name) for loc in options.locations]
    wanted.append((options.host, options.webserver_port, "webserver"))
    busy = [f"{name} {host}:{port}" for host, port, name in wanted if not port_free(host, port)]
    if busy:
        raise StartupError(f"port already in use: {', '.join(busy)} (another stack running?)")


@dataclass
class Stack:
    """What this command started so far, for the cleanup whatever happens."""

    children: list[Child] = field(default_factory=list)
    database: Database | None = None


def start_stack(options: Options, stop: StopFlag, stack: Stack) -> None:
    """Everything up to "ready"; records each part in `stack` as soon as it exists.

    The instance is prepared before any Dagster process starts; the code servers start next, and
    the database is started and checked while they load their code (they need it only for runs).
    """
    prepare_dagster_home(options.dagster_home)
    stop.check()
    env = child_environment(options.dagster_home, paused=options.paused)
    workspace = workspace_for(options.locations, options.dagster_home)
    if ENV_FILE.is_file():
        log(f"settings from {ENV_FILE} (variables set in the shell win)")
    profile = env.get(SCHEDULE_PROFILE_VAR) or env["ENVIRONMENT"]
    log(f"workspace {workspace}, ENVIRONMENT={env['ENVIRONMENT']}, schedules {profile}.yaml")
    children = stack.children
    children.extend(start_transmission(env, options.dagster_home.parent))
    for location in options.locations:
        children.append(start_child(location.name, code_server_command(location), env))
    settings = start_database(stack)
    stop.check()
    ensure_atp(settings)
    from dagstributor_shared.postgres import resolve_settings

    pipeline = resolve_settings("AT_PGSQL", {})  # the server the pipeline writes to
    if pipeline.describe() != settings.describe():
        ensure_atp(pipeline)

    deadline = time.monotonic() + options.startup_timeout
    for location in options.locations:
        while not grpc_serving(location.port, location.host):
            stop.check()
            ensure_alive(children)
            if time.monotonic() > deadline:
                raise StartupError(f"code server {location.name} not serving in time")
            time.sleep(POLL_SECONDS)
        log(f"code server {location.name} serving on {location.host}:{location.port}")

    webserver = [
        executable("dagster-webserver"),
        *("-w", str(workspace), "-h", options.host, "-p", str(options.webserver_port)),
    ]
    children.append(start_child("webserver", webserver, env))
    children.append(
        start_child("daemon", [executable("dagster-daemon"), "run", "-w", str(workspace)], env)
    )
    while (loaded := loaded_locations(options.url)) is None:
        stop.check()
        ensure_alive(children)
        if time.monotonic() > deadline:
            raise StartupError(f"webserver not answering at {options.url}/graphql in time")
        time.sleep(POLL_SECONDS)
    for name, entry in sorted(loaded.items()):
        jobs = sum(
            1
            for repository in entry["repositories"]
            for job in repository["jobs"]
            if not str(job["name"]).startswith("__")  # Dagster's hidden asset job: not in the UI
        )
        schedules = sum(len(repository["schedules"]) for repository in entry["repositories"])
        log(f"location {name}: {jobs} jobs, {schedules} schedules")


def run(options: Options) -> int:
    stop = StopFlag()
    stop.install()
    stack = Stack()
    code = 0
    try:
        check_ports_free(options)
        start_stack(options, stop, stack)
        log(f"ready: Dagster UI on {options.url} (Ctrl-C stops everything)")
        if not options.check:
            while not stop.requested:
                ensure_alive(stack.children)
                time.sleep(POLL_SECONDS)
    except StopRequested:
        pass
    except StartupError as error:
        log(f"error: {error}")
        code = 1
    except Exception as error:
        # Ctrl-C in the terminal also reaches helpers in this process group (initdb, pg_ctl):
        # their failure after a stop request is part of stopping, not an error.
        if not stop.requested:
            log(f"error: {type(error).__name__}: {error}")
            traceback.print_exc()
            code = 1
    finally:
        if stop.requested:
            log(f"{stop.signal_name} received: stopping everything")
        stop_children(stack.children, options.grace, stop)
        if stack.database is not None:
            stop_or_keep_database(stack.database, options)
        log("all stopped")
    return code


def stop_or_keep_database(database: Database, options: Options) -> None:
    if database.pgdata is None:
        return  # a configured server is not ours to stop
    if database.was_running:
        log(f"embedded PostgreSQL left running: it was running before ({database.pgdata})")
    elif options.keep_database:
        log(f"embedded PostgreSQL left running (--keep-database, {database.pgdata})")
    else:
        stop_database(database, options.grace)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        options = parse_args(argv)
    except StartupError as error:
        log(f"error: {error}")
        return 1
    if options.stop_database:
        return stop_embedded_database(options.grace)
    return run(options)


if __name__ == "__main__":
    sys.exit(main())
