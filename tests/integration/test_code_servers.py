"""Both code locations as real gRPC code servers behind a real webserver, and the local command.

The code servers, the webserver and `scripts/local_stack.py` run as separate processes on free
loopback ports (never 3000/4000/4001, so a developer's running stack does not matter), each in a
process group of its own that is stopped with escalation, whatever the outcome.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import psycopg2
import pytest
import yaml

from automatic_transmission.clients.transmission import TransmissionClient
from dagstributor_shared.environment import Environment
from scripts.transmission_daemon import binary as transmission_binary
from tests.integration.conftest import LOCAL_STACK_GRACE, LocalStack
from tests.support.processes import (
    LOCATION_MODULES,
    LOOPBACK,
    REPO_ROOT,
    Started,
    dagster_command,
    free_ports,
    grpc_serving,
    live_group_members,
    loaded_workspace,
    pid_running,
    start,
    stop_all,
    wait_for,
)
from tests.wiring_schema_tics.support import WST_JOB_NAMES

WORKSPACE_FILE = REPO_ROOT / "workspace.yaml"
STARTUP_TIMEOUT = 150.0
GRACE = LOCAL_STACK_GRACE


def expected(environment: Environment) -> dict[str, tuple[set[str], set[str]]]:
    """Location -> (job names, schedule names) of its definitions built in this process."""
    from automatic_transmission.definitions import build_definitions as build_at
    from wiring_schema_tics.definitions import build_definitions as build_wst

    names = {}
    for location, build in (
        ("automatic_transmission", build_at),
        ("wiring_schema_tics", build_wst),
    ):
        repository = build(environment).get_repository_def()
        names[location] = (
            {job.name for job in repository.get_all_jobs()},
            {schedule.name for schedule in repository.schedule_defs},
        )
    return names


def served(entry: dict[str, Any]) -> tuple[set[str], set[str]]:
    assert entry["__typename"] == "RepositoryLocation", entry
    repositories = entry["repositories"]
    return (
        {job["name"] for repository in repositories for job in repository["jobs"]},
        {schedule["name"] for repository in repositories for schedule in repository["schedules"]},
    )


def write_workspace(path: Path, ports: dict[str, int]) -> Path:
    """The repository's workspace.yaml with other ports (the file stays the source of names)."""
    document = yaml.safe_load(WORKSPACE_FILE.read_text())
    for entry in document["load_from"]:
        entry["grpc_server"]["port"] = ports[entry["grpc_server"]["location_name"]]
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def listening_addresses(pgid: int) -> set[str]:
    """IP addresses the processes of this group listen on (TCP)."""
    addresses = set()
    for process in live_group_members(pgid):
        try:
            connections = process.net_connections(kind="inet")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        addresses |= {c.laddr.ip for c in connections if c.status == psutil.CONN_LISTEN}
    return addresses


def is_loopback(address: str) -> bool:
    """127.0.0.1, ::1 or 127.0.0.1 mapped into IPv6 (gRPC listens on a dual-stack socket)."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


def dump_logs(started: list[Started]) -> None:
    """Printed output is shown by pytest only when a test fails."""
    for item in started:
        print(f"----- {item.name} (pid {item.pid}) -----\n{item.output()[-6000:]}")


def test_workspace_file_names_both_locations_on_loopback() -> None:
    entries = [
        entry["grpc_server"] for entry in yaml.safe_load(WORKSPACE_FILE.read_text())["load_from"]
    ]
    assert {e["location_name"]: (e["host"], e["port"]) for e in entries} == {
        "automatic_transmission": (LOOPBACK, 4000),
        "wiring_schema_tics": (LOOPBACK, 4001),
    }


# --- scripts/local_stack.py ------------------------------------------------------------------


def started_pids(output: str) -> dict[str, int]:
    """`started <name> (pid N, ...)` lines of the local command."""
    return {name: int(pid) for name, pid in re.findall(r"started (\S+) \(pid (\d+)", output)}


def postmaster(pgdata: Path) -> tuple[int, str]:
    """PID and socket directory of the PostgreSQL server on this data directory."""
    lines = (pgdata / "postmaster.pid").read_text().splitlines()
    return int(lines[0]), lines[4]


def atp_exists(socket_dir: str) -> bool:
    connection = psycopg2.connect(host=socket_dir, user="postgres", dbname="postgres")
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = 'atp')")
            row = cursor.fetchone()
    finally:
        connection.close()
    return bool(row and row[0])


@pytest.mark.integration
@pytest.mark.stops_local_stack
def test_local_stack_starts_everything_and_stops_it_on_sigint(local_stack: LocalStack) -> None:
    # The session's local stack (the UI tests use it first; this test runs after them).
    stack, local = local_stack.process, local_stack.local
    web_port = local_stack.ports[0]
    pgdata = local_stack.pgdata
    try:
        children = started_pids(stack.output())
        # a private Transmission when the binary is installed (TRANSMISSION_HOST is unset here)
        private = {"transmission-daemon"} if transmission_binary() else set()
        assert set(children) == {*LOCATION_MODULES, "webserver", "daemon", *private}
        assert all(pid_running(pid) for pid in children.values()), children
        for name, pid in children.items():
            addresses = listening_addresses(pid)
            assert all(is_loopback(address) for address in addresses), (name, addresses)

        url = f"http://{LOOPBACK}:{web_port}"
        locations = loaded_workspace(url)
        assert locations is not None and set(locations) == set(LOCATION_MODULES)
        wanted = expected(Environment.DEV)
        for name, entry in locations.items():
            assert served(entry) == wanted[name], name

        postgres_pid, socket_dir = postmaster(pgdata)
        assert atp_exists(socket_dir)
        if private:  # it answers with the password generated into the local folder
            settings = json.loads((local / "transmission/settings.json").read_text())
            password = (local / "transmission/rpc-password").read_text().strip()
            TransmissionClient.connect(
                LOOPBACK, settings["rpc-port"], "dagstributor", password, timeout_s=10
            ).torrents(())
            assert (local / "downloads").is_dir() and (local / "library/movies").is_dir()

        # Ctrl-C in a terminal under `uv run` reaches the script twice within milliseconds (the
        # terminal's signal to the group and uv's forwarded copy): still one graceful stop.
        os.killpg(stack.pid, signal.SIGINT)
        began = time.monotonic()
        time.sleep(0.05)
        os.killpg(stack.pid, signal.SIGINT)
        code = stack.process.wait(timeout=3 * GRACE)
        took = time.monotonic() - began
    finally:
        if stack.alive():
            print(stack.output())
            stop_all([stack], GRACE)
    output = stack.output()
    assert code == 0, output[-4000:]
    assert took < 2 * GRACE + 5, f"stopping took {took:.1f} s"
    for name, pid in children.items():
        assert not live_group_members(pid), f"{name} (group {pid}) still running"
    assert not pid_running(postgres_pid), "the embedded PostgreSQL this command started still runs"
    assert "all stopped" in output
    assert "SIGKILL" not in output, "children were killed instead of stopped"
    assert all(f"pid {pid}, exit code 0)" in output for pid in children.values()), output[-4000:]


# --- code servers behind a webserver (ENVIRONMENT=prod) ----------------------------------


@dataclass(frozen=True)
class Stack:
    url: str
    processes: list[Started]


@pytest.fixture(scope="module")
def prod_stack(dagster_home: Path, log_dir: Path) -> Iterator[Stack]:
    """Both code servers (ENVIRONMENT=prod) and a webserver reading a workspace of their ports."""
    at_port, wst_port, web_port = free_ports(3)
    ports = {"automatic_transmission": at_port, "wiring_schema_tics": wst_port}
    workspace = write_workspace(dagster_home / "workspace.yaml", ports)
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home), "ENVIRONMENT": "prod"}
    started: list[Started] = []
    try:
        for name, module in LOCATION_MODULES.items():
            command = dagster_command(
                "dagster", "code-server", "start", "-m", module,
                "--host", LOOPBACK, "--port", str(ports[name]), "--location-name", name,
            )  # fmt: skip
            started.append(start(name, command, env, log_dir))
        for name, port in ports.items():

            def serving(port: int = port) -> bool:
                for item in started:
                    item.check_alive()
                return grpc_serving(port)

            wait_for(serving, STARTUP_TIMEOUT, f"code server {name}")
        webserver = dagster_command(
            "dagster-webserver", "-w", str(workspace), "-h", LOOPBACK, "-p", str(web_port)
        )
        started.append(start("webserver", webserver, env, log_dir))
        url = f"http://{LOOPBACK}:{web_port}"

        def loaded() -> dict[str, Any] | None:
            started[-1].check_alive()
            return loaded_workspace(url)

        wait_for(loaded, STARTUP_TIMEOUT, "webserver with both locations loaded")
        yield Stack(url, started)
    finally:
        dump_logs(started)
        stop_all(started, GRACE)
        for item in started:
            assert not live_group_members(item.pid), f"{item.name} left processes behind"


@pytest.mark.integration
def test_webserver_serves_both_locations_with_their_jobs(prod_stack: Stack) -> None:
    locations = loaded_workspace(prod_stack.url)
    assert locations is not None
    assert set(locations) == set(LOCATION_MODULES)
    wanted = expected(Environment.PROD)
    for name, entry in locations.items():
        jobs, _ = served(entry)
        assert jobs == wanted[name][0], name
    assert served(locations["wiring_schema_tics"])[0] == WST_JOB_NAMES


@pytest.mark.integration
def test_prod_schedules_are_served(prod_stack: Stack) -> None:
    locations = loaded_workspace(prod_stack.url)
    assert locations is not None
    wanted = expected(Environment.PROD)
    for name, entry in locations.items():
        _, schedules = served(entry)
        assert schedules == wanted[name][1], name
    assert "wst_atp_bak" in served(locations["wiring_schema_tics"])[1]


@pytest.mark.integration
def test_processes_listen_on_loopback_only(prod_stack: Stack) -> None:
    for item in prod_stack.processes:
        addresses = listening_addresses(item.pid)
        assert addresses, f"{item.name} listens on nothing"
        assert all(is_loopback(address) for address in addresses), (item.name, addresses)
