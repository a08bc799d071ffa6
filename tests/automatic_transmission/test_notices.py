"""Outcomes -> notifications: an item in the library, frozen rows, hung rejections."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from automatic_transmission.model import (
    HUNG_REASON,
    MediaRow,
    MediaType,
    Outcome,
    PipelineStatus,
    RejectionStatus,
)
from automatic_transmission.pipeline.notices import (
    item_label,
    notify_outcomes,
    outcome_messages,
)
from automatic_transmission.settings import NOTIFY_URLS_VAR
from dagstributor_shared.notify import Notifier, NotifierResource
from dagstributor_shared.postgres import PostgresResource
from tests.automatic_transmission.conftest import MediaTable
from tests.support.processes import free_port
from tests.support.steps import run_step, step_failure
from tests.support.transmission import download_resources
from tests.support.webhook import Webhook
from tests.support.webseed import write_payload


def row(hash_char: str, status: PipelineStatus, **fields: object) -> MediaRow:
    values: dict[str, object] = {
        "hash": hash_char * 40,
        "media_type": MediaType.MOVIE,
        "pipeline_status": status,
        "rejection_status": RejectionStatus.ACCEPTED,
        "original_title": f"Release.{hash_char}.1080p.WEB",
        **fields,
    }
    return MediaRow(**values)  # type: ignore[arg-type]


MOVIE = row("a", PipelineStatus.DOWNLOADED, media_title="Blade Runner", release_year=1982)
EPISODE = row(
    "b",
    PipelineStatus.DOWNLOADED,
    media_type=MediaType.TV_SHOW,
    media_title="Severance",
    season=2,
    episode=5,
)


def test_labels_name_the_year_or_the_episode() -> None:
    assert item_label("Blade Runner", year=1982) == "Blade Runner (1982)"
    assert item_label("Severance", year=2022, season=2, episode=5) == "Severance S02E05"
    assert item_label("Severance", season=2) == "Severance S02"
    assert item_label(None, fallback="Some.Release.720p") == "Some.Release.720p"


def test_an_imported_item_posts_one_message_with_title_year_and_place(webhook: Webhook) -> None:
    path = "/library/movies/Blade Runner (1982)/Blade Runner (1982).mkv"
    outcome = Outcome.advance(MOVIE, PipelineStatus.TRANSFERRED, target_path=path)
    notifier = Notifier.from_environment({}, urls=webhook.apprise_url)

    assert notify_outcomes(notifier, [outcome], {MOVIE.hash: MOVIE}) == 1

    assert webhook.texts() == [
        "Dagstributor: Blade Runner (1982) is in the library\n"
        f"Blade Runner (1982) reached the library: {path}"
    ]


def test_each_imported_item_is_its_own_message_and_episodes_show_sxxeyy() -> None:
    outcomes = [
        Outcome.advance(MOVIE, PipelineStatus.TRANSFERRED, target_path="/m/a.mkv"),
        Outcome.advance(EPISODE, PipelineStatus.TRANSFERRED, target_path="/tv/b.mkv"),
    ]
    messages = outcome_messages(outcomes, {r.hash: r for r in (MOVIE, EPISODE)})
    assert [title for title, _ in messages] == [
        "Dagstributor: Blade Runner (1982) is in the library",
        "Dagstributor: Severance S02E05 is in the library",
    ]


def test_frozen_and_hung_rows_are_one_message_each_per_run() -> None:
    stuck = row("c", PipelineStatus.DOWNLOADING)
    outcomes = [
        Outcome.freeze(MOVIE, "original_path is null"),
        Outcome.freeze(EPISODE, "library path escapes the root"),
        Outcome.reject(stuck, HUNG_REASON),
        Outcome.reject(stuck, "resolution 720p is not in allowed_values"),  # not news
        Outcome.retry(stuck, "transmission timed out"),  # not news either
    ]
    messages = outcome_messages(outcomes, {r.hash: r for r in (MOVIE, EPISODE)})
    assert [title for title, _ in messages] == [
        "Dagstributor: 2 items frozen in error",
        "Dagstributor: 1 item rejected as hung",
    ]
    frozen_body = messages[0][1]
    assert f"- Blade Runner (1982) ({'a' * 12}): original_path is null" in frozen_body
    assert "Severance S02E05" in frozen_body and "at_retry_errored_job" in frozen_body
    assert f"Release.c.1080p.WEB ({'c' * 12}): {HUNG_REASON}" in messages[1][1]


def test_outcomes_without_news_send_nothing(webhook: Webhook) -> None:
    notifier = Notifier.from_environment({}, urls=webhook.apprise_url)
    advanced = Outcome.advance(MOVIE, PipelineStatus.DOWNLOADING)
    assert notify_outcomes(notifier, [advanced]) == 0
    assert webhook.messages() == []


def test_a_step_whose_notification_cannot_be_delivered_still_succeeds() -> None:
    @dg.op
    def transfer(notifier: NotifierResource) -> int:
        outcome = Outcome.advance(MOVIE, PipelineStatus.TRANSFERRED, target_path="/m/a.mkv")
        return notify_outcomes(notifier.notifier(), [outcome], {MOVIE.hash: MOVIE})

    @dg.job
    def step() -> None:
        transfer()

    dead = f"json://127.0.0.1:{free_port()}/notify?cto=1&rto=1"
    result = step.execute_in_process(resources={"notifier": NotifierResource(urls=dead)})
    assert result.success
    assert result.output_for_node("transfer") == 0


# --- through the step runner: a real step run with AT_NOTIFY_URLS set ---------------------------


def freeze_one(postgres: PostgresResource, media: MediaTable, tmp_path: Path) -> dict[str, object]:
    """Run step 09 on a downloaded row without original_path (it freezes); the row afterwards."""
    media.add("1" * 40, pipeline_status="downloaded", original_title="Lost.Movie")
    result = run_step("at_09_transfer", postgres, download=download_resources(None, tmp_path))
    assert result.success, step_failure(result)
    return media.row("1" * 40)


@pytest.fixture
def notified(webhook: Webhook, monkeypatch: pytest.MonkeyPatch) -> Webhook:
    """The webhook, named by AT_NOTIFY_URLS for the runs of this test."""
    monkeypatch.setenv(NOTIFY_URLS_VAR, webhook.apprise_url)
    return webhook


def test_a_step_09_run_posts_exactly_one_library_message_with_title_and_destination(
    postgres: PostgresResource, media: MediaTable, notified: Webhook, tmp_path: Path
) -> None:
    write_payload(tmp_path / "downloads/Blade.Runner.1982.1080p/br.mkv", 1000)
    media.add("a" * 40, pipeline_status="downloaded", original_path="Blade.Runner.1982.1080p",
              original_title="Blade.Runner.1982.1080p", media_title="Blade Runner",
              release_year=1982)  # fmt: skip

    result = run_step("at_09_transfer", postgres, download=download_resources(None, tmp_path))

    assert result.success, step_failure(result)
    assert media.row("a" * 40)["pipeline_status"] == "transferred"
    assert notified.texts() == [
        "Dagstributor: Blade Runner (1982) is in the library\n"
        f"Blade Runner (1982) reached the library: {tmp_path / 'movies/Blade Runner (1982)'}"
    ]


def test_a_step_that_freezes_rows_posts_exactly_one_message_naming_them(
    postgres: PostgresResource, media: MediaTable, notified: Webhook, tmp_path: Path
) -> None:
    for n in (1, 2):  # step 09 freezes a downloaded row without original_path
        media.add(f"{n}" * 40, pipeline_status="downloaded", original_title=f"Lost.Movie.{n}")
    media.add("3" * 40, pipeline_status="parsed")  # not step 09's: no news

    result = run_step("at_09_transfer", postgres, download=download_resources(None, tmp_path))

    assert result.success, step_failure(result)
    assert [media.row(f"{n}" * 40)["error_status"] for n in (1, 2)] == [True, True]
    [text] = notified.texts()
    assert text.startswith("Dagstributor: 2 items frozen in error\n")
    assert f"Lost.Movie.1 ({'1' * 12}): original_path is null" in text
    assert f"Lost.Movie.2 ({'2' * 12}): original_path is null" in text


@pytest.mark.parametrize(
    "urls",
    ["", "json://127.0.0.1:9/notify?cto=1&rto=1"],  # unset; a target where nothing listens
    ids=["no-urls", "undeliverable"],
)
def test_a_step_records_its_rows_and_succeeds_when_notifications_are_off_or_undeliverable(
    postgres: PostgresResource,
    media: MediaTable,
    webhook: Webhook,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    urls: str,
) -> None:
    monkeypatch.setenv(NOTIFY_URLS_VAR, urls)

    row = freeze_one(postgres, media, tmp_path)

    assert (row["error_status"], row["error_condition"]) == (True, "original_path is null")
    assert webhook.messages() == []
