"""The README's commands as a newcomer copies them: exactly two at the top (the test command
checked by parsing, the start command run with `--check`), and the first-run recipe's settings
being exactly what a run needs on the local stack (test_local_stack_runs_itself.py runs the recipe
against stand-ins)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from tests.support.processes import REPO_ROOT, free_port
from tests.support.readme import first_run, top_commands

START = ["uv", "run", "python", "scripts/local_stack.py"]
FOREIGN = re.compile(r"^((WST|AT)_PGSQL_.*|KUBERNETES_SERVICE_HOST|TRANSMISSION_HOST)$")
# What the local stack provides itself: its private transmission-daemon and its .local/ folders.
STACK_PROVIDES = {"TRANSMISSION_HOST", "AT_DOWNLOAD_DIR", "AT_MOVIE_DIR", "AT_TV_SHOW_DIR"}


def test_the_top_of_the_readme_has_exactly_the_two_commands() -> None:
    start, test = top_commands()
    assert start == START
    assert test == ["uv", "run", "pytest"]
    pytest_options = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["pytest"]
    assert "ini_options" in pytest_options  # `uv run pytest` at the root finds its settings
    assert (REPO_ROOT / "scripts" / "local_stack.py").is_file()


def test_the_first_run_sets_exactly_the_settings_a_run_needs_and_starts_the_stack(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from automatic_transmission.definitions import defs
    from automatic_transmission.pipeline.jobs import FULL_PIPELINE_JOB_NAME
    from automatic_transmission.pipeline.op import missing_job_settings

    settings, commands = first_run()
    for name in {*settings, *STACK_PROVIDES}:
        monkeypatch.delenv(name, raising=False)
    needed = set(missing_job_settings(defs.resolve_job_def(FULL_PIPELINE_JOB_NAME)))
    assert set(settings) == needed - STACK_PROVIDES
    assert all(value for value in settings.values())
    assert commands == [START]


@pytest.mark.integration
def test_the_start_command_of_the_readme_comes_up_with_check(tmp_path: Path) -> None:
    uv = shutil.which("uv") or shutil.which("uv", path=str(Path.home() / ".local/bin"))
    assert uv is not None, "uv is what the README's commands run"
    env = {k: v for k, v in os.environ.items() if not FOREIGN.match(k)}
    pgdata = REPO_ROOT / ".local" / f"test-readme-{os.getpid()}"  # pgserver's user reaches it
    env["DAGSTRIBUTOR_PGDATA"] = str(pgdata)
    ports = [str(free_port()) for _ in range(3)]
    command = [uv, *START[1:], "--check", "--port", ports[0], "--at-port", ports[1],
               "--wst-port", ports[2], "--dagster-home", str(tmp_path / "dagster_home")]  # fmt: skip
    try:
        done = subprocess.run(command, env=env, cwd=REPO_ROOT, capture_output=True, text=True,
                              timeout=400, check=False)  # fmt: skip
    finally:
        shutil.rmtree(pgdata, ignore_errors=True)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert "ready: Dagster UI on" in output and "all stopped" in output
    from automatic_transmission.definitions import defs

    shown = [j for j in defs.get_repository_def().get_all_jobs() if not j.name.startswith("__")]
    assert f"location automatic_transmission: {len(shown)} jobs" in output  # what the UI shows
