"""A database that goes away mid-run loses nothing (README "Code locations and jobs", pipeline/runner.py).

The server ends the step's session while the step waits for a feed or for TMDB (a fake-server hook
runs `pg_terminate_backend` on the test database, as a restart or a failover would). The run must
go red naming the database's error, every row must keep the consistent state it had (nothing
lost, half-written, or frozen because of the outage; batches committed before it stay), and the
next run must do the rest.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from automatic_transmission.clients.feeds import FeedsResource
from dagstributor_shared.postgres import PostgresResource
from tests.support.database import PgTestServer
from tests.support.feeds import episode_feed, episode_item, info_hash, yts_feed, yts_item
from tests.support.http import FakeHttpServer, Reply, Request
from tests.support.omdb import FakeOmdb
from tests.support.steps import (
    insert_media,
    media_rows,
    rows_by_key,
    run_step,
    step_counts,
    step_failure,
    step_metadata,
)
from tests.support.tmdb import FakeTmdb

# What psycopg2 says when the server ended the session (not "connection already closed"); with
# the interruptible waits (pg_timeouts.py) it also quotes the server's FATAL message.
DATABASE_WENT_AWAY = re.compile(
    r"OperationalError: (FATAL: +)?(server closed the connection unexpectedly|terminating connection)"
)


def database_goes_away_on(
    server: FakeHttpServer,
    path: str,
    pg_server: PgTestServer,
    database: str,
    keep: Any,
    when: Callable[[Request], bool] = lambda _request: True,
) -> list[int]:
    """The first request to `path` that `when` accepts ends every session of `database` but the
    test's own connection `keep`, before it is answered. Returns the sessions ended (per outage)."""
    outages: list[int] = []

    def outage(request: Request) -> None:
        if not outages and when(request):
            outages.append(pg_server.terminate_sessions(database, [keep.get_backend_pid()]))

    server.before("GET", path, outage)
    return outages


def assert_failed_because_the_database_went_away(result: Any) -> None:
    assert not result.success
    message = step_failure(result)
    assert DATABASE_WENT_AWAY.search(message), message
    assert "connection already closed" not in message


def all_media(connection: Any) -> dict[Any, dict[str, Any]]:
    return rows_by_key(connection, "SELECT * FROM atp.media")


def test_ingest_fails_red_and_inserts_nothing_when_the_database_goes_away_then_recovers(
    postgres: PostgresResource,
    atp_connection: Any,
    atp_database: str,
    pg_server: PgTestServer,
    http_server: FakeHttpServer,
) -> None:
    known = insert_media(
        atp_connection,
        [{"hash": info_hash(1), "media_title": "Heat", "release_year": 1995}],
    )[0]
    rss = {"Content-Type": "application/rss+xml"}
    movies = [yts_item("Heat (1995)", info_hash(1), n=1), yts_item("Dune (2021)", info_hash(2))]
    episodes = [episode_item("Severance S02E03 1080p WEB H264-Crab", info_hash(3), n=3)]
    http_server.route("GET", "/yts", Reply(200, yts_feed(movies), rss))
    http_server.route("GET", "/tv", Reply(200, episode_feed(episodes), rss))
    outages = database_goes_away_on(
        http_server, "/tv", pg_server, atp_database, keep=atp_connection
    )
    feeds = FeedsResource(
        sources="yts.mx,episodefeed.com",
        urls=f"{http_server.url}/yts,{http_server.url}/tv",
        timeout_s=5,
        retries=0,
    )
    before = all_media(atp_connection)

    first = run_step("at_01_rss_ingest", postgres, feeds=feeds)

    assert outages and outages[0] >= 1  # the step's session was really ended
    assert_failed_because_the_database_went_away(first)
    assert all_media(atp_connection) == before  # the known row untouched, nothing half-inserted

    second = run_step("at_01_rss_ingest", postgres, feeds=feeds)

    assert second.success, step_failure(second)
    rows = all_media(atp_connection)
    assert set(rows) == {info_hash(n) for n in (1, 2, 3)}
    assert rows[known] == before[known]
    assert {rows[info_hash(n)]["pipeline_status"] for n in (2, 3)} == {"ingested"}
    found = step_metadata(second)
    assert (found["inserted"], found["already known"]) == (2, 1)


# Batches of one row, oldest hash first: the first row is collected and committed before the
# outage, which strikes while TMDB is asked about the second; the third is never reached.
FIRST, SECOND, THIRD = ("1" * 40, "2" * 40, "3" * 40)


@pytest.mark.parametrize(
    ("title", "year", "finally_"),
    [
        ("Heat", 1995, ("metadata_collected", None, 949, "tt0113277")),
        ("No Such Film", 2020, ("rejected", "media search failed", None, None)),
    ],
    ids=["before-a-training-write", "before-a-rejection"],
)
def test_metadata_collection_fails_red_keeps_every_row_consistent_and_the_rerun_finishes(
    postgres: PostgresResource,
    atp_connection: Any,
    atp_database: str,
    pg_server: PgTestServer,
    http_server: FakeHttpServer,
    title: str,
    year: int,
    finally_: tuple[Any, ...],
) -> None:
    tmdb, omdb = FakeTmdb(http_server), FakeOmdb(http_server)
    tmdb.movie(603, "The Matrix", "1999-03-30", "tt0133093")
    tmdb.movie(949, "Heat", "1995-12-15", "tt0113277")
    tmdb.movie(438631, "Dune", "2021-09-15", "tt1160419")
    omdb.add("tt0133093", "The Matrix")
    insert_media(
        atp_connection,
        [
            {"hash": h, "pipeline_status": "file_accepted", "media_title": t, "release_year": y}
            for h, t, y in (
                (FIRST, "The Matrix", 1999), (SECOND, title, year), (THIRD, "Dune", 2021),
            )
        ],
    )  # fmt: skip
    outages = database_goes_away_on(
        http_server,
        "/3/search/movie",
        pg_server,
        atp_database,
        keep=atp_connection,
        when=lambda request: request.param("query") == title,
    )
    before = all_media(atp_connection)

    def run() -> Any:
        return run_step(
            "at_05_metadata_collection",
            postgres,
            tmdb_url=tmdb.base_url,
            omdb_url=omdb.base_url,
            batch_size=1,
        )

    first = run()

    assert outages and outages[0] >= 1
    assert_failed_because_the_database_went_away(first)
    after = all_media(atp_connection)
    assert after[FIRST]["pipeline_status"] == "metadata_collected"  # committed before the outage
    assert after[FIRST]["tmdb_id"] == 603
    assert {h: after[h] for h in (SECOND, THIRD)} == {h: before[h] for h in (SECOND, THIRD)}
    training = rows_by_key(atp_connection, "SELECT imdb_id FROM atp.training")
    assert set(training) == {"tt0133093"}  # no training row without its media row moving on
    http_server.requests.clear()

    second = run()

    assert second.success, step_failure(second)
    rows = media_rows(atp_connection)
    assert {h: r["error_status"] for h, r in rows.items()} == dict.fromkeys(rows, False)
    got = rows[SECOND]
    assert (got["pipeline_status"], got["rejection_reason"], got["tmdb_id"], got["imdb_id"]) == (
        finally_
    )
    assert (rows[THIRD]["pipeline_status"], rows[THIRD]["tmdb_id"]) == (
        "metadata_collected",
        438631,
    )
    assert all_media(atp_connection)[FIRST] == after[FIRST]  # done before: left alone
    assert not http_server.calls("/3/movie/603")
    assert step_counts(second)["advanced"] + step_counts(second)["rejected"] == 2
