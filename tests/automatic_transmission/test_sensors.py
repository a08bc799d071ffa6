"""The sensors that start the next steps without waiting for a cron slot (Dagster's sensor
testing API), and their switches in the schedule YAML."""

import shutil
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml

from automatic_transmission.pipeline.jobs import (
    DOWNLOADED_TO_LIBRARY_JOB_NAME,
    PARSE_TO_ACCEPT_JOB_NAME,
    chain_jobs,
    pipeline_jobs,
)
from automatic_transmission.pipeline.sensors import (
    CHAIN_SENSOR_KEY,
    DOWNLOAD_SENSOR_KEY,
    build_sensors,
    next_jobs,
)
from automatic_transmission.settings import config_dir
from dagstributor_shared.environment import Environment
from dagstributor_shared.schedules import ScheduleConfigError
from tests.support.transmission import Daemon
from tests.support.webseed import WebSeed, write_payload


def sensors(environment: str = "prod") -> dict[str, Any]:
    jobs = {**pipeline_jobs(), **chain_jobs()}
    return {s.name: s for s in build_sensors(jobs, Environment(environment))}


@pytest.mark.parametrize(
    ("figures", "jobs"),
    [
        ({"rss_ingest": {"inserted": 3}}, [PARSE_TO_ACCEPT_JOB_NAME]),
        ({"rss_ingest": {"inserted": 0, "entries": 9}}, []),
        ({"media_filtration": {"advanced": 2}}, ["at_07_initiation_job"]),
        ({"media_filtration": {"advanced": 0, "rejected": 4}}, []),
        ({"parse": {"advanced": 5}, "media_filtration": {"advanced": 1}}, ["at_07_initiation_job"]),
        ({}, []),
    ],
)
def test_a_finished_run_calls_for_the_next_steps_only_when_it_left_them_work(
    figures: dict[str, dict[str, int]], jobs: list[str]
) -> None:
    assert next_jobs(figures) == jobs


def finished_run(op_name: str, figures: dict[str, int]) -> tuple[dg.DagsterInstance, Any]:
    """A successful run whose step `op_name` reported `figures` as a step does (output metadata),
    on an ephemeral instance."""

    @dg.op(name=op_name)
    def step(context: dg.OpExecutionContext) -> None:
        context.add_output_metadata({k: dg.MetadataValue.int(v) for k, v in figures.items()})

    @dg.job(name=f"{op_name}_run")
    def run() -> None:
        step()

    instance = dg.DagsterInstance.ephemeral()
    return instance, run.execute_in_process(instance=instance)


@pytest.mark.parametrize(
    ("op_name", "figures", "requested"),
    [
        ("rss_ingest", {"inserted": 2}, [PARSE_TO_ACCEPT_JOB_NAME]),
        ("rss_ingest", {"inserted": 0}, []),
        ("media_filtration", {"advanced": 1}, ["at_07_initiation_job"]),
        ("media_filtration", {"advanced": 0}, []),
    ],
)
def test_the_chain_sensor_starts_what_a_successful_run_left_work_for(
    op_name: str, figures: dict[str, int], requested: list[str]
) -> None:
    instance, result = finished_run(op_name, figures)
    context = dg.build_run_status_sensor_context(
        sensor_name=CHAIN_SENSOR_KEY,
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        dagster_event=result.get_run_success_event(),
    )
    answer = sensors()[CHAIN_SENSOR_KEY](context)
    if requested:
        assert [r.job_name for r in answer] == requested
        assert answer[0].run_key == f"{result.run_id}:{requested[0]}"  # once per run
    else:
        assert isinstance(answer, dg.SkipReason)


@pytest.mark.integration
def test_the_download_sensor_starts_08_09_once_per_finished_torrent(
    transmission: Daemon, seed: WebSeed
) -> None:
    download_sensor = sensors()[DOWNLOAD_SENSOR_KEY]
    assert download_sensor.job_name == DOWNLOADED_TO_LIBRARY_JOB_NAME
    resources = {"transmission": transmission.resource()}
    instance = dg.DagsterInstance.ephemeral()

    def evaluate(cursor: str | None) -> Any:
        context = dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources)
        return download_sensor(context), context

    idle, context = evaluate(None)
    assert isinstance(idle, dg.SkipReason)  # nothing in Transmission yet

    folder = seed.root / "Heat.1995.1080p"
    write_payload(folder / "Heat.1995.1080p.mkv", 100_000)
    torrent = seed.make_torrent(folder)
    transmission.rpc().add_torrent(torrent.url)
    transmission.wait_until(torrent.hash, "seeding")

    started, _ = evaluate(context.cursor)
    assert isinstance(started, dg.SensorResult)
    [request] = started.run_requests or []
    assert isinstance(request, dg.RunRequest)
    again, _ = evaluate(started.cursor)  # the same finished torrent: no second run
    assert isinstance(again, dg.SkipReason)


def test_the_download_sensor_skips_while_transmission_is_down() -> None:
    from automatic_transmission.clients.transmission import TransmissionResource

    down = TransmissionResource(host="127.0.0.1", port=9, timeout_s=2.0)
    context = dg.build_sensor_context(resources={"transmission": down})
    answer = sensors()[DOWNLOAD_SENSOR_KEY](context)
    assert isinstance(answer, dg.SkipReason)
    assert "Transmission at 127.0.0.1:9 unreachable" in str(answer.skip_message)


def config_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **keys: Any) -> None:
    """A copy of the repository's config/ whose prod schedule file has these sensor keys."""
    config = tmp_path / "config"
    shutil.copytree(config_dir().parent, config)
    path = config / "schedules/prod.yaml"
    document = yaml.safe_load(path.read_text())
    for key, value in keys.items():
        if value is None:
            document.pop(key, None)
        else:
            document[key] = value
    path.write_text(yaml.safe_dump(document))
    monkeypatch.setenv("DAGSTRIBUTOR_CONFIG_DIR", str(config))


def test_sensors_run_by_default_and_a_household_switches_them_off_in_the_yaml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_with(tmp_path, monkeypatch, at_download_sensor=None, at_chain_sensor=None)
    assert {s.default_status for s in sensors().values()} == {dg.DefaultSensorStatus.RUNNING}

    config_with(
        tmp_path / "off", monkeypatch,
        at_download_sensor={"default_status": "STOPPED", "minimum_interval_seconds": 60},
        at_chain_sensor={"enabled": False},
    )  # fmt: skip
    found = sensors()
    assert list(found) == [DOWNLOAD_SENSOR_KEY]
    assert found[DOWNLOAD_SENSOR_KEY].default_status is dg.DefaultSensorStatus.STOPPED
    assert found[DOWNLOAD_SENSOR_KEY].minimum_interval_seconds == 60


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"at_donwload_sensor": {}}, "sensor 'at_donwload_sensor' names no known sensor"),
        ({"at_chain_sensor": {"default_status": "ON"}}, "default_status 'ON' must be RUNNING"),
        ({"at_chain_sensor": {"minimum_interval_seconds": 1}}, "minimum_interval_seconds must"),
        ({"at_chain_sensor": {"cron_schedule": "* * * * *"}}, "unknown field(s) cron_schedule"),
    ],
)
def test_a_bad_sensor_key_is_an_error_naming_file_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keys: dict[str, Any], message: str
) -> None:
    config_with(tmp_path, monkeypatch, **keys)
    with pytest.raises(ScheduleConfigError) as raised:
        sensors()
    assert "schedules/prod.yaml: sensor '" in str(raised.value)
    assert message in str(raised.value)
