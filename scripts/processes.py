"""Process groups, readiness checks and the webserver's GraphQL API, for local Dagster processes.

The one implementation used by `scripts/local_stack.py` and by the integration tests (through
`tests/support/processes.py`). Every command starts in a session (hence a process group) of its
own, so stopping it reaches its children too (`dagster code-server start` runs the code in a
`dagster api grpc` child): SIGTERM to the group, SIGKILL to what is left after a grace period.
Only the standard library at import; psutil and grpc (both in the uv workspace's environment) are
imported where used.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, TypeVar

REPO_ROOT = Path(__file__).resolve().parents[1]
LOOPBACK = "127.0.0.1"
POLL_SECONDS = 0.25

# Location name -> module of its `defs` (the package's `definitions` module).
LOCATION_MODULES: dict[str, str] = {
    "automatic_transmission": "automatic_transmission.definitions",
    "wiring_schema_tics": "wiring_schema_tics.definitions",
}

WORKSPACE_QUERY = """
query Workspace {
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError {
          __typename
          ... on RepositoryLocation { repositories { name jobs { name } schedules { name } } }
          ... on PythonError { message }
        }
      }
    }
    ... on PythonError { message }
  }
}
"""

T = TypeVar("T")


# --- waiting ---------------------------------------------------------------------------------


def poll(
    condition: Callable[[], T],
    timeout: float,
    interval: float = POLL_SECONDS,
    give_up: Callable[[], bool] | None = None,
) -> T | None:
    """Call `condition()` until it returns something truthy, which is returned; None once
    `timeout` seconds have passed or `give_up()` is true."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() >= deadline or (give_up is not None and give_up()):
            return None
        time.sleep(interval)


# --- processes -------------------------------------------------------------------------------


def pid_running(pid: int) -> bool:
    """The process exists and is not a zombie."""
    import psutil

    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def live_group_members(pgid: int) -> list[Any]:
    """The psutil.Process of each process of this group that still runs (zombies do not count)."""
    import psutil

    members = []
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) == pgid and process.status() != psutil.STATUS_ZOMBIE:
                members.append(process)
        except (ProcessLookupError, psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return members


def console_script(name: str) -> str:
    """A console script of this interpreter's environment (the uv workspace's .venv)."""
    candidate = Path(sys.executable).parent / name
    found = str(candidate) if candidate.exists() else shutil.which(name)
    if not found:
        raise FileNotFoundError(f"{name} not found next to {sys.executable}; run `uv sync`")
    return found


def start_in_group(
    command: Sequence[str],
    env: Mapping[str, str],
    cwd: Path = REPO_ROOT,
    output: IO[bytes] | None = None,
) -> subprocess.Popen[bytes]:
    """Start `command` in a session (and process group) of its own, stdin closed; its output
    goes to `output` (stderr too) or, without one, to this process's stdout and stderr."""
    return subprocess.Popen(
        list(command),
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT if output is not None else None,
        start_new_session=True,
    )


def stop_groups(
    processes: Sequence[subprocess.Popen[bytes]],
    grace: float,
    *,
    sig: int = signal.SIGTERM,
    kill_wait: float | None = None,
    interval: float = POLL_SECONDS,
    reap_timeout: float | None = None,
    hurry: Callable[[], bool] | None = None,
    on_kill: Callable[[subprocess.Popen[bytes]], None] | None = None,
) -> bool:
    """`sig` to every process's group at once; after `grace` seconds (or as soon as `hurry()`),
    SIGKILL to each group that still has live members (`on_kill` is told first), then up to
    `kill_wait` seconds for them to go. Each process is then reaped, waiting up to `reap_timeout`
    seconds for it. Both default to `grace`. True when no group has a live member left."""
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)

    def gone() -> bool:
        for process in processes:
            process.poll()
        return not any(live_group_members(process.pid) for process in processes)

    stopped = bool(poll(gone, grace, interval, give_up=hurry))
    if not stopped:
        for process in processes:
            if live_group_members(process.pid):
                if on_kill is not None:
                    on_kill(process)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
        # SIGKILL cannot be ignored; the wait lets the kernel finish.
        stopped = bool(poll(gone, grace if kill_wait is None else kill_wait, interval))
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace if reap_timeout is None else reap_timeout)
    return stopped


# --- ports -----------------------------------------------------------------------------------


def free_ports(count: int, host: str = LOOPBACK) -> list[int]:
    """`count` distinct free ports (held open together while choosing, so no duplicates)."""
    probes = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for probe in probes:
            probe.bind((host, 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


# --- readiness -------------------------------------------------------------------------------


def grpc_serving(port: int, host: str = LOOPBACK) -> bool:
    """A Dagster code server's standard gRPC health check answers SERVING (it binds after
    loading its code)."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    # Loopback never goes through an HTTP proxy, whatever the environment says.
    options = [("grpc.enable_http_proxy", 0)]
    with grpc.insecure_channel(f"{host}:{port}", options=options) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service="DagsterApi"), timeout=2
            )
        except grpc.RpcError:
            return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


class GraphQLError(RuntimeError):
    """The webserver answered a GraphQL query with errors (the message lists them)."""


def graphql(url: str, query: str, timeout: float = 10.0) -> dict[str, Any]:
    """POST a query to a Dagster webserver's /graphql; the `data` of the answer. An HTTP error
    status raises urllib.error.HTTPError; an answer with `errors` raises GraphQLError."""
    body = json.dumps({"query": query}).encode()
    request = urllib.request.Request(
        f"{url}/graphql", data=body, headers={"Content-Type": "application/json"}
    )
    # A proxy configured in the environment must not see loopback traffic.
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with direct.open(request, timeout=timeout) as reply:
        answer: dict[str, Any] = json.loads(reply.read())
    if answer.get("errors"):
        raise GraphQLError(json.dumps(answer["errors"], indent=2))
    data: dict[str, Any] = answer["data"]
    return data


def workspace_entries(url: str, timeout: float = 10.0) -> dict[str, dict[str, Any] | None] | None:
    """Location name -> its `locationOrLoadError`: a RepositoryLocation, a PythonError, or None
    while that location is still loading. None while the webserver is not answering."""
    try:
        data = graphql(url, WORKSPACE_QUERY, timeout)["workspaceOrError"]
    except (OSError, http.client.HTTPException, GraphQLError, KeyError, TypeError, ValueError):
        return None  # not answering (yet), or not a GraphQL answer
    if data.get("__typename") != "Workspace":
        return None
    return {entry["name"]: entry.get("locationOrLoadError") for entry in data["locationEntries"]}
