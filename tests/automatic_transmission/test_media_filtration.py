"""Step 06 media_filtration: reel-driver on 127.0.0.1 (or the rules), labels, a real database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from automatic_transmission.model import MediaType, TrainingRecord
from automatic_transmission.store.training import TrainingStore
from dagstributor_shared.postgres import PostgresResource
from tests.support.http import FakeHttpServer, Reply
from tests.support.reel_driver import BATCH_PATH, FakeReelDriver
from tests.support.steps import (
    insert_media,
    media_rows,
    run_in_batches_of_two,
    run_step,
    step_counts,
    step_failure,
    step_metadata,
)

JOB = "at_06_media_filtration"


@dataclass
class World:
    postgres: PostgresResource
    connection: Any
    server: FakeHttpServer
    model: FakeReelDriver

    def run(self, model: bool = True, **kw: Any) -> Any:
        reel_driver = (self.model.host, self.model.port) if model else None
        return run_step(JOB, self.postgres, reel_driver=reel_driver, **kw)

    def movie(self, n: int, probability: float | str | None = 0.5, **training: Any) -> str:
        imdb_id = f"tt{n:07d}"
        record = TrainingRecord(
            imdb_id=imdb_id, tmdb_id=n, media_type=MediaType.MOVIE, media_title=f"Film {n}",
            release_year=2020, genre=("Drama",), original_language="en", imdb_rating=70.0,
            imdb_votes=5000,
        )  # fmt: skip
        TrainingStore(self.connection).upsert_metadata([record])
        if training:
            sets = ", ".join(f"{k} = %s" for k in training)
            with self.connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE atp.training SET {sets} WHERE imdb_id = %s",
                    (*training.values(), imdb_id),
                )
            self.connection.commit()
        self.model.probabilities[imdb_id] = probability
        return self.row(media_title=f"Film {n}", imdb_id=imdb_id, release_year=2020)

    def row(self, **row: Any) -> str:
        row.setdefault("original_title", f"{row.get('media_title')}.{row.get('imdb_id')}")
        return insert_media(self.connection, [{"pipeline_status": "metadata_collected", **row}])[0]

    def labels(self) -> dict[str, str | None]:
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT imdb_id, label::text FROM atp.training")
            found = dict(cursor.fetchall())
        self.connection.commit()
        return found


@pytest.fixture
def world(postgres: PostgresResource, atp_connection: Any, http_server: FakeHttpServer) -> World:
    return World(postgres, atp_connection, http_server, FakeReelDriver(http_server))


def test_probability_at_or_above_the_threshold_passes_below_is_rejected_with_labels(
    world: World,
) -> None:
    above, equal, below = world.movie(1, 0.9), world.movie(2, "0.35"), world.movie(3, "0.2")
    result = world.run(threshold=0.35)
    assert result.success
    rows = media_rows(world.connection)
    assert rows[above]["pipeline_status"] == rows[equal]["pipeline_status"] == "media_accepted"
    assert (rows[below]["pipeline_status"], rows[below]["rejection_reason"]) == (
        "rejected", "probability 0.2 below threshold 0.35",
    )  # fmt: skip
    assert world.labels() == {
        "tt0000001": "would_watch", "tt0000002": "would_watch", "tt0000003": "would_not_watch",
    }  # fmt: skip
    assert len(world.model.batch_calls()) == 1 and world.model.item_calls() == []
    assert step_counts(result) == {"advanced": 2, "rejected": 1, "errored": 0, "retried later": 0}


def test_tv_types_and_override_are_accepted_without_asking_the_model(world: World) -> None:
    rows = [
        world.row(media_title="Show", media_type=t, season=1, imdb_id="tt0944947", original_title=t)
        for t in ("tv_show", "tv_season", "tv_episode_pack")
    ]
    forced = world.movie(4, 0.01)
    with world.connection.cursor() as cursor:
        cursor.execute(
            "UPDATE atp.media SET rejection_status = 'override' WHERE hash = %s", (forced,)
        )
    world.connection.commit()
    assert world.run().success
    found = media_rows(world.connection)
    assert {found[h]["pipeline_status"] for h in [*rows, forced]} == {"media_accepted"}
    assert found[forced]["rejection_status"] == "override"
    assert world.server.calls() == []
    assert world.labels()["tt0000004"] == "would_watch"  # the user wanted it


def test_a_failed_batch_falls_back_to_one_call_per_item(world: World) -> None:
    world.model.fail_batch = True
    a, b = world.movie(5, 0.8), world.movie(6, 0.1)
    assert world.run().success
    rows = media_rows(world.connection)
    assert (rows[a]["pipeline_status"], rows[b]["pipeline_status"]) == (
        "media_accepted",
        "rejected",
    )
    assert len(world.model.item_calls()) == 2


def test_a_movie_without_imdb_id_is_rejected(world: World) -> None:
    h = world.row(media_title="Mystery", release_year=2020)
    assert world.run().success
    assert media_rows(world.connection)[h]["rejection_reason"] == "movie has no imdb_id"


def test_a_missing_probability_is_never_a_silent_accept(world: World) -> None:
    h = world.movie(7, None)
    assert world.run().success
    row = media_rows(world.connection)[h]
    assert (row["pipeline_status"], row["error_status"]) == ("metadata_collected", True)
    assert row["error_condition"] == "reel-driver gave no probability for tt0000007"
    assert len(world.model.item_calls()) == 1  # asked alone once more before giving up


def test_anomalous_rows_use_their_stored_label_not_the_model(world: World) -> None:
    no = world.movie(8, 0.99, anomalous=True, label="would_not_watch")
    yes = world.movie(9, 0.01, anomalous=True, label="would_watch")
    assert world.run().success
    rows = media_rows(world.connection)
    assert (
        rows[no]["pipeline_status"] == "rejected"
        and rows[yes]["pipeline_status"] == "media_accepted"
    )
    assert world.model.batch_calls() == []


def test_human_labeled_rows_keep_their_label(world: World) -> None:
    h = world.movie(10, 0.1, human_labeled=True, label="would_watch")
    assert world.run().success
    assert media_rows(world.connection)[h]["pipeline_status"] == "rejected"
    assert world.labels()["tt0000010"] == "would_watch"


def test_a_model_that_is_down_leaves_rows_for_the_next_run(world: World) -> None:
    world.server.route("POST", BATCH_PATH, Reply(503, "down"))
    world.server.route("POST", "/reel-driver/api/predict", Reply(503, "down"))
    h = world.movie(11, 0.9)
    result = world.run()
    assert not result.success and "failed transiently" in step_failure(result)
    assert media_rows(world.connection)[h]["error_status"] is False


def test_a_model_answering_401_fails_the_step_and_freezes_nothing(world: World) -> None:
    world.server.route("POST", BATCH_PATH, Reply(401, {"detail": "bad token"}))
    h = world.movie(12, 0.9)
    show = world.row(media_title="Show", media_type="tv_show", season=1, imdb_id="tt0944947")
    result = world.run()
    assert not result.success and "configuration error" in step_failure(result)
    rows = media_rows(world.connection)
    assert (rows[h]["pipeline_status"], rows[h]["error_status"]) == ("metadata_collected", False)
    assert rows[show]["pipeline_status"] == "media_accepted"


def test_without_reel_driver_the_rules_of_media_filtration_yaml_decide(world: World) -> None:
    good = world.movie(13)
    low = world.movie(14, imdb_rating=55)
    horror = world.movie(15, genre=["Drama", "Horror"])
    result = world.run(model=False)
    assert result.success
    rows = media_rows(world.connection)
    assert rows[good]["pipeline_status"] == "media_accepted"
    assert rows[low]["rejection_reason"] == "imdb_rating 55 is below min 60"
    assert rows[horror]["rejection_reason"] == "genre Horror is in excluded_values"
    assert world.server.calls() == []
    assert step_metadata(result)["judged by"] == "rules"
    assert world.labels()["tt0000014"] == "would_not_watch"


def test_rows_are_selected_batch_by_batch_never_more_than_the_batch_size(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashes = [world.movie(n, probability=0.9) for n in range(1, 6)]
    run_in_batches_of_two(world.run, world.connection, hashes, "media_accepted", monkeypatch)
    assert len(world.model.batch_calls()) == 3  # one predict_batch per batch
