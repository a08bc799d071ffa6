"""The media store against a real PostgreSQL: selections, inserts, conditional transitions and
the number of round trips (store/media.py; README "Code locations and jobs", pipeline/runner.py)."""

from __future__ import annotations

import psycopg2
import pytest

from automatic_transmission.model import (
    MediaType,
    Outcome,
    PipelineStatus,
    RejectionStatus,
    RssSource,
    Verdict,
)
from automatic_transmission.store import MediaStore, NewMedia
from tests.automatic_transmission.conftest import MediaTable
from tests.support.feeds import info_hash
from tests.support.roundtrips import CountingConnection

INGESTED, PARSED = PipelineStatus.INGESTED, PipelineStatus.PARSED


def advance(row_hash: str, /, **changes: object) -> Outcome:
    return Outcome(row_hash, Verdict.ADVANCED, INGESTED, PARSED, changes, title=row_hash)


def new(n: int, **fields: object) -> NewMedia:
    values: dict[str, object] = {
        "hash": info_hash(n),
        "media_type": MediaType.MOVIE,
        "original_title": f"Movie {n} (2001)",
        "original_link": f"https://yts.mx/torrent/download/{info_hash(n).upper()}",
        "rss_source": RssSource.YTS_MX,
        **fields,
    }
    return NewMedia(**values)  # type: ignore[arg-type]


# --- select ------------------------------------------------------------------------------------


def test_select_skips_errored_and_soft_deleted_rows(store: MediaStore, media: MediaTable) -> None:
    media.add(info_hash(1))
    media.add(info_hash(2), error_status=True, error_condition="release_year is null")
    media.add(info_hash(3), deleted_at="2024-01-01T00:00:00Z")
    media.add(info_hash(4), pipeline_status="parsed")

    rows = store.select(INGESTED)

    assert [row.hash for row in rows] == [info_hash(1)]
    assert rows[0].pipeline_status is INGESTED
    assert rows[0].media_type is MediaType.MOVIE
    assert rows[0].rejection_status is RejectionStatus.UNFILTERED


def test_select_returns_oldest_first_up_to_the_limit(store: MediaStore, media: MediaTable) -> None:
    for n, created in ((1, "2024-01-03"), (2, "2024-01-01"), (3, "2024-01-02")):
        media.add(info_hash(n), created_at=f"{created}T00:00:00Z")

    assert [r.hash for r in store.select(INGESTED, limit=2)] == [info_hash(2), info_hash(3)]


def test_batches_select_at_most_the_batch_size_and_yield_every_row_once_oldest_first(
    store: MediaStore, db_connection: CountingConnection, media: MediaTable
) -> None:
    created = {info_hash(n): f"2024-01-0{1 + min(n, 5)}T00:00:00Z" for n in range(7)}
    for row_hash, at in created.items():  # the last two share a created_at: the hash orders them
        media.add(row_hash, created_at=at)
    oldest_first = sorted(created, key=lambda h: (created[h], h))

    with db_connection.counting() as trips:
        # Nothing is recorded: every row stays `ingested`, as a row retried later does.
        batches = [[row.hash for row in batch] for batch in store.batches(INGESTED, 3)]

    assert batches == [oldest_first[0:3], oldest_first[3:6], oldest_first[6:]]
    assert trips.value == 3 * 3  # one select (BEGIN, SELECT, COMMIT) per batch, nothing else


def test_batches_stop_after_a_full_last_batch_with_one_empty_select(
    store: MediaStore, db_connection: CountingConnection, media: MediaTable
) -> None:
    for n in range(4):
        media.add(info_hash(n))

    with db_connection.counting() as trips:
        assert [len(batch) for batch in store.batches(INGESTED, 2)] == [2, 2]
    assert trips.value == 3 * 3  # two batches and the select that finds nothing more


def test_a_row_that_comes_back_to_the_status_during_the_run_is_not_batched_twice(
    store: MediaStore, media: MediaTable
) -> None:
    for n in range(5):
        media.add(info_hash(n), created_at=f"2024-01-0{1 + n}T00:00:00Z")

    seen: list[str] = []
    for batch in store.batches(INGESTED, 2):
        seen += [row.hash for row in batch]
        store.apply([advance(row.hash) for row in batch])
        if len(seen) == 2:  # an operator resets the first row while the run goes on
            media.update(info_hash(0), pipeline_status="ingested")

    assert seen == [info_hash(n) for n in range(5)]
    assert media.row(info_hash(0))["pipeline_status"] == "ingested"  # left for the next run


def test_select_reads_every_column_into_the_media_row(store: MediaStore, media: MediaTable) -> None:
    media.add(
        info_hash(1),
        media_type="tv_show",
        rss_source="episodefeed.com",
        season=2,
        episode=5,
        rejection_status="override",
        original_link="magnet:?xt=urn:btih:" + info_hash(1),
    )

    (row,) = store.select(INGESTED)

    assert row.media_type is MediaType.TV_SHOW
    assert row.rss_source is RssSource.EPISODEFEED
    assert (row.season, row.episode) == (2, 5)
    assert row.is_override
    assert row.created_at is not None


def test_select_does_not_leave_the_connection_in_a_transaction(
    store: MediaStore, db_connection: CountingConnection
) -> None:
    store.select(INGESTED)
    store.known_hashes([info_hash(1)])

    status = db_connection.info.transaction_status
    assert status == psycopg2.extensions.TRANSACTION_STATUS_IDLE


# --- known hashes and inserts ------------------------------------------------------------------


def test_known_hashes_include_soft_deleted_and_errored_rows(
    store: MediaStore, media: MediaTable
) -> None:
    media.add(info_hash(1))
    media.add(info_hash(2), deleted_at="2024-01-01T00:00:00Z")
    media.add(info_hash(3), error_status=True, error_condition="x")

    known = store.known_hashes([info_hash(n) for n in range(1, 6)])

    assert known == {info_hash(1), info_hash(2), info_hash(3)}


def test_insert_new_rows_start_ingested_and_unfiltered(
    store: MediaStore, media: MediaTable
) -> None:
    inserted = store.insert_new([new(1)])

    assert inserted == [info_hash(1)]
    row = media.row(info_hash(1))
    assert row["pipeline_status"] == "ingested"
    assert row["rejection_status"] == "unfiltered"
    assert row["error_status"] is False
    assert row["rss_source"] == "yts.mx"
    assert row["media_type"] == "movie"
    assert row["original_link"] == f"https://yts.mx/torrent/download/{info_hash(1).upper()}"


def test_insert_new_skips_hashes_already_present_and_repeats_in_the_batch(
    store: MediaStore, media: MediaTable
) -> None:
    media.add(info_hash(1), original_title="kept as it was")

    inserted = store.insert_new([new(1), new(2), new(2, original_title="second copy"), new(3)])

    assert inserted == [info_hash(2), info_hash(3)]
    assert media.row(info_hash(1))["original_title"] == "kept as it was"
    assert media.row(info_hash(2))["original_title"] == "Movie 2 (2001)"
    assert media.count() == 3


def test_insert_new_can_insert_an_override_row_frozen_with_its_error(
    store: MediaStore, media: MediaTable
) -> None:
    store.insert_new(
        [
            new(
                1,
                media_type=MediaType.UNKNOWN,
                rss_source=None,
                original_link=None,
                rejection_status=RejectionStatus.OVERRIDE,
                error_condition="media_type is unknown",
            )
        ]
    )

    row = media.row(info_hash(1))
    assert (row["rejection_status"], row["error_status"], row["error_condition"]) == (
        "override",
        True,
        "media_type is unknown",
    )
    assert row["rss_source"] is None


def test_a_nul_character_in_a_value_never_fails_the_batch(
    store: MediaStore, media: MediaTable
) -> None:
    inserted = store.insert_new(
        [new(1, original_title="Heat\x00 (1995)", original_link="magnet:?x\x00"), new(2)]
    )
    applied = store.apply([advance(info_hash(1), media_title="He\x00at", uploader="G\x00RP")])

    assert inserted == [info_hash(1), info_hash(2)]
    assert applied.applied == [info_hash(1)]
    row = media.row(info_hash(1))
    assert (row["original_title"], row["original_link"]) == ("Heat (1995)", "magnet:?x")
    assert (row["media_title"], row["uploader"]) == ("Heat", "GRP")


def test_new_media_refuses_a_hash_that_is_not_lowercase_hex() -> None:
    with pytest.raises(ValueError, match="info-hash"):
        new(1, hash=info_hash(1).upper())


# --- conditional transitions -------------------------------------------------------------------


def test_apply_moves_a_row_still_in_the_status_the_step_read(
    store: MediaStore, media: MediaTable
) -> None:
    media.add(info_hash(1))

    result = store.apply(
        [advance(info_hash(1), media_title="Heat", release_year=1995, resolution="1080p")]
    )

    assert result.applied == [info_hash(1)]
    row = media.row(info_hash(1))
    assert (row["pipeline_status"], row["media_title"], row["release_year"]) == (
        "parsed",
        "Heat",
        1995,
    )
    assert row["resolution"] == "1080p"


def test_apply_does_not_move_a_row_that_moved_on(store: MediaStore, media: MediaTable) -> None:
    media.add(info_hash(1), pipeline_status="rejected", rejection_status="rejected")
    media.add(info_hash(2), error_status=True, error_condition="operator looks at it")
    media.add(info_hash(3), deleted_at="2024-01-01T00:00:00Z")
    media.add(info_hash(4))

    result = store.apply([advance(info_hash(n), media_title="New") for n in range(1, 6)])

    assert result.applied == [info_hash(4)]
    assert result.skipped == [info_hash(1), info_hash(2), info_hash(3), info_hash(5)]
    assert media.row(info_hash(1))["pipeline_status"] == "rejected"
    assert media.row(info_hash(2))["media_title"] is None
    assert media.row(info_hash(3))["media_title"] is None


def test_outcomes_whose_row_moved_on_are_reported_as_moved_on_not_as_done(
    store: MediaStore, media: MediaTable
) -> None:
    media.add(info_hash(1))
    media.add(info_hash(2), pipeline_status="rejected", rejection_status="rejected")
    decided = [advance(info_hash(1), media_title="A"), advance(info_hash(2), media_title="B")]

    recorded = store.apply(decided).recorded(decided)

    assert [o.verdict for o in recorded] == [Verdict.ADVANCED, Verdict.MOVED_ON]
    assert recorded[1].to_status is None


def test_a_second_run_applying_the_same_transition_changes_nothing(
    store: MediaStore, media: MediaTable
) -> None:
    media.add(info_hash(1))
    store.apply([advance(info_hash(1), media_title="first run")])

    again = store.apply([advance(info_hash(1), media_title="second run")])

    assert again.skipped == [info_hash(1)]
    assert media.row(info_hash(1))["media_title"] == "first run"


def test_apply_freezes_a_row_without_moving_it(store: MediaStore, media: MediaTable) -> None:
    media.add(info_hash(1))
    freeze = Outcome(
        info_hash(1),
        Verdict.ERRORED,
        INGESTED,
        None,
        {"error_status": True, "error_condition": "season is null"},
    )

    assert store.apply([freeze]).applied == [info_hash(1)]

    row = media.row(info_hash(1))
    assert (row["pipeline_status"], row["error_status"], row["error_condition"]) == (
        "ingested",
        True,
        "season is null",
    )
    assert store.select(INGESTED) == []


def test_apply_writes_nothing_for_retry_outcomes(
    store: MediaStore, media: MediaTable, db_connection: CountingConnection
) -> None:
    media.add(info_hash(1))
    retry = Outcome(info_hash(1), Verdict.RETRY, INGESTED, None, {}, "TMDB timed out")

    with db_connection.counting() as trips:
        result = store.apply([retry])

    assert (result.applied, result.skipped, result.retried) == ([], [], [info_hash(1)])
    assert trips.value == 0
    assert media.row(info_hash(1))["pipeline_status"] == "ingested"


def test_apply_sets_media_type_only_over_unknown(store: MediaStore, media: MediaTable) -> None:
    media.add(info_hash(1), media_type="unknown")
    media.add(info_hash(2), media_type="tv_show")

    store.apply([advance(info_hash(n), media_type=MediaType.MOVIE) for n in (1, 2)])

    assert media.row(info_hash(1))["media_type"] == "movie"
    assert media.row(info_hash(2))["media_type"] == "tv_show"


def test_apply_is_all_or_nothing_when_a_value_is_refused(
    store: MediaStore, media: MediaTable
) -> None:
    media.add(info_hash(1))
    media.add(info_hash(2))

    with pytest.raises(psycopg2.errors.CheckViolation):
        store.apply(
            [
                advance(info_hash(1), media_title="fine"),
                advance(info_hash(2), media_title="bad", release_year=1200),
                Outcome(info_hash(9), Verdict.ERRORED, INGESTED, None, {"error_status": True}),
            ]
        )

    assert media.row(info_hash(1))["pipeline_status"] == "ingested"
    assert media.row(info_hash(1))["media_title"] is None


def test_apply_refuses_columns_that_are_not_writable(store: MediaStore) -> None:
    with pytest.raises(ValueError, match="not writable: created_at, hash"):
        store.apply([advance(info_hash(1), **{"hash": "x", "created_at": "now"})])


def test_apply_refuses_two_outcomes_for_one_row(store: MediaStore) -> None:
    with pytest.raises(ValueError, match="same row"):
        store.apply([advance(info_hash(1)), advance(info_hash(1))])


# --- round trips -------------------------------------------------------------------------------


def _mixed_outcomes(count: int) -> list[Outcome]:
    """Three shapes: advance with fields, advance with media_type too, freeze."""
    outcomes = []
    for n in range(count):
        if n % 3 == 0:
            outcomes.append(advance(info_hash(n), media_title=f"T{n}", release_year=2000))
        elif n % 3 == 1:
            outcomes.append(
                advance(info_hash(n), media_title=f"T{n}", release_year=2000, media_type="movie")
            )
        else:
            changes = {"error_status": True, "error_condition": "release_year is null"}
            outcomes.append(Outcome(info_hash(n), Verdict.ERRORED, INGESTED, None, changes))
    return outcomes


@pytest.mark.parametrize("count", [10, 1000])
def test_round_trips_per_batch_do_not_grow_with_the_number_of_rows(
    count: int, store: MediaStore, db_connection: CountingConnection, media: MediaTable
) -> None:
    rows = [new(n, media_type=MediaType.UNKNOWN) for n in range(count)]
    trips: dict[str, int] = {}

    with db_connection.counting() as counted:
        store.known_hashes([row.hash for row in rows])
    trips["known"] = counted.value
    with db_connection.counting() as counted:
        assert len(store.insert_new(rows)) == count
    trips["insert"] = counted.value
    with db_connection.counting() as counted:
        assert len(store.select(INGESTED)) == count
    trips["select"] = counted.value
    with db_connection.counting() as counted:
        result = store.apply(_mixed_outcomes(count))
    trips["apply"] = counted.value

    assert len(result.applied) == count
    # BEGIN + statement + COMMIT; apply: BEGIN + one UPDATE per shape (3) + COMMIT.
    assert trips == {"known": 3, "insert": 3, "select": 3, "apply": 5}
    assert media.count() == count


def test_a_steps_batch_select_uses_the_queue_index_not_a_table_scan(
    store: MediaStore, media: MediaTable, atp_connection: psycopg2.extensions.connection
) -> None:
    for n in range(1, 301):
        media.add(info_hash(n), pipeline_status="complete" if n % 10 else "ingested")
    with atp_connection.cursor() as cursor:
        cursor.execute("ANALYZE atp.media")
        cursor.execute("SET enable_seqscan = off")  # a tiny table: make the planner show its hand
        cursor.execute(
            "EXPLAIN SELECT hash FROM atp.media WHERE pipeline_status = 'ingested'"
            " AND NOT error_status AND deleted_at IS NULL"
            " AND (created_at, hash) > ('2000-01-01'::timestamptz, ''::bpchar)"
            " ORDER BY created_at, hash LIMIT 50"
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    atp_connection.rollback()
    assert "media_step_queue" in plan, plan
