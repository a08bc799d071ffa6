"""Step 01 with Torznab indexers (a Prowlarr- and a Jackett-shaped stand-in on 127.0.0.1): rows
with what the indexer said, hashes however the item gives them, one indexer failing alone, and
the API key nowhere but in `original_link` (instance storage, logs, rows, at-item)."""

from __future__ import annotations

import logging
from typing import Any

import dagster as dg
import pytest

from automatic_transmission.cli.item import find_items, render_table
from automatic_transmission.clients.feeds import FeedsResource
from automatic_transmission.clients.torznab import TorznabClient, TorznabResource
from automatic_transmission.model import MediaType, RssSource
from automatic_transmission.pipeline.jobs import pipeline_jobs
from automatic_transmission.pipeline.steps.rss_ingest import configured_feeds, ingest
from automatic_transmission.store import MediaStore
from dagstributor_shared.notify import NotifierResource
from dagstributor_shared.postgres import PostgresResource
from tests.automatic_transmission.conftest import MediaTable
from tests.automatic_transmission.test_rss_ingest import RecordingLog, inserted
from tests.support.http import FakeHttpServer
from tests.support.steps import step_metadata
from tests.support.torznab import Release, TorznabIndexer

PROWLARR_KEY = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
JACKETT_KEY = "zyxwvutsrq9876543210abcdefghijkl"

MOVIE = Release(
    "The.Matrix.1999.1080p.BluRay.x264-GRP",
    imdb="tt0133093",
    tmdb=603,
    seeders=50,
    peers=61,
    size=8_000_000_000,
    minimum_ratio=1.0,
    minimum_seed_time=172800,
    download_volume_factor=0.0,
)
MOVIE_UNSEEDED = Release("The.Matrix.1999.1080p.WEB-DL.x264-OTHER", imdb="tt0133093", seeders=0)
MAGNET_ATTR_ONLY = Release("Heat.1995.1080p.BluRay.x264-GRP", infohash=False)
TORRENT_ONLY = Release("Ronin.1998.1080p.BluRay.x264-GRP", infohash=False, magneturl=False)
REDIRECT_TO_MAGNET = Release(
    "Collateral.2004.1080p.BluRay", infohash=False, magneturl=False, magnet_only=True
)
# A title that does not say its type: the category (5000s, TV) does.
UNTYPED_SHOW = Release("Some Show Complete", category=5040, tvdb=81189, imdb=None)
JACKETT_SHOW = Release("Severance.S02E03.1080p.WEB.h264-GRP", category=5040, imdb="tt11280740")
JACKETT_MAGNET = Release(
    "Andor.S01E01.1080p.WEB.h264-GRP", category=5040, infohash=False, magneturl=False
)
JACKETT_MAGNET.magnet_only = True  # Jackett: the magnet is the <link> and the enclosure


def indexers(http_server: FakeHttpServer) -> tuple[TorznabIndexer, TorznabIndexer]:
    prowlarr = TorznabIndexer(
        http_server,
        "prowlarr",
        PROWLARR_KEY,
        releases=[
            MOVIE,
            MOVIE_UNSEEDED,
            MAGNET_ATTR_ONLY,
            TORRENT_ONLY,
            REDIRECT_TO_MAGNET,
            UNTYPED_SHOW,
        ],
    )
    jackett = TorznabIndexer(
        http_server, "jackett", JACKETT_KEY, "eztv", releases=[JACKETT_SHOW, JACKETT_MAGNET]
    )
    return prowlarr, jackett


def run_ingest(store: MediaStore, *urls: str, log: RecordingLog | None = None) -> Any:
    sources = configured_feeds("", "", list(urls))
    client = TorznabClient(timeout_s=2, retries=0)
    return ingest(sources, _no_rss, store, log or RecordingLog(), client)


def _no_rss(url: str) -> list[Any]:
    raise AssertionError(f"no RSS feed is configured, yet {url} was read")


def test_indexer_items_become_rows_with_what_the_indexer_said(
    store: MediaStore, media: MediaTable, http_server: FakeHttpServer
) -> None:
    prowlarr, jackett = indexers(http_server)

    result = run_ingest(store, prowlarr.url, jackett.url)

    every = [*prowlarr.releases, *jackett.releases]
    assert sorted(inserted(result)) == sorted(r.hash for r in every)
    row = media.row(MOVIE.hash)
    assert {k: row[k] for k in ("media_type", "rss_source", "indexer", "imdb_id", "tmdb_id")} == {
        "media_type": "movie",
        "rss_source": "torznab",
        "indexer": f"{http_server.url}/1/api",
        "imdb_id": "tt0133093",  # Prowlarr's seven digits, with tt
        "tmdb_id": 603,
    }
    assert (row["seeders"], row["peers"], row["size_bytes"]) == (50, 61, 8_000_000_000)
    assert (row["minimum_ratio"], row["minimum_seed_time"], row["download_volume_factor"]) == (
        1.0,
        172800,
        0.0,
    )
    assert row["original_link"] == prowlarr.download_link(MOVIE)  # kept for step 07
    assert media.row(MOVIE_UNSEEDED.hash)["seeders"] == 0
    assert media.row(MAGNET_ATTR_ONLY.hash)["tmdb_id"] is None  # ids absent: null
    show = media.row(UNTYPED_SHOW.hash)
    assert (show["media_type"], show["tvdb_id"]) == (MediaType.TV_SHOW.value, 81189)
    assert media.row(JACKETT_SHOW.hash)["imdb_id"] == "tt11280740"  # Jackett's imdbid
    assert media.row(JACKETT_SHOW.hash)["indexer"].endswith("/indexers/eztv/results/torznab/api")
    # The magnet Prowlarr redirected to replaces the link (Transmission cannot follow it).
    assert media.row(REDIRECT_TO_MAGNET.hash)["original_link"].startswith("magnet:?")
    assert media.row(JACKETT_MAGNET.hash)["original_link"].startswith("magnet:?")
    # Only the releases naming no hash at all had their link fetched.
    assert sorted(r.query["link"][0] for r in prowlarr.download_calls()) == sorted(
        [TORRENT_ONLY.hash, REDIRECT_TO_MAGNET.hash]
    )
    assert jackett.download_calls() == []


def test_a_second_run_fetches_no_torrent_again(
    store: MediaStore, media: MediaTable, http_server: FakeHttpServer
) -> None:
    prowlarr, _ = indexers(http_server)
    run_ingest(store, prowlarr.url)
    first = [r.query["link"][0] for r in prowlarr.download_calls()]

    again = run_ingest(store, prowlarr.url)

    assert inserted(again) == []
    later = [r.query["link"][0] for r in prowlarr.download_calls()][len(first) :]
    assert sorted(first) == sorted([TORRENT_ONLY.hash, REDIRECT_TO_MAGNET.hash])
    # The .torrent is not fetched again; a link that redirected to a magnet is asked again (its
    # row holds the magnet, and the redirect is an answer without a body).
    assert later == [REDIRECT_TO_MAGNET.hash]
    assert again.sources is not None
    [row] = again.sources.rows
    assert row.figures["already known"] == len(prowlarr.releases)


def test_a_torrent_that_cannot_be_read_drops_only_its_item_with_the_reason(
    store: MediaStore, media: MediaTable, http_server: FakeHttpServer
) -> None:
    broken = Release("Broken.2020.1080p", infohash=False, magneturl=False, torrent=b"<html>")
    broken.hash = "0" * 40  # the link the stand-in serves it under
    prowlarr = TorznabIndexer(http_server, "prowlarr", PROWLARR_KEY, releases=[MOVIE, broken])
    log = RecordingLog()

    result = run_ingest(store, prowlarr.url, log=log)

    assert inserted(result) == [MOVIE.hash]
    assert any("not a .torrent file" in w and "Broken.2020" in w for w in log.warnings)
    assert not any(PROWLARR_KEY in line for line in [*log.warnings, *log.infos])


@pytest.mark.parametrize("failure", ["429", "429 in body", "410"])
def test_an_indexer_limited_or_gone_is_skipped_and_the_others_ingest(
    store: MediaStore, media: MediaTable, http_server: FakeHttpServer, failure: str
) -> None:
    prowlarr, jackett = indexers(http_server)
    if failure == "410":
        prowlarr.gone()
    else:
        prowlarr.rate_limited(retry_after_s=3600, in_body=failure == "429 in body")
    log = RecordingLog()

    result = run_ingest(store, prowlarr.url, jackett.url, log=log)

    assert sorted(inserted(result)) == sorted(r.hash for r in jackett.releases)
    rows = result.sources.rows
    assert rows[0].error is not None and rows[1].error is None
    assert any("feed skipped this run" in w for w in log.warnings)
    assert len(prowlarr.api_calls()) == 1  # a long Retry-After is not waited for


# --- the job: the key nowhere but in original_link ---------------------------------------------


def test_the_api_key_is_nowhere_but_in_original_link(
    postgres: PostgresResource,
    media: MediaTable,
    http_server: FakeHttpServer,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    prowlarr, jackett = indexers(http_server)
    broken = Release("Broken.2020.1080p", infohash=False, magneturl=False, torrent=b"<html>")
    broken.hash = "1" * 40
    prowlarr.releases.append(broken)  # its error text names the link it fetched
    keys = (PROWLARR_KEY, JACKETT_KEY)
    resources = {
        "postgres": postgres,
        "feeds": FeedsResource(sources="", urls="", timeout_s=2, retries=0),
        "torznab": TorznabResource(urls=f"{prowlarr.url},{jackett.url}", timeout_s=2, retries=0),
        "notifier": NotifierResource(),
    }
    caplog.set_level(logging.DEBUG)
    with dg.DagsterInstance.ephemeral() as instance:
        result = pipeline_jobs()["at_01_rss_ingest"].execute_in_process(
            resources=resources, instance=instance
        )
        assert result.success
        stored = [dg.serialize_value(record) for record in instance.all_logs(result.run_id)]
        run = instance.get_run_by_id(result.run_id)
        stored.append(dg.serialize_value(run))

    metadata = step_metadata(result)
    assert metadata["inserted"] == len(prowlarr.releases) - 1 + len(jackett.releases)
    for key in keys:
        assert not any(key in text for text in stored), "the key is in the instance storage"
        assert key not in caplog.text
        captured = capsys.readouterr()
        assert key not in captured.out + captured.err
    with media.connection.cursor() as cursor:
        cursor.execute("SELECT * FROM atp.media")
        names = [d.name for d in cursor.description or ()]
        rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    media.connection.commit()
    links = [row["original_link"] for row in rows]
    assert any(PROWLARR_KEY in str(link) for link in links)  # kept for step 07 ...
    for row in rows:  # ... and nowhere else
        others = " ".join(str(v) for k, v in row.items() if k != "original_link")
        assert not any(key in others for key in keys)
    table = render_table(find_items(media.connection, ["matrix"]))
    assert "Matrix" in table and not any(key in table for key in keys)


def test_the_job_fails_on_a_bad_indexer_url_naming_the_variable(
    postgres: PostgresResource,
) -> None:
    resources = {
        "postgres": postgres,
        "feeds": FeedsResource(sources="", urls=""),
        "torznab": TorznabResource(urls="prowlarr:9696/1/api?apikey=x"),
        "notifier": NotifierResource(),
    }
    result = pipeline_jobs()["at_01_rss_ingest"].execute_in_process(
        resources=resources, raise_on_error=False
    )
    assert not result.success
    failure = result.failure_data_for_node("rss_ingest")
    assert failure is not None and failure.user_failure_data is not None
    assert "AT_TORZNAB_URLS item 1 is not an http(s) URL" in str(
        failure.user_failure_data.description
    )


def test_no_feed_and_no_indexer_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match=r"AT_RSS_SOURCES is empty \(and so is AT_TORZNAB_URLS\)"):
        configured_feeds("", "", [])
    with pytest.raises(ValueError, match="'torznab' is not a feed label"):
        configured_feeds("torznab", "http://p:9696/1/api", [])  # indexers go in AT_TORZNAB_URLS
    [source] = configured_feeds("", "", ["http://p:9696/1/api?apikey=k"])
    assert source.label is RssSource.TORZNAB
    assert "apikey" not in source.name and "t=search" in source.url
