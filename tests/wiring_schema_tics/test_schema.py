"""Schema `atp` as its DDL files (sql/ddl/) define it: instantiate, triggers, constraints, view, connection."""

from __future__ import annotations

import datetime as dt

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import pytest

from tests.wiring_schema_tics.conftest import RunJob
from tests.wiring_schema_tics.support import (
    atp_exists,
    execute,
    failure_message,
    query,
    scalar,
    snapshot,
    step_metadata,
)
from wiring_schema_tics.schema import INSTANTIATE_FILES

Connection = psycopg2.extensions.connection
HASH = "e" * 40
PAST = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def test_instantiate_job_runs_01_02_03_10_in_order(
    run_job: RunJob, atp_connection: Connection
) -> None:
    execute(atp_connection, "DROP SCHEMA atp CASCADE")
    result = run_job("wst_atp_instantiate_job")
    assert result.success
    files = step_metadata(result, "instantiate_atp")["files"]
    assert files == [path.name for path in INSTANTIATE_FILES]
    assert files == [
        "01_instantiate_media.sql",
        "02_instantiate_training.sql",
        "03_instantiate_prediction.sql",
        "04_instantiate_watchlist.sql",
        "10_set_perms.sql",
    ]
    tables = query(
        atp_connection,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'atp' ORDER BY 1",
    )
    assert [t for (t,) in tables] == ["media", "movies", "prediction", "training", "watchlist"]


def test_instantiate_twice_fails_clearly_and_leaves_the_schema_and_rows_alone(
    run_job: RunJob, seeded: Connection
) -> None:
    before = snapshot(seeded)
    result = run_job("wst_atp_instantiate_job")
    assert not result.success
    assert "schema atp already exists" in failure_message(result, "instantiate_atp")
    assert snapshot(seeded) == before


def test_instantiate_file_01_itself_refuses_an_existing_schema(atp_connection: Connection) -> None:
    with pytest.raises(psycopg2.errors.DuplicateSchema), atp_connection.cursor() as cursor:
        cursor.execute(INSTANTIATE_FILES[0].read_text())
    atp_connection.rollback()


def test_enums_hold_exactly_the_listed_values(atp_connection: Connection) -> None:
    rows = query(
        atp_connection,
        "SELECT t.typname, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_type t "
        "JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace "
        "WHERE n.nspname = 'atp' GROUP BY 1",
    )
    enums = dict(rows)
    assert enums["media_type"] == ["movie", "tv_show", "tv_season", "tv_episode_pack", "unknown"]
    assert enums["pipeline_status"] == [
        "ingested", "paused", "parsed", "rejected", "file_accepted", "metadata_collected",
        "media_accepted", "downloading", "downloaded", "transferred", "complete",
    ]  # fmt: skip
    assert enums["rejection_status"] == ["unfiltered", "accepted", "rejected", "override"]
    assert {"yts.mx", "yts.lt", "episodefeed.com", "torznab"} <= set(enums["rss_source"])
    assert enums["label_type"] == ["would_watch", "would_not_watch"]


def test_triggers_are_five_on_media_one_on_training_none_on_prediction(
    atp_connection: Connection,
) -> None:
    rows = query(
        atp_connection,
        "SELECT c.relname, count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'atp' AND NOT t.tgisinternal GROUP BY 1",
    )
    assert dict(rows) == {"media": 5, "training": 1}


def _insert_media(connection: Connection, **values: object) -> None:
    row: dict[str, object] = {
        "hash": HASH,
        "media_type": "movie",
        "original_title": "Some.Movie.2020",
        "created_at": PAST,
        "updated_at": PAST,
        **values,
    }
    columns = ", ".join(row)
    placeholders = ", ".join(f"%({name})s" for name in row)
    execute(connection, f"INSERT INTO atp.media ({columns}) VALUES ({placeholders})", row)


def _media(connection: Connection, *columns: str) -> tuple[object, ...]:
    return query(
        connection, f"SELECT {', '.join(columns)} FROM atp.media WHERE hash = %s", (HASH,)
    )[0]


def test_insert_keeps_the_timestamps_it_is_given(atp_connection: Connection) -> None:
    _insert_media(atp_connection)
    assert _media(atp_connection, "created_at", "updated_at") == (PAST, PAST)


def test_media_update_stamps_updated_at(atp_connection: Connection) -> None:
    _insert_media(atp_connection)
    execute(atp_connection, "UPDATE atp.media SET media_title = 'x'")
    created, updated = _media(atp_connection, "created_at", "updated_at")
    assert created == PAST
    assert isinstance(updated, dt.datetime) and updated > PAST + dt.timedelta(days=365)


def test_training_update_stamps_updated_at(atp_connection: Connection) -> None:
    execute(
        atp_connection,
        "INSERT INTO atp.training (imdb_id, media_type, media_title, release_year, created_at, "
        "updated_at) VALUES ('tt1234567', 'movie', 'M', 2000, %s, %s)",
        (PAST, PAST),
    )
    execute(atp_connection, "UPDATE atp.training SET label = 'would_watch'")
    created, updated = query(atp_connection, "SELECT created_at, updated_at FROM atp.training")[0]
    assert created == PAST and updated > PAST + dt.timedelta(days=365)


def test_back_to_ingested_resets_rejection_reason_and_error(atp_connection: Connection) -> None:
    _insert_media(
        atp_connection,
        pipeline_status="parsed",
        rejection_status="rejected",
        rejection_reason="too small",
        error_status=True,
        error_condition="boom",
    )
    execute(atp_connection, "UPDATE atp.media SET pipeline_status = 'ingested'")
    assert _media(
        atp_connection, "rejection_status", "rejection_reason", "error_status", "error_condition"
    ) == ("unfiltered", None, False, None)


def test_back_to_ingested_keeps_a_user_override(atp_connection: Connection) -> None:
    _insert_media(
        atp_connection, pipeline_status="parsed", rejection_status="override", error_status=True
    )
    execute(atp_connection, "UPDATE atp.media SET pipeline_status = 'ingested'")
    assert _media(atp_connection, "rejection_status", "error_status") == ("override", False)


def test_an_update_that_stays_ingested_resets_nothing(atp_connection: Connection) -> None:
    _insert_media(atp_connection, pipeline_status="ingested", rejection_status="accepted")
    execute(atp_connection, "UPDATE atp.media SET media_title = 'x'")
    assert _media(atp_connection, "rejection_status") == ("accepted",)


def test_error_condition_is_cleared_when_error_status_is_false(atp_connection: Connection) -> None:
    _insert_media(atp_connection, error_status=True, error_condition="boom")
    execute(atp_connection, "UPDATE atp.media SET media_title = 'still frozen'")
    assert _media(atp_connection, "error_condition") == ("boom",)
    execute(atp_connection, "UPDATE atp.media SET error_status = false")
    assert _media(atp_connection, "error_condition") == (None,)
    execute(atp_connection, "UPDATE atp.media SET error_condition = 'no error, no condition'")
    assert _media(atp_connection, "error_condition") == (None,)


def test_rejection_reason_is_cleared_unless_rejected(atp_connection: Connection) -> None:
    _insert_media(atp_connection, rejection_status="rejected", rejection_reason="too small")
    execute(atp_connection, "UPDATE atp.media SET media_title = 'still rejected'")
    assert _media(atp_connection, "rejection_reason") == ("too small",)
    execute(atp_connection, "UPDATE atp.media SET rejection_status = 'accepted'")
    assert _media(atp_connection, "rejection_reason") == (None,)


def test_soft_delete_rejects_the_row_for_user_deletion(atp_connection: Connection) -> None:
    _insert_media(atp_connection, pipeline_status="downloading", rejection_status="accepted")
    execute(atp_connection, "UPDATE atp.media SET deleted_at = now()")
    assert _media(atp_connection, "rejection_status", "rejection_reason") == (
        "rejected",
        "user deletion",
    )


def test_soft_delete_rejects_even_a_user_override_and_keeps_the_reason(
    atp_connection: Connection,
) -> None:
    _insert_media(atp_connection, pipeline_status="parsed", rejection_status="override")
    # Moving back to ingested in the same UPDATE: the reset runs first, the deletion wins.
    execute(atp_connection, "UPDATE atp.media SET deleted_at = now(), pipeline_status = 'ingested'")
    assert _media(atp_connection, "rejection_status", "rejection_reason") == (
        "rejected",
        "user deletion",
    )


VALID_ROWS: dict[str, dict[str, object]] = {
    "media": {"hash": HASH, "media_type": "movie", "original_title": "t"},
    "training": {
        "imdb_id": "tt1234567",
        "media_type": "movie",
        "media_title": "M",
        "release_year": 2000,
    },
    "prediction": {"imdb_id": "tt1234567", "prediction": 1, "probability": 0.5, "cm_value": "tp"},
}
INVALID_VALUES = [
    ("media", {"hash": "A" * 40}),
    ("media", {"hash": "a" * 39 + "g"}),
    ("media", {"release_year": 1849}),
    ("media", {"release_year": 2101}),
    ("media", {"imdb_id": "tt123456"}),
    ("media", {"tmdb_id": 0}),
    ("media", {"seeders": -1}),
    ("media", {"peers": -1}),
    ("media", {"size_bytes": -1}),
    ("media", {"tvdb_id": 0}),
    ("media", {"minimum_ratio": -0.5}),
    ("media", {"minimum_seed_time": -1}),
    ("media", {"download_volume_factor": -1}),
    ("training", {"imdb_id": "nm1234567"}),
    ("training", {"release_year": 2101}),
    ("training", {"tmdb_id": -5}),
    ("training", {"budget": -1}),
    ("training", {"revenue": -1}),
    ("training", {"runtime": -1}),
    ("training", {"tmdb_rating": 10.5}),
    ("training", {"tmdb_votes": -1}),
    ("training", {"rt_score": 101}),
    ("training", {"metascore": -1}),
    ("training", {"imdb_rating": 100.5}),
    ("training", {"imdb_votes": -1}),
    ("prediction", {"prediction": 2}),
    ("prediction", {"cm_value": "xx"}),
]


@pytest.mark.parametrize(("table", "invalid"), INVALID_VALUES)
def test_check_constraints_reject_invalid_values(
    atp_connection: Connection, table: str, invalid: dict[str, object]
) -> None:
    row = {**VALID_ROWS[table], **invalid}
    sql = f"INSERT INTO atp.{table} ({', '.join(row)}) VALUES ({', '.join(['%s'] * len(row))})"
    with pytest.raises(psycopg2.errors.CheckViolation), atp_connection.cursor() as cursor:
        cursor.execute(sql, list(row.values()))
    atp_connection.rollback()


@pytest.mark.parametrize("table", list(VALID_ROWS))
def test_the_valid_rows_of_the_constraint_tests_are_accepted(
    atp_connection: Connection, table: str
) -> None:
    row = VALID_ROWS[table]
    sql = f"INSERT INTO atp.{table} ({', '.join(row)}) VALUES ({', '.join(['%s'] * len(row))})"
    execute(atp_connection, sql, list(row.values()))


def test_movies_view_joins_training_and_prediction_with_renamed_timestamps(
    seeded: Connection,
) -> None:
    with seeded.cursor() as cursor:
        cursor.execute("SELECT * FROM atp.movies ORDER BY imdb_id")
        names = [c.name for c in cursor.description or ()]
        rows = cursor.fetchall()
    seeded.commit()
    training_columns = [
        n
        for (n,) in query(
            seeded,
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'atp' "
            "AND table_name = 'training' ORDER BY ordinal_position",
        )
        if n not in ("created_at", "updated_at")
    ]
    assert names == [
        *training_columns,
        "prediction",
        "probability",
        "cm_value",
        "training_created_at",
        "training_updated_at",
        "prediction_created_at",
    ]
    assert len(rows) == scalar(
        seeded, "SELECT count(*) FROM atp.training JOIN atp.prediction USING (imdb_id)"
    )


def test_db_connection_job_emits_the_result_rows_as_metadata(
    run_job: RunJob, atp_database: str
) -> None:
    result = run_job("test_db_connection_job")
    assert result.success
    rows = step_metadata(result, "test_db_connection")["rows"]
    assert len(rows) == 1
    assert rows[0]["database"] == atp_database
    assert rows[0]["server_version"].startswith("PostgreSQL")
    assert set(rows[0]) == {"server_version", "database", "user", "server_time"}


def test_drop_job_with_force_drops_schema_atp(run_job: RunJob, seeded: Connection) -> None:
    result = run_job("wst_atp_drop_job", {"ops": {"check_backups": {"config": {"force": True}}}})
    assert result.success
    assert not atp_exists(seeded)


def _item_row(hash_char: str, status: str, **values: object) -> dict[str, object]:
    return {
        "hash": hash_char * 40, "media_type": "tv_show", "original_title": f"Show {hash_char}",
        "tmdb_id": 1399, "season": 1, "episode": 5, "pipeline_status": status, **values,
    }  # fmt: skip


def _insert(connection: Connection, row: dict[str, object]) -> None:
    columns = ", ".join(row)
    placeholders = ", ".join(["%s"] * len(row))
    execute(
        connection,
        f"INSERT INTO atp.media ({columns}) VALUES ({placeholders})",
        tuple(row.values()),
    )


@pytest.mark.parametrize(
    ("first", "second", "allowed"),
    [
        ({}, {}, False),  # the same episode twice
        ({}, {"episode": 6}, True),  # two episodes of one season
        ({"media_type": "tv_season", "episode": None}, {}, False),  # a season pack covers it
        ({"media_type": "tv_episode_pack", "episode": 4, "last_episode": 6}, {}, False),
        ({"media_type": "tv_episode_pack", "episode": 1, "last_episode": 4}, {}, True),
        ({"media_type": "tv_season", "season": 1, "last_season": 3, "episode": None},
         {"season": 3, "episode": 9}, False),  # a multi-season pack
        ({}, {"season": 2}, True),
        ({}, {"tmdb_id": 1400}, True),
        ({"media_type": "movie", "season": None, "episode": None},
         {"media_type": "movie", "season": None, "episode": None}, False),
        ({"media_type": "movie", "season": None, "episode": None, "tmdb_id": 1},
         {"tmdb_id": 1, "season": 0, "episode": 0}, True),  # a movie is no episode of a show
        ({"tmdb_id": None}, {"tmdb_id": None}, True),  # no item known: judged alone
        ({"pipeline_status": "complete"}, {}, True),  # held, not being fetched: an upgrade
        ({"error_status": True}, {}, True),  # frozen: not being fetched
    ],
)  # fmt: skip
def test_the_database_allows_one_release_per_item_being_fetched(
    atp_connection: Connection,
    first: dict[str, object],
    second: dict[str, object],
    allowed: bool,
) -> None:
    """Issue 16: two live releases whose items overlap are never accepted/downloading at once."""
    _insert(atp_connection, _item_row("a", "downloading", **first))
    if allowed:
        _insert(atp_connection, _item_row("b", "media_accepted", **second))
        return
    with pytest.raises(psycopg2.errors.ExclusionViolation, match="media_one_fetch_per_item"):
        _insert(atp_connection, _item_row("b", "media_accepted", **second))
    atp_connection.rollback()
    _insert(atp_connection, _item_row("b", "metadata_collected", **second))  # waiting is fine
