"""Issue 12 #2, #4, #6: no HTTP attempt outlives its deadline, no secret in any trace, one bad
byte in a feed does not garble its other titles."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from automatic_transmission.clients.feeds import FeedClient, FeedError, parse_feed
from automatic_transmission.clients.http import RetryPolicy, TransientServiceError
from automatic_transmission.clients.tmdb import TmdbClient
from dagstributor_shared.postgres import PostgresResource
from dagstributor_shared.scrub import MASK, register, scrub
from tests.support.feeds import info_hash, yts_feed, yts_item
from tests.support.http import FakeHttpServer, Reply, Request
from tests.support.steps import insert_media, media_rows, run_step, step_failure
from tests.support.tmdb import TMDB_KEY, FakeTmdb

DEADLINE_S = 0.5
SLACK_S = 1.0  # issue 12 #2: an attempt may outlive its deadline by at most about a second


def trickling(headers: bool) -> Reply:
    """An answer whose (headers and) body arrive a byte every 50 ms: ~8 s in all."""
    return Reply(200, "x" * 100, trickle_s=0.05, trickle_headers=headers)


@pytest.mark.parametrize("headers", [True, False], ids=["trickled headers", "trickled body"])
def test_a_trickling_feed_server_cannot_hold_an_attempt_past_its_deadline(
    http_server: FakeHttpServer, headers: bool
) -> None:
    http_server.route("GET", "/rss", trickling(headers))
    client = FeedClient(timeout_s=DEADLINE_S, retries=0)
    started = time.monotonic()
    with pytest.raises(FeedError, match="timed out"):
        client.fetch(f"{http_server.url}/rss")
    assert time.monotonic() - started < DEADLINE_S + SLACK_S


@pytest.mark.parametrize("headers", [True, False], ids=["trickled headers", "trickled body"])
def test_a_trickling_tmdb_cannot_hold_an_attempt_past_its_deadline(
    http_server: FakeHttpServer, headers: bool
) -> None:
    http_server.route("GET", "/3/search/movie", trickling(headers))
    client = TmdbClient.connect(
        TMDB_KEY, http_server.url + "/3", timeout_s=DEADLINE_S, retry=RetryPolicy(0)
    )
    started = time.monotonic()
    with pytest.raises(TransientServiceError, match="timed out"):
        client.search_movie("The Matrix", 1999)
    assert time.monotonic() - started < DEADLINE_S + SLACK_S


def test_a_server_that_accepts_but_never_answers_is_cut_at_the_deadline() -> None:
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/rss"
        started = time.monotonic()
        with pytest.raises(FeedError, match="timed out"):
            FeedClient(timeout_s=DEADLINE_S, retries=0).fetch(url)
    assert time.monotonic() - started < DEADLINE_S + SLACK_S


# --- #4 the scrubber ---------------------------------------------------------------------------


def test_the_scrubber_removes_a_secret_and_any_long_fragment_of_it() -> None:
    register("Zq8wXv3Rk7Lm2Np5Tj9Hy4")
    assert scrub("key=Zq8wXv3Rk7Lm2Np5Tj9Hy4&x=1") == f"key={MASK}&x=1"
    assert scrub("cut here: Zq8wXv3Rk…") == f"cut here: {MASK}…"
    assert scrub("tail Lm2Np5Tj9Hy4 only") == f"tail {MASK} only"
    assert scrub("an ordinary text, Zq8w") == "an ordinary text, Zq8w"


OMDB_SECRET = "OmDbSeCrEtKeY-7f3a9c1e5b2d4680"


def echoing_omdb(request: Request) -> Reply:
    """An OMDb stand-in that puts the key it was given into its 401 text, once in full and
    once straddling the 200th character (where excerpts used to be cut before scrubbing)."""
    key = request.param("apikey") or ""
    padding = "p" * (200 - 40 - 8)
    return Reply(401, f"Invalid API key: {key}! {padding}{key}", {"Content-Type": "text/plain"})


def test_a_key_echoed_by_omdb_leaves_no_trace_in_events_logs_or_rows(
    postgres: PostgresResource,
    atp_connection: Any,
    http_server: FakeHttpServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    tmdb = FakeTmdb(http_server)
    tmdb.movie(603, "The Matrix", "1999-03-30", "tt0133093")
    http_server.route("GET", "/", echoing_omdb)
    insert_media(
        atp_connection,
        [{"pipeline_status": "file_accepted", "media_title": "The Matrix", "release_year": 1999}],
    )
    caplog.set_level(logging.DEBUG)

    result = run_step(
        "at_05_metadata_collection",
        postgres,
        tmdb_url=tmdb.base_url,
        omdb_url=http_server.url + "/",
        omdb_key=OMDB_SECRET,
    )

    assert not result.success and "configuration error" in step_failure(result)
    fragments = [OMDB_SECRET[i : i + 8] for i in range(len(OMDB_SECRET) - 7)]
    events = "\n".join(repr(event) for event in result.all_events)
    rows = repr(media_rows(atp_connection))
    for where, text in {"events": events, "logs": caplog.text, "rows": rows}.items():
        assert not [f for f in fragments if f in text], where


# --- #6 one bad byte in a feed -----------------------------------------------------------------


def test_one_invalid_byte_does_not_garble_the_valid_utf8_titles_of_the_feed() -> None:
    feed = yts_feed(
        [yts_item("Брат (1997)", info_hash(1)), yts_item("Bad BYTE (2001)", info_hash(2))]
    ).encode()
    feed = feed.replace(b"BYTE", b"\xff\xfe")

    titles = [item.title for item in parse_feed(feed)]

    assert titles[0] is not None and titles[0].startswith("Брат (1997)")
    assert titles[1] is not None and titles[1].startswith("Bad \ufffd\ufffd (2001)")


def test_a_feed_declaring_another_encoding_is_read_in_it() -> None:
    text = yts_feed([yts_item("Amélie (2001)", info_hash(1))])
    feed = text.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').encode("latin-1")

    (item,) = parse_feed(feed)

    assert item.title is not None and item.title.startswith("Amélie (2001)")


def test_the_omdb_key_echo_also_fails_the_step_without_touching_the_row(
    postgres: PostgresResource, atp_connection: Any, http_server: FakeHttpServer
) -> None:
    tmdb = FakeTmdb(http_server)
    tmdb.movie(603, "The Matrix", "1999-03-30", "tt0133093")
    http_server.route("GET", "/", echoing_omdb)
    (h,) = insert_media(
        atp_connection,
        [{"pipeline_status": "file_accepted", "media_title": "The Matrix", "release_year": 1999}],
    )
    run_step(
        "at_05_metadata_collection",
        postgres,
        tmdb_url=tmdb.base_url,
        omdb_url=http_server.url + "/",
        omdb_key=OMDB_SECRET,
    )
    row = media_rows(atp_connection)[h]
    assert (row["pipeline_status"], row["error_status"]) == ("file_accepted", False)
