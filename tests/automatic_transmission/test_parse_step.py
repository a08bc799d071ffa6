"""Step 03 parse (pipeline/steps/parse.py): ingested rows get their parsed fields and move to `parsed`, or are
frozen with `<field> is null` / `media_type is unknown`; media_type is only set where unknown."""

from __future__ import annotations

from typing import Any

import dagster as dg
import pytest

from automatic_transmission.model import (
    MediaRow,
    MediaType,
    PipelineStatus,
    RejectionStatus,
    Verdict,
)
from automatic_transmission.parsing import ParsedRelease
from automatic_transmission.pipeline.jobs import pipeline_jobs
from automatic_transmission.pipeline.steps.parse import decide_parse, first_number, parse_ingested
from automatic_transmission.settings import PipelineSettings
from automatic_transmission.store import MediaStore
from dagstributor_shared.notify import NotifierResource
from dagstributor_shared.postgres import PostgresResource
from tests.automatic_transmission.conftest import MediaTable
from tests.support.feeds import info_hash as H
from tests.support.roundtrips import CountingConnection
from tests.support.steps import step_metadata


def row(title: str, media_type: MediaType = MediaType.MOVIE, **fields: Any) -> MediaRow:
    return MediaRow(
        hash=H(title),
        media_type=media_type,
        pipeline_status=PipelineStatus.INGESTED,
        rejection_status=fields.pop("rejection_status", RejectionStatus.UNFILTERED),
        original_title=title,
        **fields,
    )


# --- decide (plain values) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "media_type", "verdict", "error"),
    [
        ("Heat 1995 1080p BluRay x264-GRP", MediaType.MOVIE, Verdict.ADVANCED, None),
        (
            "Some Movie 1080p WEB-DL x264-GRP",
            MediaType.MOVIE,
            Verdict.ERRORED,
            "release_year is null",
        ),
        ("The Bear S03E01 1080p WEB h264-ETHEL", MediaType.TV_SHOW, Verdict.ADVANCED, None),
        (
            "The Bear S02 1080p WEB h264-ETHEL",
            MediaType.TV_SHOW,
            Verdict.ERRORED,
            "episode is null",
        ),
        (
            "Show Name 1080p WEB",
            MediaType.TV_SHOW,
            Verdict.ERRORED,
            "season is null; episode is null",
        ),
        ("The Bear S02 1080p WEB h264-ETHEL", MediaType.TV_SEASON, Verdict.ADVANCED, None),
        ("Show Name 1080p WEB", MediaType.TV_EPISODE_PACK, Verdict.ERRORED, "season is null"),
        ("S01E01 1080p", MediaType.TV_SHOW, Verdict.ERRORED, "title is null"),
        ("1080p x264", MediaType.MOVIE, Verdict.ERRORED, "title is null; release_year is null"),
        ("1080p x264", MediaType.UNKNOWN, Verdict.ERRORED, "media_type is unknown"),
    ],
)
def test_required_fields_per_type_freeze_the_row_with_field_is_null(
    title: str, media_type: MediaType, verdict: Verdict, error: str | None
) -> None:
    outcome = decide_parse(row(title, media_type))

    assert outcome.verdict is verdict
    assert outcome.reason == error
    if verdict is Verdict.ADVANCED:
        assert outcome.to_status is PipelineStatus.PARSED
    else:
        assert outcome.to_status is None
        assert outcome.changes["error_status"] is True
        assert outcome.changes["error_condition"] == error


def test_an_unknown_row_takes_the_parsed_media_type() -> None:
    outcome = decide_parse(row("The Bear S03E01 1080p WEB h264-ETHEL", MediaType.UNKNOWN))

    assert outcome.verdict is Verdict.ADVANCED
    assert outcome.changes["media_type"] is MediaType.TV_SHOW


def test_a_known_media_type_is_never_changed_by_parsing() -> None:
    outcome = decide_parse(row("Heat 1995 S01E01 1080p", MediaType.MOVIE))

    assert "media_type" not in outcome.changes
    assert (outcome.changes["season"], outcome.changes["episode"]) == (None, None)


def test_a_multi_episode_pack_stores_its_first_episode_and_season() -> None:
    parsed = ParsedRelease(title="Friends", season=[1, 2, 3], episode=[4, 5], media_type="tv_show")

    outcome = decide_parse(row("Friends", MediaType.TV_EPISODE_PACK), parsed)

    assert (outcome.changes["season"], outcome.changes["episode"]) == (1, 4)
    assert first_number([7, 3]) == 3 and first_number(None) is None


def test_a_year_outside_the_columns_range_counts_as_missing() -> None:
    parsed = ParsedRelease(title="Old", year=1200, media_type="movie")

    outcome = decide_parse(row("Old 1200", MediaType.MOVIE), parsed)

    assert outcome.reason == "release_year is null"
    assert outcome.changes["release_year"] is None


def test_a_season_or_episode_the_integer_column_cannot_hold_counts_as_missing() -> None:
    outcome = decide_parse(row("Show S01E99999999999 720p", MediaType.TV_SHOW))

    assert outcome.verdict is Verdict.ERRORED
    assert outcome.reason == "episode is null"
    assert (outcome.changes["season"], outcome.changes["episode"]) == (1, None)
    assert first_number([2**31, 5]) == 5 and first_number(2**31) is None


# --- the job against PostgreSQL ----------------------------------------------------------------


def _run(
    postgres: PostgresResource, batch_size: int = 50, **kwargs: Any
) -> dg.ExecuteInProcessResult:
    job = pipeline_jobs()["at_03_parse"]
    return job.execute_in_process(
        resources={
            "postgres": postgres,
            "pipeline_settings": PipelineSettings(batch_size=batch_size),
            "notifier": NotifierResource(),
        },
        **kwargs,
    )


def _metadata(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    return step_metadata(result)


def test_parsed_rows_move_to_parsed_with_their_fields(
    postgres: PostgresResource, media: MediaTable
) -> None:
    media.add(H(1), original_title="Heat (1995) [1080p] [WEBRip] [5.1] [YTS.MX]")
    media.add(
        H(2),
        media_type="tv_episode_pack",
        original_title="The Bear S03E01-E03 1080p WEB h264-ETHEL",
    )

    result = _run(postgres)

    assert result.success
    movie, pack = media.row(H(1)), media.row(H(2))
    assert movie["pipeline_status"] == "parsed"
    assert (movie["media_title"], movie["release_year"], movie["resolution"]) == (
        "Heat",
        1995,
        "1080p",
    )
    assert (movie["upload_type"], movie["season"], movie["episode"]) == ("WEBRip", None, None)
    assert (pack["pipeline_status"], pack["media_type"]) == ("parsed", "tv_episode_pack")
    assert (pack["media_title"], pack["season"], pack["episode"]) == ("The Bear", 3, 1)
    assert (pack["video_codec"], pack["uploader"]) == ("h264", "ETHEL")
    metadata = _metadata(result)
    assert (metadata["advanced"], metadata["errored"], metadata["rejected"]) == (2, 0, 0)
    assert {item["hash"]: item["outcome"] for item in metadata["items"]} == {
        H(1): "advanced",
        H(2): "advanced",
    }


def test_rows_missing_required_fields_are_frozen_with_the_exact_error_texts(
    postgres: PostgresResource, media: MediaTable
) -> None:
    media.add(H(1), original_title="Some Movie 1080p WEB-DL x264-GRP")
    media.add(H(2), media_type="tv_show", original_title="Show Name 1080p WEB")
    media.add(H(3), media_type="unknown", original_title="1080p x264")

    result = _run(postgres)

    assert result.success
    frozen = {n: media.row(H(n)) for n in (1, 2, 3)}
    assert {n: (r["error_status"], r["error_condition"]) for n, r in frozen.items()} == {
        1: (True, "release_year is null"),
        2: (True, "season is null; episode is null"),
        3: (True, "media_type is unknown"),
    }
    assert {r["pipeline_status"] for r in frozen.values()} == {"ingested"}
    assert frozen[1]["media_title"] == "Some Movie"  # what was found stays visible
    assert frozen[3]["media_type"] == "unknown"
    assert _metadata(result)["errored"] == 3


def test_a_hostile_episode_number_freezes_its_row_without_failing_the_batch(
    postgres: PostgresResource, media: MediaTable
) -> None:
    media.add(H(1), media_type="tv_show", original_title="Show S01E99999999999 720p")
    media.add(H(2), original_title="Heat 1995 1080p BluRay x264-GRP")

    result = _run(postgres)

    assert result.success
    hostile = media.row(H(1))
    assert (hostile["error_status"], hostile["error_condition"]) == (True, "episode is null")
    assert (hostile["season"], hostile["episode"]) == (1, None)
    assert media.row(H(2))["pipeline_status"] == "parsed"


def test_an_unknown_row_gets_its_media_type_from_parsing(
    postgres: PostgresResource, media: MediaTable
) -> None:
    media.add(H(1), media_type="unknown", original_title="The Bear S03E01 1080p WEB h264-ETHEL")
    media.add(H(2), media_type="tv_show", original_title="Heat 1995 S01E01 1080p")

    _run(postgres)

    assert (media.row(H(1))["media_type"], media.row(H(1))["pipeline_status"]) == (
        "tv_show",
        "parsed",
    )
    assert media.row(H(2))["media_type"] == "tv_show"


def test_override_rows_are_parsed_like_the_others_and_stay_override(
    postgres: PostgresResource, media: MediaTable
) -> None:
    media.add(H(1), rejection_status="override", original_title="Heat 1995 1080p BluRay x264-GRP")

    _run(postgres)

    assert (media.row(H(1))["pipeline_status"], media.row(H(1))["rejection_status"]) == (
        "parsed",
        "override",
    )


def test_frozen_deleted_and_other_status_rows_are_not_touched(
    postgres: PostgresResource, media: MediaTable
) -> None:
    media.add(H(1), error_status=True, error_condition="operator", original_title="Heat 1995 1080p")
    media.add(H(2), deleted_at="2024-01-01T00:00:00Z", original_title="Heat 1995 1080p")
    media.add(H(3), pipeline_status="downloading", original_title="Heat 1995 1080p")

    result = _run(postgres)

    assert result.success
    assert [media.row(H(n))["media_title"] for n in (1, 2, 3)] == [None, None, None]
    assert _metadata(result)["advanced"] == 0


def test_every_ingested_row_is_parsed_batch_by_batch(
    postgres: PostgresResource, media: MediaTable
) -> None:
    for n in range(7):
        media.add(H(n), original_title=f"Movie Number {n} {1990 + n} 1080p")

    result = _run(postgres, batch_size=3)

    assert {media.row(H(n))["pipeline_status"] for n in range(7)} == {"parsed"}
    assert _metadata(result)["batches"] == 3


@pytest.mark.parametrize("rows", [10, 200])
def test_round_trips_per_batch_do_not_grow_with_the_batch_size(
    rows: int, store: MediaStore, db_connection: CountingConnection, media: MediaTable
) -> None:
    for n in range(rows):
        title = f"Movie Number {n} {1990 + n % 30} 1080p" if n % 2 else f"Nameless {n} 1080p"
        media.add(H(n), original_title=title)

    with db_connection.counting() as trips:
        result = parse_ingested(store, batch_size=rows)

    assert len(result.outcomes) == rows
    assert Verdict.MOVED_ON not in {o.verdict for o in result.outcomes}
    # one batch: select (BEGIN, SELECT, COMMIT) + apply (BEGIN, 2 shapes, COMMIT)
    # + the select that finds the table empty (BEGIN, SELECT, COMMIT)
    assert trips.value == 10
