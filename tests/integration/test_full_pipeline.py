"""`at_full_pipeline_job` from an empty `atp.media` to files in the library (README "Code locations and jobs"), in
process, against the test database, fake feeds, TMDB, OMDb and reel-driver on 127.0.0.1, and a
real transmission-daemon downloading from a local web seed.

Two feeds (YTS movies, an episode feed) carry one item for each way through the steps: a wanted
1080p movie and a TV episode (both real torrents whose `.torrent` enclosures are served on
127.0.0.1), a 720p movie, a movie the household does not want, a movie TMDB does not know and a
release name without a year. Run until settled, the two wanted items are in the library under
their Plex names, byte-identical, their rows `complete`, nothing left in Transmission. A further
run changes nothing and asks no service about the rows already decided.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from automatic_transmission.clients.feeds import FeedsResource
from automatic_transmission.pipeline.jobs import FULL_PIPELINE_JOB_NAME
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
from tests.support.transmission import Daemon, download_resources
from tests.support.webseed import SeededTorrent, WebSeed, web_seed, write_payload

STEP_ORDER = [
    "watchlist_sync", "rss_ingest", "collect", "parse", "file_filtration", "metadata_collection",
    "media_filtration", "initiation", "download_check", "transfer", "cleanup",
]  # fmt: skip
YTS_PATH, TV_PATH = "/feeds/yts", "/feeds/tv"
MOVIE_NAME, EPISODE_NAME = "The.Matrix.1999.1080p", "Severance.S02E03.1080p.WEB.H264-SuccessfulCrab"
MOVIE_FILE = "movies/The Matrix (1999)/The Matrix (1999).mkv"
EPISODE_FILE = "tv/Severance (2022)/Season 02/Severance (2022) - s02e03.mkv"


def torrents(seed: WebSeed) -> tuple[SeededTorrent, SeededTorrent]:
    """The two wanted items as real torrents: a movie folder (with an .nfo that stays out of the
    library) and a single-file episode."""
    write_payload(seed.root / MOVIE_NAME / f"{MOVIE_NAME}.mkv", 300_000, seed=1)
    write_payload(seed.root / MOVIE_NAME / f"{MOVIE_NAME}.nfo", 100, seed=2)
    write_payload(seed.root / f"{EPISODE_NAME}.mkv", 200_000, seed=3)
    return (
        seed.make_torrent(seed.root / MOVIE_NAME),
        seed.make_torrent(seed.root / f"{EPISODE_NAME}.mkv"),
    )


# The hashes of the test torrents do not depend on where they are served (the url-list is
# outside the info dictionary), so they are known before any server starts.
with tempfile.TemporaryDirectory() as _folder, web_seed(Path(_folder)) as _seed:
    _MOVIE, _EPISODE = torrents(_seed)
WANTED, EPISODE = _MOVIE.hash, _EPISODE.hash
LOW_RES, UNWANTED, UNKNOWN, NAMELESS = (info_hash(n) for n in (2, 3, 4, 5))


def feeds(movie: SeededTorrent, episode: SeededTorrent) -> tuple[list[str], list[str]]:
    movies = [
        yts_item("The Matrix (1999)", WANTED, n=1, download=movie.url),
        yts_item("Heat (1995)", LOW_RES, n=2, quality="720p"),
        yts_item("Cats (2019)", UNWANTED, n=3),
        yts_item("Zzyzx Unfindable (2011)", UNKNOWN, n=4),
        yts_item("Untitled Home Video", NAMELESS, n=5),
    ]
    episodes = [
        episode_item(
            "Severance S02E03 1080p WEB H264-SuccessfulCrab",
            EPISODE,
            n=6,
            tv_info_hash=EPISODE,
            torrent_url=episode.url,
        )
    ]
    return movies, episodes


# hash -> (pipeline_status, rejection_status, rejection_reason, error_condition,
#          media_title, release_year, tmdb_id, imdb_id) after step 06, whoever judges movies;
# `UNWANTED`'s reason depends on the judge (`expected_end`).
COMMON_END = {
    WANTED: ("complete", "accepted", None, None, "The Matrix", 1999, 603, "tt0133093"),
    LOW_RES: (
        "rejected", "rejected", "resolution 720p is not in allowed_values", None,
        "Heat", 1995, None, None,
    ),
    UNKNOWN: (
        "rejected", "rejected", "media search failed", None,
        "Zzyzx Unfindable", 2011, None, None,
    ),
    EPISODE: ("complete", "accepted", None, None, "Severance", 2022, 95396, "tt11280740"),
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
    daemon: Daemon
    seed: WebSeed
    library: Path
    movie: SeededTorrent
    episode: SeededTorrent

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
            download=download_resources(self.daemon, self.library),
        )
        assert result.success, step_failure(result)
        return result

    def run_until_settled(self, judge: str, timeout: float = 90.0) -> Any:
        """The first run, then runs until both wanted items are complete; the first is returned."""
        first = self.run(judge)
        deadline = time.monotonic() + timeout
        while {media_rows(self.connection)[h]["pipeline_status"] for h in (WANTED, EPISODE)} != {
            "complete"
        }:
            assert time.monotonic() < deadline, "the downloads did not settle"
            time.sleep(0.5)
            self.run(judge)
        return first

    def table(self, query: str) -> dict[Any, dict[str, Any]]:
        return rows_by_key(self.connection, query)


@pytest.fixture
def world(
    postgres: PostgresResource,
    atp_connection: Any,
    http_server: FakeHttpServer,
    transmission: Daemon,
    seed: WebSeed,
    tmp_path: Path,
) -> World:
    movie, episode = torrents(seed)
    assert (movie.hash, episode.hash) == (WANTED, EPISODE)
    movies, episodes = feeds(movie, episode)
    rss = {"Content-Type": "application/rss+xml"}
    http_server.route("GET", YTS_PATH, Reply(200, yts_feed(movies), rss))
    http_server.route("GET", TV_PATH, Reply(200, episode_feed(episodes), rss))
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
    return World(
        postgres, atp_connection, http_server, model, tmdb, omdb,
        transmission, seed, tmp_path / "library", movie, episode,
    )  # fmt: skip


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
def test_every_feed_item_ends_with_the_verdict_its_rules_give_and_wanted_ones_are_filed(
    world: World, judge: str
) -> None:
    result = world.run_until_settled(judge)

    assert final_states(world) == expected_end(judge)
    movie_file, episode_file = (world.library / f for f in (MOVIE_FILE, EPISODE_FILE))
    assert movie_file.read_bytes() == (world.movie.path / f"{MOVIE_NAME}.mkv").read_bytes()
    assert episode_file.read_bytes() == world.episode.path.read_bytes()
    assert sorted(p.name for p in movie_file.parent.iterdir()) == [movie_file.name]  # no .nfo
    rows = world.table("SELECT hash, original_path, target_path FROM atp.media")
    assert rows[WANTED]["original_path"] == MOVIE_NAME
    assert rows[EPISODE]["target_path"] == str(episode_file.parent)
    assert world.daemon.torrents() == {}
    assert list(world.daemon.download_dir.iterdir()) == []
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
    first_run = {step: outcome_counts(found) for step, found in metadata.items()}
    assert {step: first_run[step] for step in STEP_ORDER[:8]} == {
        "watchlist_sync": {"advanced": 0, "rejected": 0, "errored": 0, "retried later": 0},
        "rss_ingest": {"advanced": 6, "rejected": 0, "errored": 0, "retried later": 0},
        "collect": {"advanced": 0, "rejected": 0, "errored": 0, "retried later": 0},
        "parse": {"advanced": 5, "rejected": 0, "errored": 1, "retried later": 0},
        "file_filtration": {"advanced": 4, "rejected": 1, "errored": 0, "retried later": 0},
        "metadata_collection": {"advanced": 3, "rejected": 1, "errored": 0, "retried later": 0},
        "media_filtration": {"advanced": 2, "rejected": 1, "errored": 0, "retried later": 0},
        "initiation": {"advanced": 2, "rejected": 0, "errored": 0, "retried later": 0},
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
    world.run_until_settled("reel-driver")
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


def test_several_releases_of_one_item_in_one_feed_yield_one_download_the_best(
    world: World,
) -> None:
    """Issue 16: three releases of one episode arrive in one run (the worse ones listed first);
    only the best is downloaded and filed, the others are rejected naming the better release."""
    worse = {
        info_hash(11): "Severance S02E03 720p WEB H264-SuccessfulCrab",
        info_hash(12): "Severance S02E03 1080p HDTV H264-OtherGroup",
    }
    episodes = [
        episode_item(title, h, n=20 + i, tv_info_hash=h)
        for i, (h, title) in enumerate(worse.items())
    ]
    _, wanted = feeds(world.movie, world.episode)
    rss = {"Content-Type": "application/rss+xml"}
    world.server.route("GET", TV_PATH, Reply(200, episode_feed(episodes + wanted), rss))

    world.run_until_settled("reel-driver")

    rows = media_rows(world.connection)
    assert rows[EPISODE]["pipeline_status"] == "complete"
    for loser in worse:
        assert (rows[loser]["pipeline_status"], rows[loser]["rejection_reason"]) == (
            "rejected",
            "Severance S02E03: a better release of this item is waiting "
            f"(1080p WEB-DL ({EPISODE[:8]}…))",
        )
    filed = sorted(p.relative_to(world.library).as_posix() for p in world.library.rglob("*.mkv"))
    assert filed == sorted([MOVIE_FILE, EPISODE_FILE])
    assert world.daemon.torrents() == {}
