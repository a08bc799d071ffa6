"""`at_full_pipeline_job` from an empty `atp.media` to the end of step 06 (pipeline.md), in process,
against the test database and fake feeds, TMDB, OMDb and reel-driver on 127.0.0.1.

Two feeds (YTS movies, an episode feed) carry one item for each way through the steps: a wanted
1080p movie, a 720p movie, a movie the household does not want, a movie TMDB does not know, a TV
episode and a release name without a year. A second run changes nothing and asks no service about
the rows already decided.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from automatic_transmission.jobs import FULL_PIPELINE_JOB_NAME
from automatic_transmission.resources import FeedsResource
from dagstributor_shared.postgres import PostgresResource
from tests.support.feeds import episode_feed, episode_item, info_hash, yts_feed, yts_item
from tests.support.http import FakeHttpServer, Reply
from tests.support.omdb import FakeOmdb
from tests.support.reel_driver import FakeReelDriver
from tests.support.steps import (
    media_rows,
    metadata_by_step,
    outcome_counts,
    rows_by_key,
    run_step,
    step_failure,
)
from tests.support.tmdb import FakeTmdb

STEP_ORDER = ["rss_ingest", "parse", "file_filtration", "metadata_collection", "media_filtration"]
YTS_PATH, TV_PATH = "/feeds/yts", "/feeds/tv"

WANTED, LOW_RES, UNWANTED, UNKNOWN, EPISODE, NAMELESS = (info_hash(n) for n in range(1, 7))

MOVIES = [
    yts_item("The Matrix (1999)", WANTED, n=1),
    yts_item("Heat (1995)", LOW_RES, n=2, quality="720p"),
    yts_item("Cats (2019)", UNWANTED, n=3),
    yts_item("Zzyzx Unfindable (2011)", UNKNOWN, n=4),
    yts_item("Untitled Home Video", NAMELESS, n=5),
]
EPISODES = [episode_item("Severance S02E03 1080p WEB H264-SuccessfulCrab", EPISODE, n=6)]

# hash -> (pipeline_status, rejection_status, rejection_reason, error_condition,
#          media_title, release_year, tmdb_id, imdb_id) after step 06, whoever judges movies;
# `UNWANTED`'s reason depends on the judge (`expected_end`).
COMMON_END = {
    WANTED: ("media_accepted", "accepted", None, None, "The Matrix", 1999, 603, "tt0133093"),
    LOW_RES: (
        "rejected", "rejected", "resolution 720p is not in allowed_values", None,
        "Heat", 1995, None, None,
    ),
    UNKNOWN: (
        "rejected", "rejected", "media search failed", None,
        "Zzyzx Unfindable", 2011, None, None,
    ),
    EPISODE: ("media_accepted", "accepted", None, None, "Severance", 2022, 95396, "tt11280740"),
    NAMELESS: (
        "ingested", "unfiltered", None, "release_year is null",
        "Untitled Home Video", None, None, None,
    ),
}  # fmt: skip
UNWANTED_REASON = {
    "reel-driver": "probability 0.1 below threshold 0.35",
    "rules": "imdb_rating 28 is below min 60",  # config/automatic_transmission/media_filtration.yaml
}


@dataclass
class World:
    """The database, the fake services (one server) and the feeds of one test."""

    postgres: PostgresResource
    connection: Any
    server: FakeHttpServer
    model: FakeReelDriver
    tmdb: FakeTmdb
    omdb: FakeOmdb

    def run(self, judge: str) -> Any:
        feeds = FeedsResource(
            sources="yts.mx,episodefeed.com",
            urls=f"{self.server.url}{YTS_PATH},{self.server.url}{TV_PATH}",
            timeout_s=5,
            retries=0,
        )
        result = run_step(
            FULL_PIPELINE_JOB_NAME,
            self.postgres,
            feeds=feeds,
            tmdb_url=self.tmdb.base_url,
            omdb_url=self.omdb.base_url,
            reel_driver=(self.model.host, self.model.port) if judge == "reel-driver" else None,
        )
        assert result.success, step_failure(result)
        return result

    def table(self, query: str) -> dict[Any, dict[str, Any]]:
        return rows_by_key(self.connection, query)


@pytest.fixture
def world(postgres: PostgresResource, atp_connection: Any, http_server: FakeHttpServer) -> World:
    rss = {"Content-Type": "application/rss+xml"}
    http_server.route("GET", YTS_PATH, Reply(200, yts_feed(MOVIES), rss))
    http_server.route("GET", TV_PATH, Reply(200, episode_feed(EPISODES), rss))
    tmdb, omdb, model = FakeTmdb(http_server), FakeOmdb(http_server), FakeReelDriver(http_server)
    tmdb.movie(603, "The Matrix", "1999-03-30", "tt0133093", genres=("Action",))
    omdb.add("tt0133093", "The Matrix", rating="8.7", votes="2,104,221")
    model.probabilities["tt0133093"] = 0.9
    tmdb.movie(536869, "Cats", "2019-12-19", "tt5697572", genres=("Comedy",))
    omdb.add("tt5697572", "Cats", rating="2.8", votes="51,042")
    model.probabilities["tt5697572"] = "0.1"  # the model may answer a string
    tmdb.movie(949, "Heat", "1995-12-15", "tt0113277")  # never asked for: its file is 720p
    tmdb.show(95396, "Severance", "2022-02-17", "tt11280740")
    omdb.add("tt11280740", "Severance", rating="8.7")
    model.default = None  # a title the test did not expect gets no probability: frozen, visible
    return World(postgres, atp_connection, http_server, model, tmdb, omdb)


def expected_end(judge: str) -> dict[str, tuple[Any, ...]]:
    unwanted = ("rejected", "rejected", UNWANTED_REASON[judge], None, "Cats", 2019, 536869)
    return {**COMMON_END, UNWANTED: (*unwanted, "tt5697572")}


def final_states(world: World) -> dict[str, tuple[Any, ...]]:
    return {
        h: (
            r["pipeline_status"], r["rejection_status"], r["rejection_reason"],
            r["error_condition"], r["media_title"], r["release_year"], r["tmdb_id"], r["imdb_id"],
        )
        for h, r in media_rows(world.connection).items()
    }  # fmt: skip


def step_order(result: Any) -> list[tuple[str, str]]:
    return [
        (event.event_type_value, event.step_key)
        for event in result.all_events
        if event.event_type_value in ("STEP_START", "STEP_SUCCESS")
    ]


@pytest.mark.parametrize("judge", ["reel-driver", "rules"])
def test_every_feed_item_ends_step_06_with_the_verdict_its_rules_give(
    world: World, judge: str
) -> None:
    result = world.run(judge)

    assert final_states(world) == expected_end(judge)
    rows = media_rows(world.connection)
    assert rows[NAMELESS]["error_status"] is True  # frozen by parse, for an operator
    assert {h for h, r in rows.items() if r["error_status"]} == {NAMELESS}
    assert (rows[WANTED]["media_type"], rows[EPISODE]["media_type"]) == ("movie", "tv_show")
    labels = world.table("SELECT imdb_id, label::text FROM atp.training")
    assert labels["tt0133093"]["label"] == "would_watch"
    assert labels["tt5697572"]["label"] == "would_not_watch"
    assert labels["tt11280740"]["label"] is None  # TV is accepted without a verdict on the title

    # each step starts after the previous one finished, in the order of the design
    assert step_order(result) == [
        (kind, step) for step in STEP_ORDER for kind in ("STEP_START", "STEP_SUCCESS")
    ]
    metadata = metadata_by_step(result)
    assert list(metadata) == STEP_ORDER
    assert (metadata["rss_ingest"]["inserted"], metadata["rss_ingest"]["entries"]) == (6, 6)
    assert {step: outcome_counts(found) for step, found in metadata.items()} == {
        "rss_ingest": {"advanced": 6, "rejected": 0, "errored": 0, "retried later": 0},
        "parse": {"advanced": 5, "rejected": 0, "errored": 1, "retried later": 0},
        "file_filtration": {"advanced": 4, "rejected": 1, "errored": 0, "retried later": 0},
        "metadata_collection": {"advanced": 3, "rejected": 1, "errored": 0, "retried later": 0},
        "media_filtration": {"advanced": 2, "rejected": 1, "errored": 0, "retried later": 0},
    }
    assert metadata["media_filtration"]["judged by"].startswith(judge)

    # the 720p file never cost a metadata request; TV never went to the model
    searched = {c.param("query") for c in world.tmdb.calls() if "/search/" in c.path}
    assert searched == {"The Matrix", "Cats", "Zzyzx Unfindable", "Severance"}
    judged = [item["imdb_id"] for c in world.model.batch_calls() for item in c.json()["items"]]
    if judge == "reel-driver":
        assert sorted(judged) == ["tt0133093", "tt5697572"]
    else:
        assert world.model.batch_calls() == world.model.item_calls() == []


def test_a_second_full_run_changes_nothing_and_asks_no_service_about_decided_rows(
    world: World,
) -> None:
    world.run("reel-driver")
    media_before = world.table("SELECT * FROM atp.media")
    training_before = world.table("SELECT * FROM atp.training")
    world.server.requests.clear()

    again = world.run("reel-driver")

    assert world.table("SELECT * FROM atp.media") == media_before  # updated_at included
    assert world.table("SELECT * FROM atp.training") == training_before
    assert sorted(r.path for r in world.server.calls()) == [TV_PATH, YTS_PATH]  # feeds only
    metadata = metadata_by_step(again)
    assert list(metadata) == STEP_ORDER
    assert (metadata["rss_ingest"]["inserted"], metadata["rss_ingest"]["already known"]) == (0, 6)
    assert all(sum(outcome_counts(found).values()) == 0 for found in metadata.values())
