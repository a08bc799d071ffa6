"""Hunting against a Prowlarr- and a Jackett-shaped indexer on 127.0.0.1 and a real database:
searches by id or by name as each indexer's caps allow, results ingested like feed items."""

from __future__ import annotations

import datetime as dt

from automatic_transmission.clients.tmdb import TmdbClient
from automatic_transmission.clients.torznab import TorznabClient, Wanted
from automatic_transmission.pipeline.hunt import hunt, missing_episodes
from automatic_transmission.store import MediaStore
from tests.automatic_transmission.conftest import MediaTable
from tests.automatic_transmission.test_rss_ingest import RecordingLog
from tests.support.http import FakeHttpServer
from tests.support.tmdb import TMDB_KEY, FakeTmdb
from tests.support.torznab import Release, TorznabIndexer, caps_xml

MATRIX = Release("The.Matrix.1999.1080p.BluRay.x264-GRP", imdb="tt0133093", tmdb=603)
EPISODE = Release(
    "Severance.S02E03.1080p.WEB.h264-GRP", category=5040, tvdb=371980, season=2, episode=3
)
OTHER_EPISODE = Release(
    "Severance.S02E04.1080p.WEB.h264-GRP", category=5040, tvdb=371980, season=2, episode=4
)
WANTED = [
    Wanted("The Matrix", 1999, imdb_id="tt0133093"),
    Wanted("Severance", 2022, tvdb_id=371980, season=2, episode=3),
]


def indexers(http_server: FakeHttpServer) -> tuple[TorznabIndexer, TorznabIndexer]:
    everything = [MATRIX, EPISODE, OTHER_EPISODE]
    prowlarr = TorznabIndexer(http_server, "prowlarr", releases=everything)
    # An indexer that searches by name only: the same film, under the same hash.
    jackett = TorznabIndexer(
        http_server, "jackett", "jackettkey123", "x", releases=[MATRIX], caps=caps_xml("q", None)
    )
    return prowlarr, jackett


def client() -> TorznabClient:
    return TorznabClient(timeout_s=2, retries=0)


def test_wanted_titles_are_searched_on_every_indexer_and_ingested_once(
    store: MediaStore, media: MediaTable, http_server: FakeHttpServer
) -> None:
    prowlarr, jackett = indexers(http_server)

    result = hunt(WANTED, [prowlarr.url, jackett.url], client(), store, RecordingLog())

    assert sorted(media.hashes()) == sorted([MATRIX.hash, EPISODE.hash])  # not S02E04
    assert media.row(MATRIX.hash)["rss_source"] == "torznab"
    searches = [c.query for c in prowlarr.api_calls() if c.param("t") != "caps"]
    assert [(q["t"][0], q.get("imdbid", q.get("tvdbid"))) for q in searches] == [
        ("movie", ["0133093"]),
        ("tvsearch", ["371980"]),
    ]
    by_name = [c.param("q") for c in jackett.api_calls() if c.param("t") != "caps"]
    assert by_name == ["The Matrix 1999", "Severance S02E03"]
    assert [(t.requests, t.results, t.errors) for t in result.indexers] == [
        (3, 2, []),
        (3, 1, []),
    ]
    assert [(i.wanted.title, i.found, i.inserted) for i in result.items] == [
        ("The Matrix", 2, 1),  # listed by both indexers, one row
        ("Severance", 1, 1),
    ]


def test_an_indexer_whose_caps_fail_is_left_out_and_the_others_hunt(
    store: MediaStore, media: MediaTable, http_server: FakeHttpServer
) -> None:
    prowlarr, jackett = indexers(http_server)
    jackett.gone()
    log = RecordingLog()

    result = hunt(WANTED, [prowlarr.url, jackett.url], client(), store, log)

    assert sorted(media.hashes()) == sorted([MATRIX.hash, EPISODE.hash])
    assert len(jackett.api_calls()) == 1  # the caps request only
    assert "HTTP 410" in result.indexers[1].errors[0]
    assert any("left out of this hunt" in w for w in log.warnings)
    assert not any("jackettkey123" in w for w in log.warnings)


def test_at_most_max_items_are_hunted_and_a_second_hunt_inserts_nothing(
    store: MediaStore, media: MediaTable, http_server: FakeHttpServer
) -> None:
    prowlarr, _ = indexers(http_server)

    first = hunt(WANTED, [prowlarr.url], client(), store, RecordingLog(), max_items=1)
    again = hunt(WANTED, [prowlarr.url], client(), store, RecordingLog(), max_items=1)

    assert [i.wanted.title for i in first.items] == ["The Matrix"]
    assert media.hashes() == [MATRIX.hash]
    assert again.items[0].inserted == 0 and again.items[0].found == 1


def test_the_missing_episodes_are_those_aired_and_not_held() -> None:
    show = Wanted("Severance", 2022, tvdb_id=371980)
    wanted = missing_episodes(show, 2, [1, 2, 3, 4], {(2, 1), (2, 3), (1, 2)})
    assert [(w.title, w.tvdb_id, w.season, w.episode) for w in wanted] == [
        ("Severance", 371980, 2, 2),
        ("Severance", 371980, 2, 4),
    ]
    assert missing_episodes(show, 2, [], set()) == []


def test_tmdb_season_details_give_the_episodes_aired_by_today(http_server: FakeHttpServer) -> None:
    tmdb = FakeTmdb(http_server)
    tmdb.season(95396, 2, ["2025-01-17", "2025-01-24", "2099-01-31", None, "not a date"])
    client = TmdbClient.connect(TMDB_KEY, tmdb.base_url, rate_limit_per_s=0)
    assert client.aired_episodes(95396, 2, dt.date(2025, 1, 24)) == [1, 2]
    assert client.aired_episodes(95396, 2, dt.date(2025, 1, 23)) == [1]
