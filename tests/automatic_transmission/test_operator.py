"""Operator jobs on rows in each status: retry, override, reject; exactly the rows they change."""

from __future__ import annotations

from typing import Any

import dagster as dg
import pytest
from psycopg2.extensions import connection as Connection

from automatic_transmission.clients.transmission import TransmissionResource
from automatic_transmission.model import PipelineStatus
from automatic_transmission.operator.jobs import operator_jobs
from dagstributor_shared.postgres import PostgresResource
from tests.automatic_transmission.conftest import MediaTable
from tests.support.steps import step_failure, step_metadata
from tests.support.transmission import Daemon
from tests.support.webseed import WebSeed, write_payload

JOBS = {job.name: job for job in operator_jobs()}


def h(n: int) -> str:
    return f"{n:040x}"


# One row in every status; two of them frozen, one soft-deleted, one overridden.
ROWS: dict[str, dict[str, Any]] = {
    h(1): {"pipeline_status": "ingested"},
    h(2): {"pipeline_status": "parsed", "error_status": True, "error_condition": "year is null"},
    h(3): {"pipeline_status": "file_accepted", "error_status": True,
           "error_condition": "TMDB answered 404 for tmdb_id 12"},
    h(4): {"pipeline_status": "rejected", "rejection_status": "rejected",
           "rejection_reason": "resolution 720p is not in allowed_values"},
    h(5): {"pipeline_status": "metadata_collected", "rejection_status": "accepted"},
    h(6): {"pipeline_status": "media_accepted", "rejection_status": "accepted"},
    h(7): {"pipeline_status": "downloading", "rejection_status": "accepted"},
    h(8): {"pipeline_status": "downloaded", "rejection_status": "accepted"},
    h(9): {"pipeline_status": "transferred", "rejection_status": "accepted"},
    h(10): {"pipeline_status": "complete", "rejection_status": "accepted"},
    h(11): {"pipeline_status": "paused"},
    h(12): {"pipeline_status": "parsed", "deleted_at": "2024-01-01T00:00:00Z",
            "rejection_status": "rejected", "rejection_reason": "user deletion"},
    h(13): {"pipeline_status": "parsed", "rejection_status": "override"},
    h(14): {"pipeline_status": "downloaded", "error_status": True,
            "error_condition": "library path escapes the root", "deleted_at": "2024-01-01T00:00:00Z",
            "rejection_status": "rejected", "rejection_reason": "user deletion"},
}  # fmt: skip


@pytest.fixture
def rows(media: MediaTable) -> MediaTable:
    for hash_, columns in ROWS.items():
        media.add(hash_, **columns)
    return media


# Where no Transmission listens: the reject job's torrent removal fails there.
NO_TRANSMISSION = TransmissionResource(host="127.0.0.1", port=9, timeout_s=2.0)


def run(
    postgres: PostgresResource,
    job: str,
    op: str,
    config: dict[str, Any],
    transmission: TransmissionResource = NO_TRANSMISSION,
) -> dg.ExecuteInProcessResult:
    return JOBS[job].execute_in_process(
        run_config={"ops": {op: {"config": config}}},
        resources={"postgres": postgres, "transmission": transmission},
        raise_on_error=False,
    )


def changed(result: dg.ExecuteInProcessResult) -> tuple[int, dict[str, dict[str, Any]]]:
    """(rows changed, the rows of the `changed` table by hash) the op reported."""
    metadata = step_metadata(result)
    return metadata["rows changed"], {row["hash"]: row for row in metadata["changed"]}


def left_alone(result: dg.ExecuteInProcessResult) -> dict[str, str]:
    """Hash -> reason, from the op's `left alone` table."""
    return {row["hash"]: row["reason"] for row in step_metadata(result)["left alone"]}


def snapshot(media: MediaTable) -> dict[str, tuple[Any, ...]]:
    columns = ("pipeline_status", "error_status", "rejection_status", "deleted_at")
    return {x: tuple(media.row(x)[c] for c in columns) for x in media.hashes()}


def test_retry_by_hash_clears_the_freeze_and_the_error_text(
    rows: MediaTable, postgres: PostgresResource
) -> None:
    before = snapshot(rows)
    result = run(postgres, "at_retry_errored_job", "retry_errored", {"hashes": [h(2).upper()]})
    assert result.success
    count, table = changed(result)
    assert count == 1 and table[h(2)]["detail"] == "year is null"
    assert (table[h(2)]["status_before"], table[h(2)]["status_after"]) == ("parsed", "parsed")
    row = rows.row(h(2))
    assert (row["error_status"], row["error_condition"]) == (False, None)
    assert row["pipeline_status"] == PipelineStatus.PARSED  # step 03's output waits for step 04
    after = snapshot(rows)
    assert {x for x in after if after[x] != before[x]} == {h(2)}


def test_retry_by_error_text_takes_only_matching_live_frozen_rows(
    rows: MediaTable, postgres: PostgresResource
) -> None:
    result = run(postgres, "at_retry_errored_job", "retry_errored", {"error_contains": "tmdb"})
    assert result.success
    assert changed(result)[0] == 1
    assert rows.row(h(3))["error_status"] is False
    assert rows.row(h(2))["error_status"] is True


def test_retry_all_takes_every_frozen_row_but_not_soft_deleted_ones(
    rows: MediaTable, postgres: PostgresResource
) -> None:
    result = run(postgres, "at_retry_errored_job", "retry_errored", {"all_errored": True})
    count, table = changed(result)
    assert count == 2 and set(table) == {h(2), h(3)}
    assert rows.row(h(14))["error_status"] is True


def test_a_wildcard_in_the_error_text_is_taken_literally(
    rows: MediaTable, postgres: PostgresResource
) -> None:
    result = run(postgres, "at_retry_errored_job", "retry_errored", {"error_contains": "%"})
    assert result.success and changed(result)[0] == 0


def test_retry_of_a_row_that_is_not_frozen_changes_nothing_and_says_so(
    rows: MediaTable, postgres: PostgresResource
) -> None:
    before = snapshot(rows)
    result = run(postgres, "at_retry_errored_job", "retry_errored", {"hashes": [h(1), h(14)]})
    assert result.success and changed(result)[0] == 0
    assert snapshot(rows) == before
    assert left_alone(result) == {h(1): "not frozen in error", h(14): "soft-deleted"}


@pytest.mark.parametrize(
    "config",
    [{}, {"hashes": [h(2)], "all_errored": True}, {"error_contains": "x", "all_errored": True}],
    ids=["none", "hashes+all", "text+all"],
)
def test_retry_needs_exactly_one_selector(
    rows: MediaTable, postgres: PostgresResource, config: dict[str, Any]
) -> None:
    before = snapshot(rows)
    result = run(postgres, "at_retry_errored_job", "retry_errored", config)
    assert not result.success
    assert step_failure(result).startswith(
        "nothing changed: give exactly one of hashes, error_contains or all_errored"
    )
    assert snapshot(rows) == before


@pytest.mark.parametrize(
    ("job", "op"),
    [("at_retry_errored_job", "retry_errored"), ("at_override_job", "override"),
     ("at_reject_job", "reject")],
)  # fmt: skip
def test_an_unknown_hash_fails_the_run_naming_it_and_changes_nothing(
    rows: MediaTable, postgres: PostgresResource, job: str, op: str
) -> None:
    before = snapshot(rows)
    unknown = "f" * 40
    result = run(postgres, job, op, {"hashes": [h(2), h(4), unknown]})
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert f"no row in atp.media with hash {unknown}" in str(failure.step_failure_data.error)
    assert snapshot(rows) == before


@pytest.mark.parametrize(
    ("job", "op"),
    [("at_retry_errored_job", "retry_errored"), ("at_override_job", "override"),
     ("at_reject_job", "reject")],
)  # fmt: skip
def test_during_maintenance_an_operator_job_fails_naming_the_schema_job_and_changes_nothing(
    rows: MediaTable, postgres: PostgresResource, schema_job: Connection, job: str, op: str
) -> None:
    before = snapshot(rows)
    result = run(postgres, job, op, {"hashes": [h(2), h(4)]})
    assert not result.success
    failure = step_failure(result)
    assert failure.startswith("nothing changed: database maintenance")
    assert f"exclusive by backend {schema_job.info.backend_pid}" in failure
    assert snapshot(rows) == before


def test_a_malformed_hash_fails_the_run_in_one_sentence_naming_it(
    rows: MediaTable, postgres: PostgresResource
) -> None:
    result = run(postgres, "at_reject_job", "reject", {"hashes": ["blade runner", "3f2a9"]})
    assert not result.success
    failure = step_failure(result)
    assert failure.startswith("nothing changed: not a torrent hash")
    assert "'blade runner', '3f2a9'" in failure  # five characters are too few for a prefix
    assert "pydantic" not in failure and "Traceback" not in failure


def test_a_unique_prefix_names_its_row_as_at_item_prints_it(
    rows: MediaTable, postgres: PostgresResource
) -> None:
    rows.add("3f2a9c" + "0" * 34, pipeline_status="parsed", error_status=True,
             error_condition="year is null")  # fmt: skip
    result = run(postgres, "at_retry_errored_job", "retry_errored", {"hashes": ["3F2A9C000000"]})
    assert result.success
    assert set(changed(result)[1]) == {"3f2a9c" + "0" * 34}
    assert rows.row("3f2a9c" + "0" * 34)["error_status"] is False


@pytest.mark.parametrize(
    ("job", "op"),
    [("at_retry_errored_job", "retry_errored"), ("at_override_job", "override"),
     ("at_reject_job", "reject")],
)  # fmt: skip
def test_an_ambiguous_or_unknown_prefix_fails_naming_it_and_changes_nothing(
    rows: MediaTable, postgres: PostgresResource, job: str, op: str
) -> None:
    before = snapshot(rows)
    result = run(postgres, job, op, {"hashes": [h(2), "000000", "abcdef"]})
    assert not result.success
    failure = step_failure(result)
    assert "no row in atp.media with hash abcdef" in failure
    assert "hash prefix 000000 is ambiguous: it matches 14 rows" in failure
    assert f"{h(1)}, {h(2)}" in failure and "give more characters" in failure
    assert "Nothing was changed" in failure and "Traceback" not in failure
    assert snapshot(rows) == before


def test_override_restarts_a_rejected_item_and_marks_unjudged_ones(
    rows: MediaTable, postgres: PostgresResource
) -> None:
    before = snapshot(rows)
    wanted = [h(n) for n in (1, 4, 5, 6, 7, 10, 11, 12, 13)]
    result = run(postgres, "at_override_job", "override", {"hashes": wanted})
    assert result.success
    count = changed(result)[0]
    assert count == 4  # 1 ingested, 4 rejected, 5 metadata_collected, 11 paused
    rejected = rows.row(h(4))
    assert (rejected["pipeline_status"], rejected["rejection_status"]) == ("ingested", "override")
    assert rejected["rejection_reason"] is None  # the reset trigger cleared it
    assert (rows.row(h(5))["pipeline_status"], rows.row(h(5))["rejection_status"]) == (
        "metadata_collected",
        "override",
    )
    assert rows.row(h(11))["pipeline_status"] == "paused"
    after = snapshot(rows)
    assert {x for x in after if after[x] != before[x]} == {h(1), h(4), h(5), h(11)}
    assert left_alone(result) == {
        h(6): "already accepted (media_accepted)", h(7): "already accepted (downloading)",
        h(10): "already accepted (complete)", h(12): "soft-deleted", h(13): "already override",
    }  # fmt: skip


def test_reject_soft_deletes_live_rows_in_any_status(
    rows: MediaTable, postgres: PostgresResource, transmission: Daemon
) -> None:
    before = snapshot(rows)
    wanted = [h(n) for n in (1, 2, 6, 7, 9, 12)]
    result = run(postgres, "at_reject_job", "reject", {"hashes": wanted}, transmission.resource())
    assert result.success
    count, table = changed(result)
    assert count == 5
    for n in (1, 2, 6, 7, 9):
        row = rows.row(h(n))
        assert row["deleted_at"] is not None
        assert (row["rejection_status"], row["rejection_reason"]) == ("rejected", "user deletion")
        assert row["pipeline_status"] == before[h(n)][0]  # how far it got stays visible
    assert {row["detail"] for row in table.values()} == {"user deletion"}
    after = snapshot(rows)
    assert {x for x in after if after[x] != before[x]} == {h(n) for n in (1, 2, 6, 7, 9)}


# --- reject removes the torrent (a real transmission-daemon) ----------------------------------


def seeded(seed: WebSeed, name: str) -> Any:
    write_payload(seed.root / name / f"{name}.mkv", 50_000, seed=len(name))
    return seed.make_torrent(seed.root / name)


def test_reject_removes_the_items_torrent_with_its_data_and_leaves_others(
    media: MediaTable, postgres: PostgresResource, transmission: Daemon, seed: WebSeed
) -> None:
    unwanted, other = seeded(seed, "Cats.2019.1080p"), seeded(seed, "Heat.1995.1080p")
    for torrent in (unwanted, other):
        transmission.rpc().add_torrent(torrent.url)
        transmission.wait_until(torrent.hash, "seeding")
        media.add(torrent.hash, pipeline_status="downloaded", original_title=torrent.name)
    media.add(h(1), pipeline_status="parsed")  # never added to Transmission: nothing to remove

    result = run(
        postgres,
        "at_reject_job",
        "reject",
        {"hashes": [unwanted.hash[:12], h(1)]},  # a prefix as at-item prints it
        transmission.resource(),
    )

    assert result.success
    transmission.wait_until(unwanted.hash, "gone")
    assert set(transmission.torrents()) == {other.hash}
    assert not (transmission.download_dir / unwanted.name).exists()
    assert (transmission.download_dir / other.name).exists()
    metadata = step_metadata(result)
    assert metadata["torrents removed"] == 1
    assert metadata["torrents"] == [
        {"hash": unwanted.hash, "torrent": "removed with its data"},
        {"hash": h(1), "torrent": "not in Transmission"},
    ]
    assert {media.row(x)["rejection_reason"] for x in (unwanted.hash, h(1))} == {"user deletion"}


def test_with_transmission_down_the_rows_stay_rejected_and_a_rerun_removes_the_torrent(
    media: MediaTable, postgres: PostgresResource, transmission: Daemon, seed: WebSeed
) -> None:
    unwanted = seeded(seed, "Cats.2019.1080p")
    transmission.rpc().add_torrent(unwanted.url)
    media.add(unwanted.hash, pipeline_status="downloading", original_title=unwanted.name)

    down = run(postgres, "at_reject_job", "reject", {"hashes": [unwanted.hash]})

    assert not down.success
    failure = next(e for e in down.all_events if e.event_type_value == "STEP_FAILURE")
    message = str(failure.step_failure_data.error)
    assert "1 row(s) soft-deleted, but their torrents were not removed" in message
    assert "Transmission at 127.0.0.1:9 unreachable" in message
    assert "at_reject_job again" in message
    assert media.row(unwanted.hash)["deleted_at"] is not None  # the operator's verdict stands
    assert set(transmission.torrents()) == {unwanted.hash}

    again = run(
        postgres, "at_reject_job", "reject", {"hashes": [unwanted.hash]}, transmission.resource()
    )

    assert again.success
    assert changed(again)[0] == 0  # already soft-deleted: left alone
    assert step_metadata(again)["torrents removed"] == 1
    transmission.wait_until(unwanted.hash, "gone")


def test_ten_thousand_unknown_hashes_give_one_short_error_with_their_count(
    rows: MediaTable, postgres: PostgresResource
) -> None:
    unknown = [f"e{n:039x}" for n in range(10_000)]
    result = run(postgres, "at_reject_job", "reject", {"hashes": [h(2), *unknown]})
    assert not result.success
    failure = step_failure(result)
    assert f"no row in atp.media with hash {unknown[0]}, {unknown[1]}" in failure
    assert "and 9995 more" in failure
    assert len(failure) < 2_000
