"""Real processes for integration tests: own process groups, readiness waits, stop with escalation.

Every command starts in a session (hence a process group) of its own, so stopping it reaches its
children too (`dagster code-server start` runs the code in a `dagster api grpc` child), and a
stuck process cannot outlive the test: SIGTERM to the group, SIGKILL after a grace period.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

LOOPBACK = "127.0.0.1"
REPO_ROOT = Path(__file__).resolve().parents[2]
BIN_DIR = Path(sys.executable).parent


def free_port(host: str = LOOPBACK) -> int:
    """A port nothing listens on right now (the kernel's choice for an ephemeral bind)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
    return port


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


def wait_for(
    condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.25
) -> Any:
    """Poll until `condition()` returns something truthy (returned); TimeoutError names `what`."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what}: not ready after {timeout:.0f} s")
        time.sleep(interval)


def live_group_members(pgid: int) -> list[psutil.Process]:
    """Processes of this process group that still run (zombies do not count)."""
    members = []
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) == pgid and process.status() != psutil.STATUS_ZOMBIE:
                members.append(process)
        except (ProcessLookupError, psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return members


def pid_running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@dataclass
class Started:
    """A command running in its own process group, its output in `log_path`."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def check_alive(self) -> None:
        if not self.alive():
            raise RuntimeError(
                f"{self.name} exited with code {self.process.returncode}:\n{self.output()[-4000:]}"
            )

    def stop(self, grace: float = 10.0, sig: int = signal.SIGTERM) -> float:
        """Signal the group, SIGKILL what remains after `grace`; returns the seconds it took."""
        return stop_all([self], grace, sig)


def start(
    name: str,
    command: Sequence[str],
    env: Mapping[str, str],
    log_dir: Path,
    cwd: Path = REPO_ROOT,
) -> Started:
    """Start `command` in a new session; stdout and stderr go to `<log_dir>/<name>.log`."""
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Started(name, process, log_path)


def stop_all(started: Sequence[Started], grace: float = 10.0, sig: int = signal.SIGTERM) -> float:
    """Signal every group at once, SIGKILL the survivors after `grace`; returns seconds taken."""
    began = time.monotonic()
    for item in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(item.pid, sig)

    def gone() -> bool:
        for item in started:
            item.process.poll()
        return not any(live_group_members(item.pid) for item in started)

    try:
        wait_for(gone, grace, "process groups to exit", interval=0.1)
    except TimeoutError:
        for item in started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(item.pid, signal.SIGKILL)
        wait_for(gone, grace, "process groups to die after SIGKILL", interval=0.1)
    for item in started:
        with contextlib.suppress(subprocess.TimeoutExpired):
            item.process.wait(timeout=grace)
    return time.monotonic() - began


@contextlib.contextmanager
def running(
    name: str,
    command: Sequence[str],
    env: Mapping[str, str],
    log_dir: Path,
    grace: float = 10.0,
) -> Iterator[Started]:
    """`start` as a context manager: the group is stopped (with escalation) on the way out."""
    item = start(name, command, env, log_dir)
    try:
        yield item
    finally:
        stop_all([item], grace)


def grpc_serving(port: int, host: str = LOOPBACK) -> bool:
    """A Dagster code server's gRPC health check answers SERVING."""
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


def graphql(url: str, query: str, timeout: float = 10.0) -> dict[str, Any]:
    """POST a query to a Dagster webserver's /graphql; the `data` of the answer."""
    import httpx

    # trust_env=False: a proxy configured in the environment must not see loopback traffic.
    reply = httpx.post(f"{url}/graphql", json={"query": query}, timeout=timeout, trust_env=False)
    reply.raise_for_status()
    body: dict[str, Any] = reply.json()
    if body.get("errors"):
        raise AssertionError(json.dumps(body["errors"], indent=2))
    data: dict[str, Any] = body["data"]
    return data


def dagster_command(tool: str, *args: str) -> list[str]:
    """A console script of the test interpreter's environment (dagster, dagster-webserver, ...)."""
    return [str(BIN_DIR / tool), *args]
