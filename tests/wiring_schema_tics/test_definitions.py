"""The location's definitions: six jobs, the backup schedule from the config file, one pool."""

from __future__ import annotations

import itertools

import dagster as dg
import pytest
import yaml

from dagstributor_shared.environment import Environment
from dagstributor_shared.schedules import schedule_file
from tests.wiring_schema_tics.support import WST_JOB_NAMES
from wiring_schema_tics.definitions import build_definitions
from wiring_schema_tics.jobs import SCHEMA_POOL, SCHEMA_RUN_TAG
from wiring_schema_tics.maintenance import MAINTENANCE_TAG

# drop -> instantiate -> reload -> verify counts are one op, one transaction (replace_atp).
STRICT_ORDER = ["backup_atp", "check_backups", "replace_atp"]


def _jobs(environment: Environment) -> dict[str, dg.JobDefinition]:
    repository = build_definitions(environment).get_repository_def()
    return {job.name: job for job in repository.get_all_jobs() if not job.name.startswith("__")}


@pytest.mark.parametrize("environment", list(Environment))
def test_every_environment_defines_the_six_jobs(environment: Environment) -> None:
    assert set(_jobs(environment)) == WST_JOB_NAMES


@pytest.mark.parametrize("environment", list(Environment))
def test_backup_schedule_uses_the_cron_of_the_environment_file(environment: Environment) -> None:
    expected = yaml.safe_load(schedule_file(environment).read_text())["wst_atp_bak"]
    repository = build_definitions(environment).get_repository_def()
    schedule = repository.get_schedule_def("wst_atp_bak")
    assert schedule.cron_schedule == expected["cron_schedule"]
    assert schedule.job_name == "wst_atp_bak_job"
    assert schedule.default_status.value == expected["default_status"]


@pytest.mark.parametrize("environment", list(Environment))
def test_every_op_of_every_job_is_in_the_shared_schema_pool(environment: Environment) -> None:
    for job in _jobs(environment).values():
        for node in job.graph.nodes:
            assert isinstance(node.definition, dg.OpDefinition), node.name
            assert node.definition.pool == SCHEMA_POOL, (job.name, node.name)


def test_every_schema_run_carries_the_concurrency_tag() -> None:
    for job in _jobs(Environment.DEV).values():
        assert job.run_tags.items() >= SCHEMA_RUN_TAG.items(), job.name


def test_jobs_run_their_ops_in_process() -> None:
    for job in _jobs(Environment.DEV).values():
        assert job.executor_def is dg.in_process_executor, job.name


def _upstream(job: dg.JobDefinition, name: str) -> set[str]:
    outputs = job.graph.dependency_structure.input_to_upstream_outputs_for_node(name)
    return {output.node_name for sources in outputs.values() for output in sources}


def test_bak_drop_reload_job_chains_its_steps_strictly_in_order() -> None:
    job = _jobs(Environment.DEV)["wst_atp_bak_drop_reload_job"]
    assert _upstream(job, STRICT_ORDER[0]) == set()
    for before, after in itertools.pairwise(STRICT_ORDER):
        assert _upstream(job, after) == {before}


def test_the_jobs_that_change_atp_hold_the_maintenance_lock_and_the_others_do_not() -> None:
    holding = {
        name
        for name, job in _jobs(Environment.DEV).items()
        if job.run_tags.items() >= MAINTENANCE_TAG.items()
    }
    assert holding == {
        "wst_atp_drop_job",
        "wst_atp_instantiate_job",
        "wst_atp_reload_job",
        "wst_atp_bak_drop_reload_job",
    }
