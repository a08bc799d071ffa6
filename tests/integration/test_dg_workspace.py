"""The repository is a `dg` workspace: `dg list defs` and `dg check defs` work from its root.

`dg.toml` (the workspace) names both locations; each location's pyproject.toml has the
`[tool.dg]` project section. dg runs from the one uv workspace .venv, the interpreter of these
tests. The three commands run at once as subprocesses from the repository root (about 15 s).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable

import dagster as dg
import pytest

from dagstributor_shared.environment import Environment
from tests.support.processes import LOCATION_MODULES, REPO_ROOT, dagster_command
from tests.wiring_schema_tics.support import WST_JOB_NAMES

pytestmark = pytest.mark.integration

TIMEOUT = 120.0
# `dg list defs` lists one project per call: the project's folder, from the workspace root.
PROJECT_PATHS = {name: f"locations/{name}" for name in LOCATION_MODULES}


def in_process_jobs() -> dict[str, set[str]]:
    """Location -> job names of its Definitions for ENVIRONMENT=dev, built in this process
    (without Dagster's implicit `__ASSET_JOB`, which `dg list defs` does not show)."""
    from automatic_transmission.definitions import build_definitions as build_at
    from wiring_schema_tics.definitions import build_definitions as build_wst

    builders: dict[str, Callable[[Environment], dg.Definitions]] = {
        "automatic_transmission": build_at,
        "wiring_schema_tics": build_wst,
    }
    return {
        name: {
            job.name
            for job in build(Environment.DEV).get_repository_def().get_all_jobs()
            if not job.name.startswith("__")
        }
        for name, build in builders.items()
    }


@pytest.fixture(scope="module")
def dg_results() -> dict[str, subprocess.CompletedProcess[str]]:
    """`dg list defs --json` per project and `dg check defs` for the workspace, run in parallel
    from the repository root with ENVIRONMENT=dev and a temporary Dagster instance."""
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env["ENVIRONMENT"] = "dev"
    commands = {
        **{
            name: dagster_command("dg", "list", "defs", "--json", "--target-path", path)
            for name, path in PROJECT_PATHS.items()
        },
        # --use-active-venv: every project runs in this environment (the uv workspace's .venv),
        # not in a .venv of its own folder, which a uv workspace does not have.
        "check": dagster_command("dg", "check", "defs", "--use-active-venv", "--log-level", "info"),
    }
    started = {
        key: subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for key, command in commands.items()
    }
    results = {}
    try:
        for key, process in started.items():
            stdout, stderr = process.communicate(timeout=TIMEOUT)
            results[key] = subprocess.CompletedProcess(
                process.args, process.returncode, stdout, stderr
            )
    finally:
        for process in started.values():
            if process.poll() is None:
                process.kill()
                process.wait()
    return results


def test_dg_finds_the_workspace_and_both_projects() -> None:
    listed = subprocess.run(
        dagster_command("dg", "list", "projects"),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == list(PROJECT_PATHS.values())


@pytest.mark.parametrize("location", sorted(LOCATION_MODULES))
def test_dg_list_defs_shows_the_jobs_of_the_definitions(
    location: str, dg_results: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    result = dg_results[location]
    assert result.returncode == 0, result.stderr[-4000:]
    listed = {job["name"] for job in json.loads(result.stdout)["jobs"]}
    assert listed == in_process_jobs()[location]
    if location == "wiring_schema_tics":
        assert listed == WST_JOB_NAMES


def test_dg_check_defs_loads_both_locations(
    dg_results: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    result = dg_results["check"]
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    for location in LOCATION_MODULES:
        assert f"Validation successful for code location {location}." in output, output[-4000:]
    assert "All definitions loaded successfully." in result.stdout
