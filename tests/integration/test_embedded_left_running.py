"""A command that starts the embedded PostgreSQL says once, on exit, that it left it running and
how to stop it; `local_stack.py --stop-database` stops it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dagstributor_shared.postgres import STOP_EMBEDDED_HINT, embedded_pid
from tests.support.processes import REPO_ROOT

FOREIGN_VARIABLES = re.compile(r"^((WST|AT)_PGSQL_.*|KUBERNETES_SERVICE_HOST)$")


def command(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=180, check=False)  # fmt: skip


@pytest.mark.integration
def test_at_item_says_once_it_left_the_server_running_and_the_stop_command_stops_it() -> None:
    # Under the checkout (like .local/test-pgdata): pgserver's own user must reach the folder.
    pgdata = REPO_ROOT / ".local" / f"test-left-running-{os.getpid()}"
    env = {k: v for k, v in os.environ.items() if not FOREIGN_VARIABLES.match(k)}
    env["DAGSTRIBUTOR_PGDATA"] = str(pgdata)
    at_item = str(Path(sys.executable).parent / "at-item")
    try:
        first = command([at_item, "blade runner"], env)
        pid = embedded_pid(pgdata)
        assert pid is not None, first.stderr
        notes = [line for line in first.stderr.splitlines() if line.startswith("note:")]
        assert notes == [
            f"note: this command started the embedded PostgreSQL (pid {pid}, data in {pgdata}) "
            "and left it running for the next command and the local stack; "
            f"stop it with: {STOP_EMBEDDED_HINT}"
        ]

        second = command([at_item, "blade runner"], env)  # joins it: nothing to say
        assert "note:" not in second.stderr and embedded_pid(pgdata) == pid

        stop = command([sys.executable, *STOP_EMBEDDED_HINT.split()[3:]], env)
        assert stop.returncode == 0, stop.stderr
        assert f"embedded PostgreSQL stopped (pid {pid})" in stop.stdout + stop.stderr
        assert embedded_pid(pgdata) is None
    finally:
        if (pid := embedded_pid(pgdata)) is not None:
            os.kill(pid, 3)  # SIGQUIT: never leave a server of this test behind
        shutil.rmtree(pgdata, ignore_errors=True)
