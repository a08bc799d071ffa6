"""Every job carries a deadline; the transfer job's run pod mounts the download and library folders."""

from __future__ import annotations

import json

import dagster as dg
import pytest
from dagster_k8s.job import get_user_defined_k8s_config

from automatic_transmission.pipeline import run_tags
from automatic_transmission.pipeline.jobs import STEPS, Step, full_pipeline_job, step_job
from automatic_transmission.pipeline.op import step_op
from dagstributor_shared.environment import KUBERNETES_SERVICE_HOST_VAR, Environment
from dagstributor_shared.run_tags import MAX_RUNTIME_TAG, max_runtime_tag


@pytest.fixture(autouse=True)
def in_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests look at the tags as a cluster builds them (the kubelet sets this variable)."""
    monkeypatch.setenv(KUBERNETES_SERVICE_HOST_VAR, "10.0.0.1")
    monkeypatch.setenv("ENVIRONMENT", "dev")  # required in a cluster (importing a location)


def all_jobs(environment: Environment) -> list[dg.JobDefinition]:
    from automatic_transmission.definitions import build_definitions as build_at
    from wiring_schema_tics.definitions import build_definitions as build_wst

    # Dagster's implicit `__ASSET_JOB` (materializing media_pipeline from its asset page, a
    # short query) is no job of ours: it carries no tags.
    return [
        job
        for build in (build_at, build_wst)
        for job in build(environment).get_repository_def().get_all_jobs()
        if not job.name.startswith("__")
    ]


@pytest.mark.parametrize("environment", list(Environment))
def test_every_run_of_every_job_carries_a_positive_max_runtime(environment: Environment) -> None:
    jobs = all_jobs(environment)
    assert len(jobs) >= 8
    for job in jobs:
        assert float(job.run_tags[MAX_RUNTIME_TAG]) > 0, job.name


def test_a_workstation_shows_no_kubernetes_tag_on_any_job(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KUBERNETES_SERVICE_HOST_VAR)
    jobs = all_jobs(Environment.DEV)
    assert len(jobs) >= 8
    for job in jobs:
        assert MAX_RUNTIME_TAG not in job.run_tags, job.name
        assert run_tags.K8S_CONFIG_TAG not in job.run_tags, job.name
    assert run_tags.step_tags("transfer") == {}


def test_a_deadline_must_be_positive() -> None:
    assert max_runtime_tag(60) == {MAX_RUNTIME_TAG: "60"}
    with pytest.raises(ValueError):
        max_runtime_tag(0)


def test_the_full_chain_of_schema_jobs_gets_longer_than_one_schema_operation() -> None:
    runtimes = {job.name: float(job.run_tags[MAX_RUNTIME_TAG]) for job in all_jobs(Environment.DEV)}
    assert runtimes["wst_atp_bak_drop_reload_job"] > runtimes["wst_atp_bak_job"]


def k8s_config(tags: dict[str, str]) -> dict:
    """The tag as the K8sRunLauncher reads it (it validates the document)."""
    return get_user_defined_k8s_config(tags).to_dict()


def test_transfer_pod_mounts_download_movie_and_tv_claims_at_fixed_paths() -> None:
    config = k8s_config(run_tags.step_tags("transfer"))
    mounts = {m["name"]: m["mount_path"] for m in config["container_config"]["volume_mounts"]}
    claims = {
        v["name"]: v["persistent_volume_claim"]["claim_name"]
        for v in config["pod_spec_config"]["volumes"]
    }
    assert mounts == {
        "downloads": "/data/downloads",
        "movies": "/data/movies",
        "tv-shows": "/data/tv_shows",
    }
    assert claims == {"downloads": "at-downloads", "movies": "at-movies", "tv-shows": "at-tv-shows"}
    # No hostPath in the pod: the "restricted" Pod Security Standard refuses it.
    assert "host_path" not in json.dumps(config) and "hostPath" not in json.dumps(config)


def test_transfer_gets_a_longer_deadline_and_kubernetes_a_backstop_past_it() -> None:
    tags = run_tags.step_tags("transfer")
    transfer = float(tags[MAX_RUNTIME_TAG])
    assert transfer > float(run_tags.step_tags("parse")[MAX_RUNTIME_TAG])
    deadline = k8s_config(tags)["job_spec_config"]["active_deadline_seconds"]
    assert deadline > transfer


def test_other_steps_get_no_pod_config() -> None:
    others = [step for step in STEPS if step.name != "transfer"]
    assert others
    for step in others:
        assert run_tags.K8S_CONFIG_TAG not in run_tags.step_tags(step.name), step.name


def test_a_transfer_job_and_a_pipeline_containing_it_carry_the_mounts() -> None:
    @step_op("transfer")
    def transfer_op() -> None:
        pass

    @step_op("parse")
    def parse_op() -> None:
        pass

    steps = (Step(3, "parse", op=parse_op), Step(9, "transfer", op=transfer_op))
    transfer_job = step_job(steps[1])
    pipeline = full_pipeline_job(steps)
    for job in (transfer_job, pipeline):
        volumes = k8s_config(dict(job.run_tags))["pod_spec_config"]["volumes"]
        assert {v["name"] for v in volumes} == {"downloads", "movies", "tv-shows"}, job.name
    # the full pipeline runs the watchlist sync first (issue 16)
    assert float(pipeline.run_tags[MAX_RUNTIME_TAG]) == sum(
        float(run_tags.step_tags(name)[MAX_RUNTIME_TAG])
        for name in ("watchlist_sync", "parse", "transfer")
    )
    assert run_tags.K8S_CONFIG_TAG not in step_job(steps[0]).run_tags
