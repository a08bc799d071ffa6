"""The feed client: HTTP with a timeout and retries (httpx), items read with feedparser."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from automatic_transmission.clients.feeds import FeedClient, FeedError, parse_feed, redacted
from tests.support.feeds import (
    atom_entry,
    atom_feed,
    episode_feed,
    episode_item,
    eztv_feed,
    eztv_item,
    info_hash,
    yts_feed,
    yts_item,
)
from tests.support.http import FakeHttpServer, Reply, Sleeps

RSS = {"Content-Type": "application/rss+xml"}


def test_yts_items_carry_title_and_the_torrent_enclosure() -> None:
    (item,) = parse_feed(yts_feed([yts_item("Heat (1995)", info_hash(1))]).encode())

    assert item.title == "Heat (1995) [1080p] [WEBRip] [5.1] [YTS.MX]"
    enclosures = [link for link in item.links if link.rel == "enclosure"]
    assert [(e.href, e.type) for e in enclosures] == [
        (f"https://yts.mx/torrent/download/{info_hash(1).upper()}", "application/x-bittorrent")
    ]
    assert item.info_hashes == ()


def test_episode_feed_items_carry_magnet_and_info_hash_element() -> None:
    xml = episode_feed(
        [episode_item("The Bear S03E01 1080p WEB h264-ETHEL", info_hash(2), tv_info_hash="AB" * 20)]
    )

    (item,) = parse_feed(xml.encode())

    assert item.info_hashes == ("AB" * 20,)
    assert any(link.href.startswith(f"magnet:?xt=urn:btih:{info_hash(2)}") for link in item.links)


def test_eztv_items_carry_info_hash_and_magnet_uri_elements() -> None:
    (item,) = parse_feed(
        eztv_feed([eztv_item("Show S01E01 720p HDTV x264-GRP", info_hash(3))]).encode()
    )

    assert item.info_hashes == (info_hash(3).upper(),)
    assert any(link.rel == "magnet" for link in item.links)


def test_atom_feeds_are_read_too() -> None:
    xml = atom_feed([atom_entry("Movie (2020)", info_hash(4), torrent_url="http://h/a.torrent")])

    (item,) = parse_feed(xml.encode())

    assert item.title == "Movie (2020)"
    assert {link.rel for link in item.links} >= {"alternate", "enclosure"}


@pytest.mark.parametrize(
    "content",
    [b"<html><body>Cloudflare says no</body></html>", b"{not xml", b""],
    ids=["html", "garbage", "empty"],
)
def test_a_document_that_is_not_a_feed_is_a_feed_error(content: bytes) -> None:
    with pytest.raises(FeedError, match="not an RSS or Atom feed"):
        parse_feed(content)


def test_an_empty_but_valid_feed_has_no_items() -> None:
    assert parse_feed(yts_feed([]).encode()) == []


def test_client_reads_a_feed_over_http(http_server: FakeHttpServer) -> None:
    http_server.route(
        "GET", "/rss", Reply(200, yts_feed([yts_item("Heat (1995)", info_hash(1))]), RSS)
    )

    items = FeedClient(timeout_s=2).read(f"{http_server.url}/rss?passkey=secret")

    assert len(items) == 1
    assert http_server.calls("/rss")[0].param("passkey") == "secret"


def test_client_retries_a_server_error_then_succeeds(http_server: FakeHttpServer) -> None:
    http_server.queue("GET", "/rss", Reply(503), Reply(200, yts_feed([]), RSS))

    assert FeedClient(timeout_s=2, retries=1, sleep=Sleeps()).read(f"{http_server.url}/rss") == []
    assert len(http_server.calls("/rss")) == 2


def test_client_gives_up_after_its_retries_naming_the_status(http_server: FakeHttpServer) -> None:
    http_server.route("GET", "/rss", Reply(500))

    with pytest.raises(FeedError, match="HTTP 500"):
        FeedClient(timeout_s=2, retries=2, sleep=Sleeps()).fetch(f"{http_server.url}/rss")
    assert len(http_server.calls("/rss")) == 3


def test_client_does_not_retry_a_not_found(http_server: FakeHttpServer) -> None:
    with pytest.raises(FeedError, match="HTTP 404"):
        FeedClient(timeout_s=2, retries=3, sleep=Sleeps()).fetch(f"{http_server.url}/gone")
    assert len(http_server.calls("/gone")) == 1


def test_client_honours_retry_after_of_a_429(http_server: FakeHttpServer) -> None:
    http_server.queue(
        "GET", "/rss", Reply(429, headers={"Retry-After": "7"}), Reply(200, yts_feed([]), RSS)
    )
    waits: list[float] = []

    FeedClient(timeout_s=2, retries=1, backoff_s=0.1, sleep=waits.append).fetch(
        f"{http_server.url}/rss"
    )

    assert waits == [7.0]


def test_client_times_out_on_a_slow_feed(http_server: FakeHttpServer) -> None:
    http_server.route("GET", "/slow", Reply(200, yts_feed([]), RSS, delay_s=2))

    with pytest.raises(FeedError, match=r"timed out after 0\.3 s"):
        FeedClient(timeout_s=0.3, retries=0).fetch(f"{http_server.url}/slow")


def test_client_reports_a_refused_connection() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # nothing listens on the port any more

    with pytest.raises(FeedError, match="ConnectError"):
        FeedClient(timeout_s=1, retries=0).fetch(f"http://127.0.0.1:{port}/rss")


def test_errors_and_logs_never_show_the_query_string_of_a_feed_url() -> None:
    assert redacted("https://episodefeed.com/rss/42?key=s3cret") == "https://episodefeed.com/rss/42"


# --- hostile servers: a feed can neither fill the memory nor hold the run ----------------------


@contextmanager
def endless_feed_server(pause_s: float) -> Iterator[str]:
    """A server that answers 200 and then sends feed bytes for ever, `pause_s` apart, without a
    Content-Length; yields its URL."""
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                self.wfile.write(b'<?xml version="1.0"?><rss version="2.0"><channel>')
                while not stop.is_set():
                    self.wfile.write(b"<item><title>x</title></item>" * (1 if pause_s else 500))
                    self.wfile.flush()
                    time.sleep(pause_s)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/rss"
    finally:
        stop.set()
        server.shutdown()
        server.server_close()


def test_a_feed_declaring_more_than_the_size_limit_is_refused(http_server: FakeHttpServer) -> None:
    items = [yts_item(f"Movie {n} (2001)", info_hash(n)) for n in range(20)]
    http_server.route("GET", "/big", Reply(200, yts_feed(items), RSS))

    with pytest.raises(FeedError, match="larger than 2000 bytes"):
        FeedClient(timeout_s=2, retries=2, sleep=Sleeps(), max_bytes=2000).fetch(
            f"{http_server.url}/big?key=s3cret"
        )
    assert len(http_server.calls("/big")) == 1  # a retry would not make it smaller


def test_an_endless_feed_is_cut_at_the_size_limit_not_read_into_memory() -> None:
    with endless_feed_server(pause_s=0) as url:
        started = time.monotonic()
        with pytest.raises(FeedError, match="larger than 100000 bytes"):
            FeedClient(timeout_s=5, retries=0, max_bytes=100_000).fetch(url)
    assert time.monotonic() - started < 5


def test_a_feed_trickling_bytes_times_out_after_the_timeout_in_all() -> None:
    with endless_feed_server(pause_s=0.05) as url:
        started = time.monotonic()
        with pytest.raises(FeedError, match=r"timed out after 0\.5 s"):
            FeedClient(timeout_s=0.5, retries=0).fetch(url)
    assert time.monotonic() - started < 3
