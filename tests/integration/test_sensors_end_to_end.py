"""Issue 18: the sensors start the next steps, end to end on the local stack. Only step 01 runs
by schedule (every minute, a test profile of config/schedules/); the stand-in feed lists a movie
on the web seed, and it reaches the library through runs the sensors start: the chain sensor
starts 03 -> 06 after step 01 inserted it, then step 07 after 06 accepted it, and the download
sensor starts 08 -> 09 when Transmission has it complete."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from automatic_transmission.pipeline.jobs import (
    DOWNLOADED_TO_LIBRARY_JOB_NAME,
    PARSE_TO_ACCEPT_JOB_NAME,
)
from automatic_transmission.pipeline.sensors import CHAIN_SENSOR_KEY, DOWNLOAD_SENSOR_KEY, STEP_JOB
from dagstributor_shared.schedules import CONFIG_DIR_VAR, SCHEDULE_PROFILE_VAR
from tests.integration.test_full_pipeline import MOVIE_FILE, MOVIE_NAME
from tests.integration.test_local_stack_runs_itself import runs, stand_ins, start_stack
from tests.support.http import FakeHttpServer
from tests.support.processes import REPO_ROOT, stop_all, wait_for
from tests.support.transmission import safety_rules_for_tests
from tests.support.webseed import WebSeed

pytestmark = pytest.mark.integration

PROFILE = "sensors_e2e"
STEP_01 = "at_01_rss_ingest"
SENSOR_INTERVAL = 5
SENSOR_TAG = "dagster/sensor_name"
SCHEDULE_TAG = "dagster/schedule_name"


def sensor_profile(config_dir: Path) -> None:
    """A copy of config/ whose PROFILE stops every schedule but step 01's (every minute) and
    runs both sensors every SENSOR_INTERVAL seconds; its safety floors are the tests'."""
    shutil.copytree(REPO_ROOT / "config", config_dir)
    entries = yaml.safe_load((config_dir / "schedules" / "dev.yaml").read_text())
    for key, entry in entries.items():
        if key.endswith("_sensor"):
            entry.update(default_status="RUNNING", minimum_interval_seconds=SENSOR_INTERVAL)
        elif key == STEP_01:
            entry.update(cron_schedule="* * * * *", default_status="RUNNING")
        else:
            entry.update(default_status="STOPPED")
    assert {CHAIN_SENSOR_KEY, DOWNLOAD_SENSOR_KEY, STEP_01} <= set(entries)
    (config_dir / "schedules" / f"{PROFILE}.yaml").write_text(yaml.safe_dump(entries))
    safety_rules_for_tests(config_dir / "automatic_transmission")  # kilobyte test torrents


def test_the_sensors_take_an_item_from_step_01_to_the_library(
    http_server: FakeHttpServer, seed: WebSeed, tmp_path: Path
) -> None:
    pgdata = REPO_ROOT / ".local" / f"test-sensors-{os.getpid()}"  # pgserver's user reaches it
    movie, env = stand_ins(http_server, seed, pgdata)
    sensor_profile(tmp_path / "config")
    env.update({CONFIG_DIR_VAR: str(tmp_path / "config"), SCHEDULE_PROFILE_VAR: PROFILE})
    stack, url = start_stack(env, tmp_path)
    try:
        placed = tmp_path / "library" / MOVIE_FILE

        def in_library() -> bool:
            stack.check_alive()
            return placed.is_file()

        try:
            wait_for(in_library, 300, f"{MOVIE_FILE} in the library")
        except TimeoutError:
            print(runs(url), stack.output()[-4000:])
            raise
        assert placed.read_bytes() == (movie.path / f"{MOVIE_NAME}.mkv").read_bytes()
        launched = runs(url)
    finally:
        output = stack.output()
        stop_all([stack], 20.0)
        shutil.rmtree(pgdata, ignore_errors=True)
    assert f"schedules {PROFILE}.yaml" in output
    origins: dict[str, set[str]] = {}
    for run in launched:
        tags = {tag["key"]: tag["value"] for tag in run["tags"]}
        origin = tags.get(SENSOR_TAG) or f"schedule {tags.get(SCHEDULE_TAG)}"
        origins.setdefault(run["jobName"], set()).add(origin)
    print(origins)
    assert origins.pop(STEP_JOB[1]) == {f"schedule {STEP_01}"}
    assert origins.pop(PARSE_TO_ACCEPT_JOB_NAME) == {CHAIN_SENSOR_KEY}
    assert origins.pop(STEP_JOB[7]) == {CHAIN_SENSOR_KEY}
    assert origins.pop(DOWNLOADED_TO_LIBRARY_JOB_NAME) == {DOWNLOAD_SENSOR_KEY}
    assert not origins, f"runs nobody asked for: {origins}"
