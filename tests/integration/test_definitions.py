"""Both locations load for every environment with the expected jobs and schedules."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Set

import dagster as dg
import pytest
import yaml

from automatic_transmission.definitions import build_definitions as build_at
from automatic_transmission.pipeline.jobs import CHAINS, STEPS
from automatic_transmission.pipeline.sensors import SENSOR_KEYS
from dagstributor_shared.environment import KUBERNETES_SERVICE_HOST_VAR as IN_CLUSTER_VAR
from dagstributor_shared.environment import Environment
from dagstributor_shared.schedules import find_config_dir
from tests.wiring_schema_tics.support import WST_JOB_NAMES
from wiring_schema_tics.definitions import build_definitions as build_wst


def _config(environment: Environment) -> dict[str, dict[str, object]]:
    path = find_config_dir() / "schedules" / f"{environment.value}.yaml"
    return dict(yaml.safe_load(path.read_text()))


def _jobs(defs: dg.Definitions) -> set[str]:
    return {job.name for job in defs.resolve_all_job_defs() if not job.name.startswith("__")}


def _schedules(defs: dg.Definitions) -> dict[str, dg.ScheduleDefinition]:
    repository = defs.get_repository_def()
    return {s.name: s for s in repository.schedule_defs}


def _assert_loads(
    defs: dg.Definitions, environment: Environment, jobs: Set[str], schedules: Set[str]
) -> None:
    """Exactly these jobs and schedules; each schedule runs `<key>_job` on the cron string of
    its entry in the environment's schedule file."""
    assert _jobs(defs) == jobs
    config = _config(environment)
    found = _schedules(defs)
    assert set(found) == schedules
    for key, schedule in found.items():
        assert schedule.cron_schedule == config[key]["cron_schedule"]
        assert schedule.job_name == f"{key}_job"


@pytest.mark.parametrize("environment", list(Environment), ids=lambda e: e.value)
def test_wiring_schema_tics_loads_with_six_jobs_and_the_backup_schedule(
    environment: Environment,
) -> None:
    _assert_loads(build_wst(environment), environment, WST_JOB_NAMES, {"wst_atp_bak"})


# Written out, not built from `STEPS`: a step added or renamed must show up here on purpose.
AT_SCHEDULES = {
    "at_01_rss_ingest",
    "at_02_collect",
    "at_03_parse",
    "at_04_file_filtration",
    "at_05_metadata_collection",
    "at_06_media_filtration",
    "at_07_initiation",
    "at_08_download_check",
    "at_09_transfer",
    "at_10_cleanup",
    "at_watchlist_sync",
    "at_media_pipeline_health",
}
AT_JOB_NAMES = {f"{key}_job" for key in AT_SCHEDULES} | {
    "at_full_pipeline_job",
    "at_retry_errored_job",
    "at_override_job",
    "at_reject_job",
    *CHAINS,  # the runs the sensors start
}


@pytest.mark.parametrize("environment", list(Environment), ids=lambda e: e.value)
def test_automatic_transmission_loads_a_job_and_schedule_per_implemented_step(
    environment: Environment,
) -> None:
    _assert_loads(build_at(environment), environment, AT_JOB_NAMES, AT_SCHEDULES)


@pytest.mark.parametrize("environment", list(Environment), ids=lambda e: e.value)
def test_every_schedule_file_has_an_entry_for_every_step_and_the_backup(
    environment: Environment,
) -> None:
    config = _config(environment)
    steps_and_health = (
        {step.key for step in STEPS}
        | {"at_media_pipeline_health", "at_watchlist_sync"}
        | SENSOR_KEYS
    )
    assert {key for key in config if key.startswith("at_")} == steps_and_health
    assert "wst_atp_bak" in config


SHOW_DEFS = (
    "import json\n"
    "from automatic_transmission.definitions import defs as at\n"
    "from wiring_schema_tics.definitions import defs as wst\n"
    "print(json.dumps({name: {s.name: s.cron_schedule for s in d.get_repository_def().schedule_defs}"
    " for name, d in (('at', at), ('wst', wst))}))\n"
)


def _import_defs(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("ENVIRONMENT", IN_CLUSTER_VAR)}
    return subprocess.run(
        [sys.executable, "-c", SHOW_DEFS],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_environment_variable_selects_the_schedule_file_of_each_location() -> None:
    for environment in Environment:
        done = _import_defs({"ENVIRONMENT": environment.value})
        assert done.returncode == 0, done.stderr[-2000:]
        loaded = json.loads(done.stdout.strip().splitlines()[-1])
        config = _config(environment)
        assert loaded["wst"] == {"wst_atp_bak": config["wst_atp_bak"]["cron_schedule"]}
        assert loaded["at"] == {
            name: schedule.cron_schedule
            for name, schedule in _schedules(build_at(environment)).items()
        }
        assert loaded["at"]["at_01_rss_ingest"] == config["at_01_rss_ingest"]["cron_schedule"]


def test_inside_kubernetes_a_location_without_environment_refuses_to_load() -> None:
    done = _import_defs({IN_CLUSTER_VAR: "10.43.0.1"})
    assert done.returncode != 0
    assert "ENVIRONMENT must be set inside Kubernetes" in done.stderr
