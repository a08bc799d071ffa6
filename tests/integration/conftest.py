"""Fixtures of the integration tests: a prepared Dagster instance and a log folder per test."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.processes import REPO_ROOT, dagster_command

INSTANCE_TEMPLATE = REPO_ROOT / "config" / "dagster" / "local.yaml"


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
