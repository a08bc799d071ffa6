"""Fixtures of the integration tests: a prepared Dagster instance, a log folder per module and
the one local stack (`scripts/local_stack.py`) of the session."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.processes import (
    LOOPBACK,
    REPO_ROOT,
    Started,
    dagster_command,
    free_ports,
    start,
    stop_all,
    wait_for,
)

INSTANCE_TEMPLATE = REPO_ROOT / "config" / "dagster" / "local.yaml"
LOCAL_STACK = REPO_ROOT / "scripts" / "local_stack.py"
LOCAL_STACK_TIMEOUT = 180.0
LOCAL_STACK_GRACE = 10.0
# Variables that would point the local stack at another database or Transmission, make it
# believe it is in a pod, or send its notifications somewhere.
FOREIGN_VARIABLES = re.compile(
    r"^((WST|AT)_PGSQL_\w+|KUBERNETES_SERVICE_HOST|TRANSMISSION_HOST|AT_NOTIFY_URLS|PLEX_URL"
    r"|PLEX_TOKEN)$"
)


def prepare_dagster_home(home: Path) -> Path:
    """A DAGSTER_HOME with the local instance config, migrated once before any process uses it
    (several processes creating a fresh SQLite instance at once corrupt its migration table)."""
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(INSTANCE_TEMPLATE, home / "dagster.yaml")
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    subprocess.run(
        dagster_command("dagster", "instance", "migrate"),
        env=env,
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return home


@pytest.fixture(scope="module")
def dagster_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepare_dagster_home(tmp_path_factory.mktemp("dagster_home"))


@pytest.fixture(scope="module")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where started processes write their output (shown when a test fails)."""
    return tmp_path_factory.mktemp("logs")


@dataclass(frozen=True)
class LocalStack:
    """`scripts/local_stack.py` running: its URL, its process, its local folder (the parent of
    its Dagster home: pgdata, transmission, downloads, library) and its three ports."""

    url: str
    process: Started
    local: Path
    ports: tuple[int, int, int]  # webserver, automatic_transmission, wiring_schema_tics

    @property
    def pgdata(self) -> Path:
        return self.local / "pgdata"


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """The local command (ENVIRONMENT unset: dev) on free ports with a database of its own,
    started once for every test that needs it (about 20 s of wall time each start). The test of
    its Ctrl-C stop runs after the others (`stops_local_stack`, tests/conftest.py); whatever is
    still running is stopped here."""
    local = tmp_path_factory.mktemp("local_stack")
    web_port, at_port, wst_port = free_ports(3)
    ports = (web_port, at_port, wst_port)
    env = {k: v for k, v in os.environ.items() if not FOREIGN_VARIABLES.match(k)}
    env.pop("ENVIRONMENT", None)  # the command's own default: dev
    env["DAGSTRIBUTOR_PGDATA"] = str(local / "pgdata")
    command = [
        sys.executable, str(LOCAL_STACK),
        "--port", str(ports[0]), "--at-port", str(ports[1]), "--wst-port", str(ports[2]),
        "--dagster-home", str(local / "dagster_home"), "--grace", str(LOCAL_STACK_GRACE),
        "--paused",  # nothing runs by itself while the tests look
    ]  # fmt: skip
    process = start("local_stack", command, env, local)
    try:

        def ready() -> bool:
            process.check_alive()
            return "] ready: " in process.output()

        wait_for(ready, LOCAL_STACK_TIMEOUT, "local_stack.py ready")
        yield LocalStack(f"http://{LOOPBACK}:{ports[0]}", process, local, ports)
    except BaseException:
        print(process.output()[-6000:])
        raise
    finally:
        if process.alive():
            stop_all([process], 15.0)
