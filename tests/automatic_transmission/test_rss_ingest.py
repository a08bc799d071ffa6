"""Step 01 rss_ingest (pipeline/steps/rss_ingest.py): info-hashes from magnets, infoHash elements and YTS `.torrent`
URLs; duplicates, known and soft-deleted hashes skipped; one broken feed does not stop the
others; every feed broken fails the run; concurrent runs insert each hash once."""

from __future__ import annotations

import socket
import threading
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

import dagster as dg
import pytest

from automatic_transmission.clients.feeds import FeedClient, FeedItem, FeedLink, FeedsResource
from automatic_transmission.clients.torznab import TorznabResource
from automatic_transmission.model import MediaType, RssSource
from automatic_transmission.pipeline.jobs import pipeline_jobs
from automatic_transmission.pipeline.runner import Sources, StepResult
from automatic_transmission.pipeline.steps.rss_ingest import (
    MAX_TITLE_CHARS,
    FeedConfigError,
    FeedSource,
    configured_feeds,
    ingest,
    item_info_hash,
    media_type_for,
    torrent_link,
)
from automatic_transmission.store import MediaStore, NewMedia
from dagstributor_shared.notify import NotifierResource
from dagstributor_shared.postgres import PostgresResource
from tests.automatic_transmission.conftest import MediaTable
from tests.support.database import PgTestServer
from tests.support.feeds import (
    base32_hash,
    big_yts_feed,
    episode_feed,
    episode_item,
    eztv_feed,
    eztv_item,
    info_hash,
    magnet,
    yts_feed,
    yts_item,
)
from tests.support.http import FakeHttpServer, Reply
from tests.support.roundtrips import CountingConnection, connect_counting
from tests.support.steps import step_metadata

RSS = {"Content-Type": "application/rss+xml"}
H = info_hash


class RecordingLog:
    def __init__(self) -> None:
        self.warnings: list[str] = []
        self.infos: list[str] = []

    def info(self, msg: str) -> None:
        self.infos.append(msg)

    def warning(self, msg: str) -> None:
        self.warnings.append(msg)


def serve(server: FakeHttpServer, path: str, xml: str) -> str:
    server.route("GET", path, Reply(200, xml, RSS))
    return f"{server.url}{path}"


def run_ingest(
    store: MediaStore, feeds: Sequence[tuple[RssSource, str]], log: RecordingLog | None = None
) -> StepResult:
    sources = [FeedSource(label, url, n) for n, (label, url) in enumerate(feeds, 1)]
    client = FeedClient(timeout_s=0.5, retries=0)
    return ingest(sources, client.read, store, log or RecordingLog())


def inserted(result: StepResult) -> list[str]:
    """The hashes a run inserted, in feed order."""
    return [outcome.hash for outcome in result.outcomes]


def feeds(result: StepResult) -> Sources:
    assert result.sources is not None
    return result.sources


def refused_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/rss"


# --- decide: hashes, links, types (plain values) ----------------------------------------------


def _item(*links: FeedLink, hashes: tuple[str, ...] = ()) -> FeedItem:
    return FeedItem("Some Title 2020", links, hashes)


YTS_URL = f"https://yts.mx/torrent/download/{H(1).upper()}"
EZTV_URL = "https://zoink.ch/torrent/Show.S01E01.720p[eztv].torrent"


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (_item(FeedLink(magnet(H(1)), "alternate")), H(1)),
        (_item(FeedLink(magnet(base32_hash(H(1))), "alternate")), H(1)),
        (
            _item(
                FeedLink(EZTV_URL, "enclosure", "application/x-bittorrent"), hashes=(H(1).upper(),)
            ),
            H(1),
        ),
        (_item(FeedLink(YTS_URL, "enclosure", "application/x-bittorrent")), H(1)),
        (_item(FeedLink(f"https://h/dl/{H(1)}.torrent", "enclosure")), H(1)),
        (_item(FeedLink(EZTV_URL, "enclosure", "application/x-bittorrent")), None),
        (_item(FeedLink("magnet:?xt=urn:btmh:1220abcd", "alternate")), None),
        (_item(FeedLink("https://yts.mx/movies/heat-1995", "alternate", "text/html")), None),
        (_item(FeedLink(magnet(H(1)), "alternate"), hashes=(H(2),)), H(1)),
    ],
    ids=[
        "magnet-hex",
        "magnet-base32",
        "infohash-element",
        "yts-enclosure-url",
        "dot-torrent-url",
        "eztv-file-name-is-no-hash",
        "btmh-v2-only",
        "page-link",
        "magnet-wins",
    ],
)
def test_info_hash_comes_from_magnet_infohash_element_or_torrent_url(
    item: FeedItem, expected: str | None
) -> None:
    assert item_info_hash(item) == expected


def test_original_link_prefers_the_torrent_enclosure_over_the_magnet() -> None:
    item = _item(
        FeedLink(magnet(H(1)), "alternate"),
        FeedLink(EZTV_URL, "enclosure", "application/x-bittorrent"),
    )
    assert torrent_link(item) == EZTV_URL


def test_a_magnet_typed_as_torrent_enclosure_is_not_a_torrent_file() -> None:
    item = _item(FeedLink(magnet(H(1)), "enclosure", "application/x-bittorrent"))
    assert torrent_link(item) is None


@pytest.mark.parametrize(
    ("label", "title", "expected"),
    [
        (RssSource.YTS_MX, "Oppenheimer (2023) [1080p]", MediaType.MOVIE),
        (RssSource.YTS_LT, "The Office S01E01 (not really a movie feed item)", MediaType.MOVIE),
        (RssSource.EPISODEFEED, "The Bear S03E01 1080p WEB h264-ETHEL", MediaType.TV_SHOW),
        (RssSource.EPISODEFEED, "The Bear S03 1080p WEB h264-ETHEL", MediaType.TV_SEASON),
        (RssSource.EPISODEFEED, "The Bear S03E01-E03 1080p WEB", MediaType.TV_EPISODE_PACK),
        (RssSource.OTHER, "Heat 1995 1080p BluRay x264-GRP", MediaType.MOVIE),
        (RssSource.YTS_AM, "The Office S01E01 (not really a movie feed item)", MediaType.MOVIE),
    ],
)
def test_movie_feeds_give_movies_and_other_feeds_are_classified_from_the_title(
    label: RssSource, title: str, expected: MediaType
) -> None:
    assert media_type_for(label, title) == expected


def test_feeds_are_configured_by_position() -> None:
    feeds = configured_feeds(" yts.mx , episodefeed.com", "https://a/rss, https://b/rss?k=1")

    assert [(f.label, f.url) for f in feeds] == [
        (RssSource.YTS_MX, "https://a/rss"),
        (RssSource.EPISODEFEED, "https://b/rss?k=1"),
    ]


@pytest.mark.parametrize(
    ("sources", "urls", "message"),
    [
        ("yts.mx,yts.lt", "https://a/rss", "AT_RSS_SOURCES has 2 labels but AT_RSS_URLS has 1"),
        ("yts.mx,piratebay", "https://a,https://b", "AT_RSS_SOURCES item 2 'piratebay'"),
        ("yts.mx", "ftp://a/rss", "AT_RSS_URLS item 1 is not an http(s) URL"),
        ("", "", "AT_RSS_SOURCES is empty"),
    ],
)
def test_a_bad_feed_configuration_is_an_error_naming_the_variables(
    sources: str, urls: str, message: str
) -> None:
    with pytest.raises(FeedConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        configured_feeds(sources, urls)


# --- ingest against PostgreSQL and feeds on 127.0.0.1 ------------------------------------------


def test_new_items_become_ingested_unfiltered_rows_with_hash_link_source_and_type(
    store: MediaStore, media: MediaTable, http_server: FakeHttpServer
) -> None:
    yts = serve(http_server, "/yts", yts_feed([yts_item("Heat (1995)", H(1))]))
    tv = serve(
        http_server,
        "/tv",
        episode_feed([episode_item("The Bear S03E01 1080p WEB h264-ETHEL", base32_hash(H(2)))]),
    )
    ez = serve(http_server, "/ez", eztv_feed([eztv_item("Show S01E02 720p HDTV x264-GRP", H(3))]))

    result = run_ingest(
        store, [(RssSource.YTS_MX, yts), (RssSource.EPISODEFEED, tv), (RssSource.EPISODEFEED, ez)]
    )

    assert inserted(result) == [H(1), H(2), H(3)]
    movie, episode, eztv = (media.row(H(n)) for n in (1, 2, 3))
    assert (movie["pipeline_status"], movie["rejection_status"]) == ("ingested", "unfiltered")
    assert (movie["media_type"], movie["rss_source"]) == ("movie", "yts.mx")
    assert movie["original_title"] == "Heat (1995) [1080p] [WEBRip] [5.1] [YTS.MX]"
    assert movie["original_link"] == f"https://yts.mx/torrent/download/{H(1).upper()}"
    assert (episode["media_type"], episode["rss_source"]) == ("tv_show", "episodefeed.com")
    assert episode["original_link"].startswith(f"magnet:?xt=urn:btih:{base32_hash(H(2))}")
    assert eztv["original_link"].startswith("https://zoink.ch/torrent/")


def test_duplicates_within_a_run_keep_the_first(
    store: MediaStore, media: MediaTable, http_server: FakeHttpServer
) -> None:
    first = serve(
        http_server,
        "/a",
        yts_feed([yts_item("Heat (1995)", H(1)), yts_item("Heat again (1995)", H(1))]),
    )
    second = serve(http_server, "/b", episode_feed([episode_item("Heat S01E01", H(1))]))

    result = run_ingest(store, [(RssSource.YTS_MX, first), (RssSource.EPISODEFEED, second)])

    assert media.hashes() == [H(1)]
    assert media.row(H(1))["original_title"].startswith("Heat (1995)")
    assert [f.figures["duplicates"] for f in feeds(result).rows] == [1, 1]


def test_hashes_already_in_the_table_are_skipped_soft_deleted_ones_included(
    store: MediaStore, media: MediaTable, http_server: FakeHttpServer
) -> None:
    media.add(H(1), pipeline_status="complete", original_title="finished long ago")
    media.add(H(2), deleted_at="2024-01-01T00:00:00Z", original_title="deleted by the user")
    url = serve(
        http_server, "/yts", yts_feed([yts_item(f"Movie {n} (2001)", H(n)) for n in (1, 2, 3)])
    )

    result = run_ingest(store, [(RssSource.YTS_MX, url)])

    assert inserted(result) == [H(3)]
    assert feeds(result).rows[0].figures["already known"] == 2
    assert media.row(H(1))["original_title"] == "finished long ago"
    assert media.row(H(2))["deleted_at"] is not None


def test_entries_without_a_usable_hash_are_dropped_with_a_warning(
    store: MediaStore, media: MediaTable, http_server: FakeHttpServer
) -> None:
    xml = eztv_feed(
        [
            eztv_item("Show S01E01 720p HDTV x264-GRP", None, n=1),
            eztv_item("Show S01E02 720p HDTV x264-GRP", H(2), n=2),
        ]
    )
    url = serve(http_server, "/ez", xml)
    log = RecordingLog()

    result = run_ingest(store, [(RssSource.EPISODEFEED, url)], log)

    assert media.hashes() == [H(2)]
    assert feeds(result).rows[0].figures["dropped"] == 1
    assert any("Show S01E01" in w and "no valid info-hash" in w for w in log.warnings)


def test_hostile_titles_are_cleaned_and_cut_and_never_stop_the_other_entries(
    store: MediaStore, media: MediaTable, http_server: FakeHttpServer
) -> None:
    def raw_item(title: str, hash_hex: str) -> str:
        return f"<item><title>{title}</title><link>{escape(magnet(hash_hex))}</link></item>"

    xml = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        + raw_item("Bad&#0; Show\x01 S01E01&#27;[eztv]", H(1))
        + raw_item("Huge " + "x" * 200_000, H(2))
        + raw_item("The Bear S03E01 1080p WEB h264-ETHEL", H(3))
        + "</channel></rss>"
    )
    url = serve(http_server, "/hostile", xml)
    log = RecordingLog()

    result = run_ingest(store, [(RssSource.EPISODEFEED, url)], log)

    assert inserted(result) == [H(1), H(2), H(3)]
    assert media.row(H(1))["original_title"] == "Bad  Show  S01E01 [eztv]"
    assert len(media.row(H(2))["original_title"]) == MAX_TITLE_CHARS
    assert media.row(H(3))["media_type"] == "tv_show"


def test_a_dropped_entry_with_a_huge_title_is_logged_shortened(
    store: MediaStore, http_server: FakeHttpServer
) -> None:
    xml = eztv_feed([eztv_item("Show " + "y" * 100_000, None, n=1)])
    url = serve(http_server, "/ez", xml)
    log = RecordingLog()

    run_ingest(store, [(RssSource.EPISODEFEED, url)], log)

    (warning,) = log.warnings
    assert "no valid info-hash" in warning and len(warning) < 500


def test_broken_feeds_are_logged_and_the_others_ingest_everything(
    store: MediaStore, media: MediaTable, http_server: FakeHttpServer
) -> None:
    http_server.route("GET", "/500", Reply(500, "oops"))
    http_server.route(
        "GET", "/slow", Reply(200, yts_feed([yts_item("Late (2001)", H(9))]), RSS, delay_s=2)
    )
    http_server.route("GET", "/html", Reply(200, "<html><body>maintenance</body></html>"))
    big = serve(http_server, "/big", big_yts_feed(5000))
    tv = serve(
        http_server, "/tv", episode_feed([episode_item("The Bear S03E01 1080p WEB", H("tv"))])
    )
    log = RecordingLog()

    result = run_ingest(
        store,
        [
            (RssSource.YTS_MX, f"{http_server.url}/500"),
            (RssSource.YTS_MX, big),
            (RssSource.YTS_LT, f"{http_server.url}/slow"),
            (RssSource.YTS_MX, f"{http_server.url}/html"),
            (RssSource.EPISODEFEED, refused_url()),
            (RssSource.EPISODEFEED, tv),
        ],
        log,
    )

    errors = [f.error for f in feeds(result).rows]
    assert errors[1] is None and errors[5] is None
    assert "HTTP 500" in str(errors[0])
    assert "timed out" in str(errors[2])
    assert "not an RSS or Atom feed" in str(errors[3])
    assert "ConnectError" in str(errors[4])
    assert not feeds(result).all_failed
    assert media.count() == 5001
    assert set(media.hashes()) == {H(n) for n in range(5000)} | {H("tv")}
    assert len([w for w in log.warnings if "feed skipped this run" in w]) == 4


def test_a_second_run_of_the_same_feeds_inserts_nothing(
    store: MediaStore, media: MediaTable, http_server: FakeHttpServer
) -> None:
    url = serve(http_server, "/big", big_yts_feed(300))
    run_ingest(store, [(RssSource.YTS_MX, url)])

    again = run_ingest(store, [(RssSource.YTS_MX, url)])

    assert inserted(again) == []
    assert feeds(again).rows[0].figures["already known"] == 300
    assert media.count() == 300


@pytest.mark.parametrize("items", [10, 1000])
def test_round_trips_of_a_run_do_not_grow_with_the_number_of_items(
    items: int, store: MediaStore, db_connection: CountingConnection, http_server: FakeHttpServer
) -> None:
    url = serve(http_server, "/big", big_yts_feed(items))

    with db_connection.counting() as first:
        run_ingest(store, [(RssSource.YTS_MX, url)])
    with db_connection.counting() as second:
        run_ingest(store, [(RssSource.YTS_MX, url)])

    assert first.value == 6  # known hashes + insert, each BEGIN/statement/COMMIT
    assert second.value == 3  # everything known: no insert at all


class _BarrierStore(MediaStore):
    """Both runs have read the known hashes before either inserts: a real race on the INSERT."""

    def __init__(self, connection: CountingConnection, barrier: threading.Barrier) -> None:
        super().__init__(connection)
        self._barrier = barrier

    def insert_new(self, items: Sequence[NewMedia]) -> list[str]:
        self._barrier.wait(timeout=30)
        return super().insert_new(items)


def test_two_runs_at_the_same_time_insert_each_hash_once(
    pg_server: PgTestServer, atp_database: str, media: MediaTable, http_server: FakeHttpServer
) -> None:
    url = serve(http_server, "/big", big_yts_feed(2000))
    barrier = threading.Barrier(2)
    results: list[StepResult] = []
    errors: list[BaseException] = []

    def one_run() -> None:
        connection = connect_counting(pg_server.connection_settings(atp_database))
        try:
            results.append(
                run_ingest(_BarrierStore(connection, barrier), [(RssSource.YTS_MX, url)])
            )
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert sum(len(inserted(r)) for r in results) == 2000
    assert media.count() == 2000


# --- the job -----------------------------------------------------------------------------------


def _run_job(
    postgres: PostgresResource, feeds: FeedsResource, raise_on_error: bool = True
) -> dg.ExecuteInProcessResult:
    job = pipeline_jobs()["at_01_rss_ingest"]
    resources = {
        "postgres": postgres,
        "feeds": feeds,
        "torznab": TorznabResource(),
        "notifier": NotifierResource(),
    }
    return job.execute_in_process(resources=resources, raise_on_error=raise_on_error)


def _failure(result: dg.ExecuteInProcessResult) -> str:
    """The description of the `dg.Failure` the job stopped with (not an unexpected error)."""
    assert not result.success
    failure = result.failure_data_for_node("rss_ingest")
    assert failure is not None and failure.user_failure_data is not None
    return str(failure.user_failure_data.description)


def _metadata(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    return step_metadata(result)


def test_the_ingest_job_reports_counts_per_feed_and_a_table_of_inserted_items(
    postgres: PostgresResource, media: MediaTable, http_server: FakeHttpServer
) -> None:
    media.add(H(1))
    url = serve(
        http_server, "/yts", yts_feed([yts_item(f"Movie {n} (2001)", H(n)) for n in (1, 2, 3)])
    )
    http_server.route("GET", "/500", Reply(500))
    feeds = FeedsResource(
        sources="yts.mx,yts.lt", urls=f"{url},{http_server.url}/500", timeout_s=0.5, retries=0
    )

    result = _run_job(postgres, feeds)

    assert result.success
    metadata = _metadata(result)
    assert (metadata["advanced"], metadata["inserted"], metadata["already known"]) == (2, 2, 1)
    assert metadata["feeds failed"] == 1
    assert [(f["inserted"], f["status"]) for f in metadata["feeds"]] == [
        (2, "ok"),
        (0, f"failed: {http_server.url}/500: HTTP 500: (empty body)"),
    ]
    assert [i["hash"] for i in metadata["items"]] == [H(2), H(3)]
    assert str(metadata["items"][1]["title"]).startswith("Movie 3 (2001)")
    assert media.count() == 3


def test_the_ingest_job_fails_when_every_feed_failed(
    postgres: PostgresResource, http_server: FakeHttpServer
) -> None:
    http_server.route("GET", "/500", Reply(500))
    feeds = FeedsResource(
        sources="yts.mx,episodefeed.com",
        urls=f"{http_server.url}/500,{refused_url()}",
        timeout_s=0.5,
        retries=0,
    )

    result = _run_job(postgres, feeds, raise_on_error=False)

    assert "all 2 feeds failed" in _failure(result)


def test_the_ingest_job_fails_on_a_configuration_error_naming_the_variables(
    postgres: PostgresResource,
) -> None:
    feeds = FeedsResource(sources="yts.mx,yts.lt", urls="https://a/rss")

    result = _run_job(postgres, feeds, raise_on_error=False)

    assert "AT_RSS_SOURCES has 2 labels but AT_RSS_URLS has 1" in _failure(result)
