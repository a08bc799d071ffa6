"""Optional pipeline settings: defaults, variables read at run start, errors naming the variable."""

from __future__ import annotations

import pytest

from automatic_transmission.clients.feeds import FeedsResource
from automatic_transmission.clients.omdb import OmdbResource
from automatic_transmission.clients.reel_driver import ReelDriverResource
from automatic_transmission.clients.tmdb import TmdbResource
from automatic_transmission.definitions import defs as at_defs
from automatic_transmission.filters import FilterSettings
from automatic_transmission.settings import PipelineSettings, SettingsError
from dagstributor_shared.postgres import PostgresResource
from tests.support.steps import step_failure


def test_batch_size_defaults_to_fifty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AT_BATCH_SIZE", raising=False)
    assert PipelineSettings().rows_per_batch() == 50


def test_batch_size_comes_from_the_variable_and_an_explicit_field_wins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AT_BATCH_SIZE", "200")
    assert PipelineSettings().rows_per_batch() == 200
    assert PipelineSettings(batch_size=7).rows_per_batch() == 7


@pytest.mark.parametrize("value", ["0", "-3", "2.5", "lots"])
def test_a_bad_batch_size_is_an_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("AT_BATCH_SIZE", value)
    with pytest.raises(SettingsError, match="AT_BATCH_SIZE"):
        PipelineSettings().rows_per_batch()


def test_stale_metadata_threshold_must_not_be_negative(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AT_STALE_METADATA_THRESHOLD", "-1")
    with pytest.raises(SettingsError, match="AT_STALE_METADATA_THRESHOLD must be at least 0"):
        FilterSettings().stale_after_days()


def test_reel_driver_threshold_must_be_a_probability(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REEL_DRIVER_HOST", "127.0.0.1")
    monkeypatch.setenv("AT_REEL_DRIVER_THRESHOLD", "1.5")
    with pytest.raises(SettingsError, match="AT_REEL_DRIVER_THRESHOLD must be between 0 and 1"):
        ReelDriverResource().resolved_threshold()


# --- required settings: the run fails at its start, one sentence naming every missing one -------

STEP_01 = ("AT_RSS_SOURCES", "AT_RSS_URLS")
STEP_05 = ("AT_MOVIE_RATINGS_API_KEY", "AT_MOVIE_SEARCH_API_KEY")
LIBRARY = ("AT_DOWNLOAD_DIR", "AT_MOVIE_DIR", "AT_TV_SHOW_DIR")
# every required setting of the full job, in the order of the resource keys using them
REQUIRED = (*STEP_01, *LIBRARY, *STEP_05, "TRANSMISSION_HOST")


@pytest.mark.parametrize(
    ("job", "missing"),
    [("at_full_pipeline_job", REQUIRED), ("at_05_metadata_collection_job", STEP_05)],
)
def test_a_run_without_required_settings_fails_at_start_listing_every_missing_one(
    monkeypatch: pytest.MonkeyPatch, postgres: PostgresResource, job: str, missing: tuple[str]
) -> None:
    for name in REQUIRED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AT_RSS_URLS", "")  # empty counts as missing
    result = at_defs.resolve_job_def(job).execute_in_process(
        resources={"postgres": postgres}, raise_on_error=False
    )
    assert not result.success
    failure = step_failure(result)
    assert failure.startswith(f"{job} needs settings that are not set: {', '.join(missing)}.")
    assert "Traceback" not in failure and "PostProcessingError" not in failure
    started = [e.step_key for e in result.all_events if e.event_type_value == "STEP_START"]
    assert len(started) == 1  # the first step stopped the run; no later step ran


def test_explicit_fields_count_as_set() -> None:
    assert FeedsResource(sources="yts.mx", urls="http://127.0.0.1/rss").missing_settings() == []
    assert TmdbResource(api_key="k").missing_settings() == []
    assert OmdbResource(api_key="").missing_settings() == ["AT_MOVIE_RATINGS_API_KEY"]


def test_a_resource_configured_through_dg_envvar_is_left_to_dagster(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import dagster as dg

    from automatic_transmission.pipeline.jobs import STEPS, step_job
    from automatic_transmission.pipeline.op import missing_job_settings
    from automatic_transmission.pipeline.resources import pipeline_resources

    for name in STEP_05:
        monkeypatch.delenv(name, raising=False)
    step = next(step for step in STEPS if step.number == 5)

    def missing(**resources: dg.ConfigurableResource) -> list[str]:
        defs = dg.Definitions(
            jobs=[step_job(step)], resources={**pipeline_resources(), **resources}
        )
        return missing_job_settings(defs.resolve_job_def(step.job_name))

    assert missing() == list(STEP_05)
    assert missing(tmdb=TmdbResource(api_key=dg.EnvVar(STEP_05[1]))) == [STEP_05[0]]
