"""The schedule YAML loader: enabled, default_status, time zone, and errors naming file and key."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
import yaml

from dagstributor_shared.environment import Environment
from dagstributor_shared.schedules import (
    OWNERS_FILE,
    SCHEDULE_PROFILE_VAR,
    ScheduleConfigError,
    build_schedules,
    find_config_dir,
    owner_prefixes,
)


@dg.op
def noop() -> None:
    pass


@dg.job
def at_01_rss_ingest_job() -> None:
    noop()


@dg.job
def at_03_parse_job() -> None:
    noop()


JOBS = {"at_01_rss_ingest": at_01_rss_ingest_job, "at_03_parse": at_03_parse_job}
KNOWN = frozenset({*JOBS, "at_02_collect"})


def _config(tmp_path: Path, text: str, env: str = "dev") -> Path:
    folder = tmp_path / "config" / "schedules"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{env}.yaml").write_text(text)
    (folder / OWNERS_FILE).write_text("at_: automatic_transmission\nwst_: wiring_schema_tics\n")
    return tmp_path / "config"


def _build(config_dir: Path, env: Environment = Environment.DEV) -> list[dg.ScheduleDefinition]:
    return build_schedules(JOBS, "at_", env, known_keys=KNOWN, config_dir=config_dir)


def test_fields_are_honoured_and_timezone_defaults_to_utc(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        """
at_01_rss_ingest: {cron_schedule: "*/15 * * * *", default_status: RUNNING, enabled: true}
at_03_parse:
  cron_schedule: "2,18,32,47 * * * *"
  default_status: STOPPED
  enabled: true
  execution_timezone: Europe/Berlin
wst_atp_bak: {cron_schedule: "57 9 * * 0", default_status: RUNNING, enabled: true}
""",
    )
    schedules = {s.name: s for s in _build(config)}
    assert set(schedules) == {"at_01_rss_ingest", "at_03_parse"}
    ingest = schedules["at_01_rss_ingest"]
    assert ingest.cron_schedule == "*/15 * * * *"
    assert ingest.default_status is dg.DefaultScheduleStatus.RUNNING
    assert ingest.execution_timezone == "UTC"
    assert ingest.job_name == "at_01_rss_ingest_job"
    assert schedules["at_03_parse"].execution_timezone == "Europe/Berlin"
    assert schedules["at_03_parse"].default_status is dg.DefaultScheduleStatus.STOPPED


def test_disabled_schedule_is_not_registered(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        'at_01_rss_ingest: {cron_schedule: "* * * * *", default_status: RUNNING, enabled: false}\n'
        'at_03_parse: {cron_schedule: "* * * * *", default_status: RUNNING, enabled: true}\n',
    )
    assert [s.name for s in _build(config)] == ["at_03_parse"]


def test_known_schedule_without_a_key_is_simply_not_scheduled(tmp_path: Path) -> None:
    config = _config(tmp_path, 'at_03_parse: {cron_schedule: "0 * * * *"}\n')
    assert [s.name for s in _build(config)] == ["at_03_parse"]


def test_known_key_whose_job_is_not_built_yet_is_validated_but_not_registered(
    tmp_path: Path,
) -> None:
    config = _config(tmp_path, 'at_02_collect: {cron_schedule: "0 * * * *"}\n')
    assert _build(config) == []
    bad = _config(tmp_path, 'at_02_collect: {cron_schedule: "not a cron"}\n', env="stg")
    with pytest.raises(ScheduleConfigError, match="at_02_collect"):
        _build(bad, Environment.STG)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('at_99_unknown: {cron_schedule: "* * * * *"}', "schedule 'at_99_unknown' names no known"),
        ('typo_schedule: {cron_schedule: "* * * * *"}', "schedule 'typo_schedule' names no known"),
        (
            'at_03_parse: {cron_schedule: "61 * * * *"}',
            "at_03_parse.*'61 \\* \\* \\* \\*' is not a",
        ),
        ('at_03_parse: {cron_schedule: "* * * * *", default_status: MAYBE}', "must be RUNNING"),
        ('at_03_parse: {cron_schedule: "* * * * *", enabled: "yes"}', "enabled must be true"),
        (
            'at_03_parse: {cron_schedule: "* * * * *", execution_timezone: Mars/Olympus}',
            "time zone",
        ),
        (
            'at_03_parse: {cron_schedule: "* * * * *", execution_timezone: localtime}',
            "'localtime' is not a known time zone",
        ),
        ('at_03_parse: {cron_schedule: "0 0 5 * * *"}', "'0 0 5 \\* \\* \\*' is not a valid"),
        (
            'at_03_parse: {cron_schedule: "0 5 * * *"}\nat_03_parse: {cron_schedule: "0 6 * * *"}',
            "not valid YAML.*'at_03_parse' appears twice",
        ),
        ('at_03_parse: {cron_schedule: "* * * * *", cron: "x"}', "unknown field"),
        ("at_03_parse: [1, 2]", "expected a mapping"),
        ("- just\n- a list", "mapping of schedule keys"),
        ("at_03_parse: {cron_schedule: [unclosed", "not valid YAML"),
    ],
)
def test_bad_files_give_errors_naming_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    config = _config(tmp_path, text)
    with pytest.raises(ScheduleConfigError, match=message) as caught:
        _build(config)
    assert str(config / "schedules" / "dev.yaml") in str(caught.value)


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    config = _config(tmp_path, "{}", env="dev")
    with pytest.raises(ScheduleConfigError, match=r"prod\.yaml: schedule file not found"):
        _build(config, Environment.PROD)


def test_config_dir_is_found_from_the_checkout() -> None:
    assert (find_config_dir() / "schedules" / "prod.yaml").is_file()


def test_config_dir_can_be_named_by_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSTRIBUTOR_CONFIG_DIR", str(tmp_path))
    assert find_config_dir() == tmp_path


def test_the_local_profile_runs_the_pipeline_by_itself_and_dev_stays_stopped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The local stack sets DAGSTRIBUTOR_SCHEDULES=local: every schedule RUNNING, the whole
    pipeline each minute; ENVIRONMENT stays dev, whose file keeps every schedule STOPPED."""
    from automatic_transmission.definitions import build_definitions as build_at
    from wiring_schema_tics.definitions import build_definitions as build_wst

    def schedules() -> dict[str, dg.ScheduleDefinition]:
        return {
            s.name: s
            for build in (build_at, build_wst)
            for s in build(Environment.DEV).get_repository_def().schedule_defs
        }

    monkeypatch.delenv(SCHEDULE_PROFILE_VAR, raising=False)
    assert {s.default_status for s in schedules().values()} == {dg.DefaultScheduleStatus.STOPPED}
    assert "at_full_pipeline" not in schedules()

    monkeypatch.setenv(SCHEDULE_PROFILE_VAR, "local")
    local = schedules()
    assert {s.default_status for s in local.values()} == {dg.DefaultScheduleStatus.RUNNING}
    assert local["at_full_pipeline"].cron_schedule == "* * * * *"
    assert local["at_full_pipeline"].job_name == "at_full_pipeline_job"
    assert {"at_media_pipeline_health", "wst_atp_bak"} <= set(local)


def test_a_profile_that_names_no_file_is_an_error_naming_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(SCHEDULE_PROFILE_VAR, "holiday")
    with pytest.raises(ScheduleConfigError, match=r"holiday\.yaml: schedule file not found"):
        _build(_config(tmp_path, "{}\n"))
    monkeypatch.setenv(SCHEDULE_PROFILE_VAR, "../prod")
    with pytest.raises(ScheduleConfigError, match=f"{SCHEDULE_PROFILE_VAR} must name a file"):
        _build(_config(tmp_path, "{}\n"))


def test_a_prefix_no_location_owns_and_a_missing_owners_file_are_errors(tmp_path: Path) -> None:
    config = _config(tmp_path, 'at_03_parse: {cron_schedule: "* * * * *"}\n')
    with pytest.raises(ScheduleConfigError, match="no location owns prefix 'xyz_'"):
        build_schedules(JOBS, "xyz_", Environment.DEV, known_keys=KNOWN, config_dir=config)
    (config / "schedules" / OWNERS_FILE).unlink()
    with pytest.raises(ScheduleConfigError, match=r"owners\.yaml: file of schedule key owners"):
        _build(config)


def test_the_repository_names_an_owner_for_every_key_of_its_schedule_files() -> None:
    """Each location reads its own keys; the owners file covers every key of every file."""
    folder = find_config_dir() / "schedules"
    prefixes = owner_prefixes(folder)
    assert set(prefixes) == {"at_", "wst_"}
    files = [folder / f"{env.value}.yaml" for env in Environment] + [folder / "local.yaml"]
    for file in files:
        keys = yaml.safe_load(file.read_text())
        assert keys and all(str(key).startswith(prefixes) for key in keys)
