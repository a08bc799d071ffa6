"""Step 04 file_filtration: the YAML rules per media type, the load-time validation, the job."""

from __future__ import annotations

from pathlib import Path

import psycopg2.extensions
import pytest

from automatic_transmission.filters import (
    FILE_FIELDS,
    FieldRule,
    FilterConfigError,
    load_file_rules,
    load_media_rules,
    parse_rules,
)
from automatic_transmission.model import (
    MediaRow,
    MediaType,
    PipelineStatus,
    RejectionStatus,
    Verdict,
)
from automatic_transmission.pipeline.jobs import pipeline_jobs
from automatic_transmission.pipeline.steps.file_filtration import filter_file
from dagstributor_shared.postgres import PostgresResource
from tests.support.steps import (
    insert_media,
    media_row,
    media_rows,
    record_selects,
    run_step,
    step_counts,
    step_resources,
)

RULES = parse_rules(
    "test.yaml",
    {
        "movie": {"resolution": {"nullable": False, "allowed_values": ["1080p"]}},
        "tv_show": {
            "season": {"nullable": True, "min": 1, "max": 40},
            "resolution": {"allowed_values": ["720p", "1080p"], "nullable": True},
        },
    },
    FILE_FIELDS,
)


def row(media_type: MediaType = MediaType.MOVIE, **kw: object) -> MediaRow:
    return media_row(PipelineStatus.PARSED, media_type, **kw)


@pytest.mark.parametrize(
    ("media_type", "fields", "reason"),
    [
        (MediaType.MOVIE, {"resolution": "1080p"}, None),
        (MediaType.MOVIE, {"resolution": "720p"}, "resolution 720p is not in allowed_values"),
        (MediaType.MOVIE, {"resolution": "2160p"}, "resolution 2160p is not in allowed_values"),
        (MediaType.MOVIE, {"resolution": None}, "resolution is null"),
        (MediaType.TV_SHOW, {"resolution": None, "season": 2}, None),
        (MediaType.TV_SHOW, {"resolution": "720p", "season": 0}, "season 0 is below min 1"),
        (MediaType.TV_SHOW, {"season": 41}, "season 41 is above max 40"),
        (MediaType.TV_SEASON, {"resolution": "480p"}, None),  # no rules for the type: pass
    ],
)
def test_the_first_failing_rule_of_the_row_type_is_the_reason(
    media_type: MediaType, fields: dict[str, object], reason: str | None
) -> None:
    outcome = filter_file(row(media_type, **fields), RULES)
    if reason is None:
        assert outcome.verdict is Verdict.ADVANCED
        assert outcome.to_status is PipelineStatus.FILE_ACCEPTED
        assert outcome.changes == {"rejection_status": RejectionStatus.ACCEPTED}
    else:
        assert outcome.verdict is Verdict.REJECTED and outcome.reason == reason


def test_rules_are_checked_in_file_order() -> None:
    outcome = filter_file(row(MediaType.TV_SHOW, resolution="480p", season=0), RULES)
    assert outcome.reason == "season 0 is below min 1"


def test_override_skips_every_filter_and_stays_override() -> None:
    outcome = filter_file(row(resolution="480p", rejection_status=RejectionStatus.OVERRIDE), RULES)
    assert outcome.verdict is Verdict.ADVANCED
    assert outcome.to_status is PipelineStatus.FILE_ACCEPTED
    assert "rejection_status" not in outcome.changes


def test_a_list_field_passes_when_any_element_is_allowed() -> None:
    rule = FieldRule("genre", allowed_values=("Drama", "Comedy"))
    assert rule.failure(["Horror", "comedy"]) is None
    assert rule.failure(["Horror", "War"]) == "genre Horror, War is not in allowed_values"
    excluded = FieldRule("genre", excluded_values=("Horror",), nullable=True)
    assert excluded.failure(["Drama", "Horror"]) == "genre Horror is in excluded_values"
    assert excluded.failure([]) is None


def test_the_shipped_rules_accept_only_1080p_movies() -> None:
    rules = load_file_rules()
    assert filter_file(row(resolution="1080p"), rules).verdict is Verdict.ADVANCED
    assert filter_file(row(resolution="720p"), rules).reason == (
        "resolution 720p is not in allowed_values"
    )
    assert filter_file(row(MediaType.TV_SHOW, resolution="720p"), rules).verdict is Verdict.ADVANCED
    load_media_rules()  # the shipped media rules are valid too


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "movie:\n  resolutoin:\n    allowed_values: [1080p]\n",
            "rule movie.resolutoin: unknown field",
        ),
        (
            "movie:\n  resolution:\n    allowed: [1080p]\n",
            "rule movie.resolution: unknown rule key(s) allowed",
        ),
        ("film:\n  resolution:\n    nullable: true\n", "'film' is not a media type"),
        (
            "movie:\n  season:\n    min: 5\n    max: 1\n",
            "rule movie.season: min 5 is greater than max 1",
        ),
        ("movie:\n  season:\n    min: one\n", "rule movie.season: min must be a number"),
        (
            "movie:\n  resolution:\n    allowed_values: 1080p\n",
            "allowed_values must be a non-empty list",
        ),
        ("movie:\n  resolution:\n    nullable: maybe\n", "nullable must be true or false"),
        ("movie: [\n", "not valid YAML"),
    ],
)
def test_a_malformed_rule_is_a_load_error_naming_file_and_rule(
    tmp_path: Path, text: str, message: str
) -> None:
    (tmp_path / "file_filtration.yaml").write_text(text)
    with pytest.raises(FilterConfigError) as caught:
        load_file_rules(tmp_path)
    assert str(tmp_path / "file_filtration.yaml") in str(caught.value)
    assert message in str(caught.value)


def test_a_malformed_rule_file_stops_the_code_location_from_loading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from automatic_transmission.definitions import build_definitions
    from dagstributor_shared.environment import Environment
    from dagstributor_shared.schedules import find_config_dir

    config = tmp_path / "config"
    (config / "automatic_transmission").mkdir(parents=True)
    (config / "schedules").symlink_to(find_config_dir() / "schedules")
    (config / "automatic_transmission" / "file_filtration.yaml").write_text(
        "movie:\n  codec:\n    allowed_values: [x265]\n"
    )
    (config / "automatic_transmission" / "media_filtration.yaml").write_text("{}\n")
    monkeypatch.setenv("DAGSTRIBUTOR_CONFIG_DIR", str(config))
    with pytest.raises(FilterConfigError, match=r"file_filtration.yaml: rule movie.codec"):
        build_definitions(Environment.DEV)


def test_the_job_accepts_and_rejects_parsed_rows_in_the_database(
    atp_connection: psycopg2.extensions.connection, postgres: PostgresResource
) -> None:
    connection = atp_connection
    good, low, forced, show, later = insert_media(
        connection,
        [
            {"media_title": "Good", "release_year": 2020, "resolution": "1080p"},
            {"media_title": "Low", "release_year": 2020, "resolution": "720p"},
            {"media_title": "Forced", "release_year": 2020, "resolution": "480p",
             "rejection_status": "override"},
            {"media_title": "Show", "media_type": "tv_show", "season": 1, "episode": 2,
             "resolution": "720p"},
            {"media_title": "Later", "release_year": 2021, "pipeline_status": "file_accepted"},
        ],
    )  # fmt: skip
    job = pipeline_jobs()["at_04_file_filtration"]
    result = job.execute_in_process(resources=step_resources(postgres))
    assert result.success
    rows = media_rows(connection)
    assert (rows[good]["pipeline_status"], rows[good]["rejection_status"]) == (
        "file_accepted", "accepted",
    )  # fmt: skip
    assert (rows[low]["pipeline_status"], rows[low]["rejection_reason"]) == (
        "rejected", "resolution 720p is not in allowed_values",
    )  # fmt: skip
    assert (rows[forced]["pipeline_status"], rows[forced]["rejection_status"]) == (
        "file_accepted", "override",
    )  # fmt: skip
    assert rows[show]["pipeline_status"] == "file_accepted"
    assert rows[later]["rejection_status"] == "unfiltered"  # not parsed: not this step's row
    assert step_counts(result) == {"advanced": 3, "rejected": 1, "errored": 0, "retried later": 0}


def test_rows_are_selected_batch_by_batch_never_more_than_the_batch_size(
    atp_connection: psycopg2.extensions.connection,
    postgres: PostgresResource,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hashes = insert_media(
        atp_connection, [{"media_title": f"Film {n}", "release_year": 2000 + n} for n in range(7)]
    )
    selects = record_selects(monkeypatch)

    result = run_step("at_04_file_filtration", postgres, batch_size=3)

    assert result.success
    assert {media_rows(atp_connection)[h]["pipeline_status"] for h in hashes} == {"file_accepted"}
    assert step_counts(result)["advanced"] == 7
    assert selects == [(3, 3), (3, 3), (3, 1)]  # read, decide, record per batch; a short one ends


# --- what a Torznab indexer reports: seeders and size ---------------------------------------------


@pytest.mark.parametrize(
    ("seeders", "minimum", "reason"),
    [
        (0, 1, "seeders 0 is below AT_MIN_SEEDERS 1"),
        (4, 5, "seeders 4 is below AT_MIN_SEEDERS 5"),
        (50, 1, None),
        (0, 0, None),  # no minimum
        (None, 1, None),  # RSS feeds report no seeders: not a reason to reject
    ],
)
def test_too_few_seeders_reject_a_release_whose_seeders_are_known(
    seeders: int | None, minimum: int, reason: str | None
) -> None:
    outcome = filter_file(row(resolution="1080p", seeders=seeders), RULES, minimum)
    assert outcome.reason == reason
    forced = row(resolution="1080p", seeders=0, rejection_status=RejectionStatus.OVERRIDE)
    assert filter_file(forced, RULES, minimum).verdict is Verdict.ADVANCED


def test_the_shipped_size_rules_bound_movies_and_episodes_and_pass_unknown_sizes() -> None:
    rules = load_file_rules()
    movie = row(resolution="1080p")
    assert filter_file(movie, rules).verdict is Verdict.ADVANCED  # no size: an RSS feed's item
    assert filter_file(row(resolution="1080p", size_bytes=2 * 10**9), rules).reason is None
    assert filter_file(row(resolution="1080p", size_bytes=10**6), rules).reason == (
        "size 1000000 is below min 300000000"
    )
    episode = row(MediaType.TV_SHOW, size_bytes=20 * 10**9)
    assert filter_file(episode, rules).reason == "size 20000000000 is above max 15000000000"
    with pytest.raises(FilterConfigError, match="min applies to numbers"):
        parse_rules("x.yaml", {"movie": {"uploader": {"min": 1}}}, FILE_FIELDS)


def test_the_job_rejects_unseeded_releases_by_the_setting(
    atp_connection: psycopg2.extensions.connection,
    postgres: PostgresResource,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    unseeded, seeded, unknown = insert_media(
        atp_connection,
        [
            {"media_title": "Unseeded", "release_year": 2020, "seeders": 0},
            {"media_title": "Seeded", "release_year": 2020, "seeders": 3},
            {"media_title": "Unknown", "release_year": 2020},
        ],
    )
    monkeypatch.setenv("AT_MIN_SEEDERS", "3")
    result = run_step("at_04_file_filtration", postgres)
    assert result.success
    rows = media_rows(atp_connection)
    assert rows[unseeded]["rejection_reason"] == "seeders 0 is below AT_MIN_SEEDERS 3"
    assert rows[seeded]["pipeline_status"] == rows[unknown]["pipeline_status"] == "file_accepted"
    monkeypatch.setenv("AT_MIN_SEEDERS", "-1")
    assert "AT_MIN_SEEDERS must be at least 0" in str(
        run_step("at_04_file_filtration", postgres).all_events
    )
