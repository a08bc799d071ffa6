"""Step 05 metadata_collection against a fake TMDB and OMDb on 127.0.0.1 and a real database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from automatic_transmission.clients.tmdb import SearchHit
from automatic_transmission.model import (
    MediaRow,
    MediaType,
    PipelineStatus,
    RejectionStatus,
    normalised,
)
from automatic_transmission.pipeline.steps.metadata_collection import (
    NO_MATCH,
    FetchResult,
    best_hit,
    remembering,
)
from dagstributor_shared.postgres import PostgresResource
from tests.support.http import FakeHttpServer, Reply
from tests.support.omdb import FakeOmdb
from tests.support.steps import (
    age_training,
    insert_media,
    media_rows,
    rows_by_key,
    run_in_batches_of_two,
    run_step,
    step_counts,
    step_failure,
    step_metadata,
)
from tests.support.tmdb import FakeTmdb

JOB = "at_05_metadata_collection"


@dataclass
class World:
    postgres: PostgresResource
    connection: Any
    server: FakeHttpServer
    tmdb: FakeTmdb
    omdb: FakeOmdb

    def run(self, **kw: Any) -> Any:
        return run_step(
            JOB, self.postgres, tmdb_url=self.tmdb.base_url, omdb_url=self.omdb.base_url, **kw
        )

    def add(self, **row: Any) -> str:
        return insert_media(self.connection, [{"pipeline_status": "file_accepted", **row}])[0]

    def training(self) -> dict[str, dict[str, Any]]:
        return rows_by_key(
            self.connection,
            "SELECT imdb_id, tmdb_id, media_type::text, media_title, release_year,"
            " production_countries, genre, imdb_rating, imdb_votes, metascore, rt_score,"
            " human_labeled, updated_at, budget FROM atp.training",
        )


@pytest.fixture
def world(postgres: PostgresResource, atp_connection: Any, http_server: FakeHttpServer) -> World:
    tmdb, omdb = FakeTmdb(http_server), FakeOmdb(http_server)
    tmdb.movie(603, "The Matrix", "1999-03-30", "tt0133093", production_countries=("US", "AU"))
    omdb.add("tt0133093", "The Matrix", rating="8.7", votes="2,104,221", metascore="73")
    tmdb.show(1399, "Game of Thrones", "2011-04-17", "tt0944947")
    omdb.add("tt0944947", "Game of Thrones", rating="9.2")
    tmdb.show(1396, "Breaking Bad", "2008-01-20", "tt0903747")
    tmdb.show(2316, "The Office", "2005-03-24", "tt0386676")
    return World(postgres, atp_connection, http_server, tmdb, omdb)


def test_a_movie_gets_canonical_identity_and_its_metadata_in_training(world: World) -> None:
    h = world.add(media_title="the matrix", release_year=1999)
    result = world.run()
    assert result.success
    row = media_rows(world.connection)[h]
    assert row["pipeline_status"] == "metadata_collected"
    assert (row["media_title"], row["release_year"], row["tmdb_id"], row["imdb_id"]) == (
        "The Matrix", 1999, 603, "tt0133093",
    )  # fmt: skip
    stored = world.training()["tt0133093"]
    assert stored["media_type"] == "movie" and stored["production_countries"] == ["US", "AU"]
    assert (float(stored["imdb_rating"]), stored["imdb_votes"], stored["metascore"]) == (
        87.0, 2104221, 73,
    )  # fmt: skip
    assert stored["rt_score"] == 88 and stored["budget"] == 10_000_000
    assert step_counts(result)["advanced"] == 1


@pytest.mark.parametrize(
    ("media_type", "title", "season", "episode", "imdb_id", "tmdb_id"),
    [
        ("tv_show", "Game of Thrones", 1, 3, "tt0944947", 1399),
        ("tv_season", "Breaking Bad", 2, None, "tt0903747", 1396),
        ("tv_episode_pack", "The Office", 3, 1, "tt0386676", 2316),
    ],
)
def test_tv_types_take_their_imdb_id_from_tmdb_external_ids(
    world: World,
    media_type: str,
    title: str,
    season: int,
    episode: int | None,
    imdb_id: str,
    tmdb_id: int,
) -> None:
    h = world.add(media_type=media_type, media_title=title, season=season, episode=episode)
    assert world.run().success
    row = media_rows(world.connection)[h]
    assert row["pipeline_status"] == "metadata_collected"
    assert (row["imdb_id"], row["tmdb_id"]) == (imdb_id, tmdb_id)
    stored = world.training()[imdb_id]
    assert stored["media_type"] == media_type  # the row's type, never a stored one
    assert world.server.calls(f"/3/tv/{tmdb_id}/external_ids")


def test_an_ambiguous_search_picks_the_best_title_and_closest_year_not_the_first_hit(
    world: World,
) -> None:
    world.tmdb.movie(841, "Dune", "1984-12-14", "tt0087182")
    world.tmdb.movie(438631, "Dune", "2021-09-15", "tt1160419")
    world.tmdb.movie(999001, "Dune Drifter", "2020-10-01", "tt9999001")
    world.server.route(
        "GET",
        "/3/search/movie",
        Reply(200, {"page": 1, "total_results": 3, "total_pages": 1, "results": [
            t.search_result() for t in world.tmdb.titles if t.title.startswith("Dune")
        ]}),
    )  # fmt: skip
    h = world.add(media_title="Dune", release_year=2021)
    assert world.run().success
    assert media_rows(world.connection)[h]["imdb_id"] == "tt1160419"


def test_best_hit_prefers_title_then_year_and_drops_other_titles() -> None:
    hits = [
        SearchHit(1, "Heat Wave", None, 1995),
        SearchHit(2, "Heat", None, 1986),
        SearchHit(3, "Heat", None, 1995),
    ]
    assert best_hit(hits, "Heat", 1995) == hits[2]
    assert best_hit(hits, "Heat", None) in (hits[1], hits[2])
    assert best_hit([SearchHit(4, "Something Else Entirely", None, 1995)], "Heat", 1995) is None


def test_titles_in_other_scripts_match_and_are_looked_up_each_on_its_own() -> None:
    hits = [
        SearchHit(1, "Attack on Titan", "進撃の巨人", 2013),
        SearchHit(2, "Brother", "Брат", 1997),
    ]
    assert best_hit(hits, "Брат", 1997) == hits[1]
    assert best_hit(hits, "進撃の巨人", None) == hits[0]
    assert normalised("Amélie: Part II") == "amelie part ii"

    asked: list[str] = []

    def fetch(row: MediaRow) -> FetchResult:
        asked.append(str(row.media_title))
        return NO_MATCH

    fetch_once = remembering(fetch)
    for title in ("進撃の巨人", "鬼滅の刃", "進撃の巨人"):
        fetch_once(
            MediaRow(title, MediaType.TV_SHOW, PipelineStatus.FILE_ACCEPTED,
                     RejectionStatus.UNFILTERED, title, media_title=title)
        )  # fmt: skip
    assert asked == ["進撃の巨人", "鬼滅の刃"]


def test_no_search_result_rejects_media_search_failed(world: World) -> None:
    h = world.add(media_title="No Such Film", release_year=2020)
    assert world.run().success
    row = media_rows(world.connection)[h]
    assert (row["pipeline_status"], row["rejection_reason"]) == ("rejected", "media search failed")
    # asked with the year, then once more without it
    assert [c.param("year") for c in world.server.calls("/3/search/movie")] == ["2020", None]


def test_a_wrong_key_fails_the_step_with_a_clear_message_and_freezes_nothing(
    world: World,
) -> None:
    h = world.add(media_title="The Matrix", release_year=1999)
    result = world.run(tmdb_key="not-the-key-0000")
    assert not result.success
    message = step_failure(result)
    assert "configuration error" in message and "TMDB GET /search/movie: HTTP 401" in message
    assert "not-the-key-0000" not in message
    row = media_rows(world.connection)[h]
    assert (row["pipeline_status"], row["error_status"]) == ("file_accepted", False)


def test_429_with_retry_after_is_waited_for_and_retried(world: World) -> None:
    search = world.tmdb.titles[0].search_result()
    world.server.queue(
        "GET",
        "/3/search/movie",
        Reply(429, {"status_code": 25}, {"Retry-After": "0.5"}),
        Reply(200, {"page": 1, "results": [search], "total_results": 1, "total_pages": 1}),
    )
    h = world.add(media_title="The Matrix", release_year=1999)
    result = world.run()
    assert result.success
    assert len(world.server.calls("/3/search/movie")) == 2
    assert media_rows(world.connection)[h]["pipeline_status"] == "metadata_collected"


def test_500_then_success_collects_the_metadata(world: World) -> None:
    world.server.queue("GET", "/3/movie/603", Reply(500, "oops"))
    world.server.queue(
        "GET", "/3/movie/603", Reply(500, "oops"), Reply(200, world.tmdb.titles[0].details())
    )
    h = world.add(media_title="The Matrix", release_year=1999)
    assert world.run().success
    assert media_rows(world.connection)[h]["pipeline_status"] == "metadata_collected"


def test_a_timeout_leaves_the_rows_for_the_next_run_and_fails_a_run_where_all_failed(
    world: World,
) -> None:
    world.server.route("GET", "/3/search/movie", Reply(200, {"results": []}, delay_s=1.0))
    h = world.add(media_title="The Matrix", release_year=1999)
    result = world.run(timeout_s=0.2)
    assert not result.success and "failed transiently" in step_failure(result)
    row = media_rows(world.connection)[h]
    assert (row["pipeline_status"], row["error_status"]) == ("file_accepted", False)


def test_malformed_json_is_the_service_failing_so_rows_stay_untouched_and_the_run_is_red(
    world: World,
) -> None:
    world.server.route("GET", "/3/movie/603", Reply(200, "<html>oops</html>"))
    h = world.add(media_title="The Matrix", release_year=1999)
    result = world.run()
    assert not result.success
    assert "TMDB GET /movie/603: HTTP 200 with malformed JSON" in step_failure(result)
    row = media_rows(world.connection)[h]
    assert (row["pipeline_status"], row["error_status"]) == ("file_accepted", False)
    assert row["error_condition"] is None


def test_omdb_response_false_collects_without_ratings(world: World) -> None:
    world.tmdb.movie(11, "Obscure Film", "2019-05-01", "tt7777777")
    h = world.add(media_title="Obscure Film", release_year=2019)
    assert world.run().success
    assert media_rows(world.connection)[h]["pipeline_status"] == "metadata_collected"
    stored = world.training()["tt7777777"]
    assert stored["imdb_rating"] is None and stored["imdb_votes"] is None


def test_a_show_without_first_air_date_and_a_pre_1900_film_do_not_break_the_batch(
    world: World,
) -> None:
    world.tmdb.show(5000, "Announced Show", "", "tt5000000")
    world.tmdb.movie(159897, "Roundhay Garden Scene", "1888-10-14", "tt0392728")
    show = world.add(media_title="Announced Show", media_type="tv_season", season=1)
    old = world.add(media_title="Roundhay Garden Scene", release_year=1888)
    matrix = world.add(media_title="The Matrix", release_year=1999)
    assert world.run().success
    rows = media_rows(world.connection)
    assert {rows[h]["pipeline_status"] for h in (show, old, matrix)} == {"metadata_collected"}
    assert rows[show]["release_year"] is None and rows[show]["imdb_id"] == "tt5000000"
    training = world.training()
    assert "tt5000000" not in training  # no year: no training row (release_year is NOT NULL)
    assert training["tt0392728"]["release_year"] == 1888


def test_fresh_stored_metadata_is_reused_without_any_http_request(world: World) -> None:
    world.add(media_title="The Matrix", release_year=1999, original_title="The.Matrix.1999.720p")
    assert world.run().success
    before = len(world.server.calls())
    again = world.add(media_title="The Matrix", release_year=1999, original_title="Matrix.1080p")
    show = world.add(
        media_title="Game of Thrones", media_type="tv_show", season=1, episode=1,
        original_title="Game.of.Thrones.S01E01",
    )  # fmt: skip
    assert world.run().success  # the show is new: it costs requests
    world.server.requests.clear()
    third = world.add(media_title="the matrix", release_year=1999, original_title="matrix.x265")
    ep2 = world.add(
        media_title="Game of Thrones", media_type="tv_show", season=1, episode=2,
        original_title="Game.of.Thrones.S01E02",
    )  # fmt: skip
    result = world.run()
    assert result.success
    assert world.server.calls() == []
    assert step_metadata(result)["reused stored metadata"] == 2
    rows = media_rows(world.connection)
    for h in (again, third):
        assert (rows[h]["imdb_id"], rows[h]["tmdb_id"], rows[h]["media_title"]) == (
            "tt0133093", 603, "The Matrix",
        )  # fmt: skip
    assert (
        rows[ep2]["imdb_id"] == "tt0944947"
        and rows[show]["pipeline_status"] == rows[ep2]["pipeline_status"]
    )
    assert before > 0


def test_stale_metadata_is_refreshed(world: World) -> None:
    world.add(media_title="The Matrix", release_year=1999)
    assert world.run().success
    age_training(world.connection, ["tt0133093"], days=40)
    world.server.requests.clear()
    world.add(media_title="The Matrix", release_year=1999, original_title="The.Matrix.Again")
    assert world.run(stale_days=30).success
    assert world.server.calls("/3/movie/603")
    with world.connection.cursor() as cursor:
        cursor.execute("SELECT now() - updated_at < interval '1 hour' FROM atp.training")
        assert cursor.fetchone() == (True,)
    world.connection.commit()


def test_human_labeled_training_rows_are_never_rewritten(world: World) -> None:
    world.add(media_title="The Matrix", release_year=1999)
    assert world.run().success
    with world.connection.cursor() as cursor:
        cursor.execute(
            "UPDATE atp.training SET human_labeled = true, media_title = 'Kept' "
            "WHERE imdb_id = 'tt0133093'"
        )
    world.connection.commit()
    age_training(world.connection, ["tt0133093"], days=400)
    h = world.add(media_title="Kept", release_year=1999, original_title="Kept.1999")
    assert world.run().success
    assert world.training()["tt0133093"]["media_title"] == "Kept"
    assert world.server.calls("/3/movie/603") and len(world.server.calls("/3/movie/603")) == 1
    assert (
        media_rows(world.connection)[h]["imdb_id"] == "tt0133093"
    )  # reused: human rows stay fresh


def test_rows_are_selected_batch_by_batch_never_more_than_the_batch_size(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashes = [
        world.add(media_title="the matrix", release_year=1999, original_title=f"The.Matrix.{n}")
        for n in range(5)
    ]
    run_in_batches_of_two(world.run, world.connection, hashes, "metadata_collected", monkeypatch)


def test_a_row_left_for_the_next_run_does_not_hold_back_the_rows_behind_it(
    world: World,
) -> None:
    # The oldest rows fill the first batch and fail transiently (TMDB's details answer 503);
    # the rows behind them, in later batches, are still collected in the same run.
    world.tmdb.movie(777, "Down Title", "2001-05-01", "tt0000777")
    world.server.route("GET", "/3/movie/777", Reply(503, "maintenance"))
    down = [
        world.add(media_title="Down Title", release_year=2001, original_title=f"Down.{n}")
        for n in range(2)
    ]
    later = [
        world.add(media_title="the matrix", release_year=1999, original_title=f"Matrix.{n}")
        for n in range(3)
    ]

    result = world.run(batch_size=2)

    assert result.success
    rows = media_rows(world.connection)
    assert [rows[h]["pipeline_status"] for h in down] == ["file_accepted"] * 2
    assert [rows[h]["pipeline_status"] for h in later] == ["metadata_collected"] * 3
    assert step_counts(result) == {"advanced": 3, "rejected": 0, "errored": 0, "retried later": 2}


# --- ids from a Torznab indexer: no title search -------------------------------------------------


def _searches(world: World) -> list[str]:
    return [r.path for r in world.tmdb.calls() if r.path.startswith("/3/search/")]


@pytest.mark.parametrize(
    "ids",
    [{"tmdb_id": 603}, {"imdb_id": "tt0133093"}],
    ids=["tmdb id: details at once", "imdb id: /find"],
)
def test_a_movie_with_indexer_ids_is_found_without_a_title_search(
    world: World, ids: dict[str, Any]
) -> None:
    h = world.add(media_title="The Matrix", release_year=1999, **ids)
    assert world.run().success
    row = media_rows(world.connection)[h]
    assert (row["pipeline_status"], row["tmdb_id"], row["imdb_id"]) == (
        "metadata_collected", 603, "tt0133093",
    )  # fmt: skip
    assert _searches(world) == []
    finds = [r for r in world.tmdb.calls() if r.path.startswith("/3/find/")]
    assert [(r.path, r.param("external_source")) for r in finds] == (
        [("/3/find/tt0133093", "imdb_id")] if "imdb_id" in ids else []
    )


def test_a_show_is_found_by_its_tvdb_id(world: World) -> None:
    world.tmdb.show(60574, "Peaky Blinders", "2013-09-12", "tt2442560", tvdb_id=270915)
    h = world.add(media_type="tv_show", media_title="Peaky Blinders", season=1, episode=1,
                  tvdb_id=270915)  # fmt: skip
    assert world.run().success
    row = media_rows(world.connection)[h]
    assert (row["tmdb_id"], row["imdb_id"]) == (60574, "tt2442560")
    assert _searches(world) == []
    assert world.server.calls("/3/find/270915")[0].param("external_source") == "tvdb_id"


def test_ids_naming_another_title_or_unknown_to_tmdb_fall_back_to_the_title_search(
    world: World,
) -> None:
    # 1399 is a show (Game of Thrones): as a movie id TMDB does not know it (404).
    unknown = world.add(media_title="The Matrix", release_year=1999, tmdb_id=1399)
    # An IMDb id of another film: its details are not this title, so the search decides.
    world.tmdb.movie(680, "Pulp Fiction", "1994-09-10", "tt0110912")
    other = world.add(media_title="The Matrix", release_year=1999, imdb_id="tt0110912",
                      original_title="The.Matrix.1999.720p")  # fmt: skip
    assert world.run().success
    rows = media_rows(world.connection)
    assert rows[unknown]["tmdb_id"] == rows[other]["tmdb_id"] == 603
    assert _searches(world) != []
