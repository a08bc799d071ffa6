"""Real processes for integration tests: own process groups, readiness waits, stop with escalation.

Every command starts in a session (hence a process group) of its own, so stopping it reaches its
children too (`dagster code-server start` runs the code in a `dagster api grpc` child), and a
stuck process cannot outlive the test: SIGTERM to the group, SIGKILL after a grace period.
The process-group, health-check and GraphQL helpers are those of `scripts/local_stack.py`
(`scripts/processes.py`); this module adds what only tests need (log files, free ports, errors).
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.processes import (
    LOCATION_MODULES,
    LOOPBACK,
    REPO_ROOT,
    console_script,
    free_ports,
    graphql,
    grpc_serving,
    live_group_members,
    pid_running,
    poll,
    start_in_group,
    stop_groups,
    workspace_entries,
)

__all__ = [
    "BIN_DIR",
    "LOCATION_MODULES",
    "LOOPBACK",
    "REPO_ROOT",
    "Started",
    "dagster_command",
    "free_port",
    "free_ports",
    "graphql",
    "grpc_serving",
    "live_group_members",
    "loaded_workspace",
    "pid_running",
    "running",
    "start",
    "stop_all",
    "wait_for",
]

BIN_DIR = Path(sys.executable).parent


def free_port(host: str = LOOPBACK) -> int:
    """A port nothing listens on right now (the kernel's choice for an ephemeral bind)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
    return port


def wait_for(
    condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.25
) -> Any:
    """Poll until `condition()` returns something truthy (returned); TimeoutError names `what`."""
    result = poll(condition, timeout, interval)
    if not result:
        raise TimeoutError(f"{what}: not ready after {timeout:.0f} s")
    return result


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
        process = start_in_group(command, env, cwd, output=log_file)
    return Started(name, process, log_path)


def stop_all(started: Sequence[Started], grace: float = 10.0, sig: int = signal.SIGTERM) -> float:
    """Signal every group at once, SIGKILL the survivors after `grace`; returns seconds taken.
    TimeoutError when a group still has live members `grace` seconds after the SIGKILL."""
    began = time.monotonic()
    if not stop_groups([item.process for item in started], grace, sig=sig, interval=0.1):
        raise TimeoutError(f"process groups to die after SIGKILL: not ready after {grace:.0f} s")
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


def loaded_workspace(url: str) -> dict[str, dict[str, Any]] | None:
    """Location -> its `locationOrLoadError` once every location has loaded (a RepositoryLocation
    or a PythonError); None while the webserver is not answering or still loading."""
    entries = workspace_entries(url)
    if entries is None:
        return None
    loaded = {name: entry for name, entry in entries.items() if entry is not None}
    return loaded if len(loaded) == len(entries) else None


def dagster_command(tool: str, *args: str) -> list[str]:
    """A console script of the test interpreter's environment (dagster, dagster-webserver, ...)."""
    return [console_script(tool), *args]
