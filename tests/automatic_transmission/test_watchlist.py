"""Issue 16 (g): what the household follows. The Plex watchlist feed and watchlist.yaml as
parsed, the sync job against a feed served from 127.0.0.1 (a failing or garbage feed keeps the
stored list), and step 06: a watched movie is taken over a rejecting model, and with
AT_TV_FOLLOW=watchlist an unfollowed show is rejected."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg2.extensions
import pytest

from automatic_transmission.clients.watchlist import WatchlistResource
from automatic_transmission.model import MediaType, TrainingRecord
from automatic_transmission.pipeline.jobs import pipeline_jobs
from automatic_transmission.pipeline.steps.media_filtration import NOT_FOLLOWED, ON_WATCHLIST
from automatic_transmission.settings import SettingsError
from automatic_transmission.store.training import TrainingStore
from automatic_transmission.watchlist import (
    WATCHLIST_FILE,
    WatchedTitle,
    WatchKind,
    WatchlistError,
    load_watchlist_file,
    parse_watchlist_feed,
)
from dagstributor_shared.postgres import PostgresResource
from tests.support.http import FakeHttpServer, Reply
from tests.support.reel_driver import FakeReelDriver
from tests.support.steps import insert_media, media_rows, step_metadata, step_resources
from tests.support.tmdb import FakeTmdb, TmdbTitle


def plex_feed(*items: tuple[str, str, tuple[str, ...]]) -> bytes:
    """A Plex watchlist RSS document: (title, category, guids) per item."""
    body = "".join(
        f"<item><title>{title}</title><category>{category}</category>"
        + "".join(f'<guid isPermaLink="false">{g}</guid>' for g in guids)
        + "<pubDate>Mon, 01 Dec 2026 10:00:00 +0000</pubDate></item>"
        for title, category, guids in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Watchlist</title>{body}</channel></rss>"
    ).encode()


MATRIX = ("The Matrix", "movie", ("imdb://tt0133093", "tmdb://603"))
SEVERANCE = ("Severance", "show", ("tvdb://371980", "tmdb://95396"))


def test_a_plex_watchlist_feed_gives_its_movies_and_shows_with_their_ids() -> None:
    content = plex_feed(MATRIX, SEVERANCE, ("A Person", "person", ("tmdb://1",)), MATRIX)
    assert parse_watchlist_feed(content, "plex") == [
        WatchedTitle("plex", WatchKind.MOVIE, "The Matrix", None, "tt0133093", 603, None),
        WatchedTitle("plex", WatchKind.SHOW, "Severance", None, None, 95396, 371980),
    ]
    assert parse_watchlist_feed(plex_feed(), "plex") == []  # an emptied watchlist is valid


@pytest.mark.parametrize(
    "content",
    [b"<html><body>502 Bad Gateway</body></html>", b"not xml at all", b"<rss><item/></rss>"],
)
def test_garbage_is_an_error_never_an_empty_list(content: bytes) -> None:
    with pytest.raises(WatchlistError, match="not an RSS document"):
        parse_watchlist_feed(content, "plex")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("movies:\n  - {title: X, yaer: 1999}\n", "unknown key"),
        ("movies:\n  - {year: 1999}\n", "needs a title or an id"),
        ("shows:\n  - {imdb_id: tt12}\n", "imdb_id"),
        ("films:\n  - {title: X}\n", r"unknown key\(s\) films"),
        ("movies:\n  - {title: X, year: 1700}\n", "year 1700"),
    ],
)
def test_a_malformed_watchlist_file_is_an_error_naming_the_file(
    tmp_path: Path, content: str, message: str
) -> None:
    (tmp_path / WATCHLIST_FILE).write_text(content)
    with pytest.raises(WatchlistError, match=message) as raised:
        load_watchlist_file(tmp_path)
    assert str(tmp_path / WATCHLIST_FILE) in str(raised.value)


def test_a_watchlist_file_lists_titles_or_ids_and_no_file_is_no_source(tmp_path: Path) -> None:
    assert load_watchlist_file(tmp_path) is None
    (tmp_path / WATCHLIST_FILE).write_text(
        "movies:\n  - {title: Heat, year: 1995}\nshows:\n  - {tmdb_id: 95396}\n"
    )
    heat, severance = load_watchlist_file(tmp_path) or []
    assert (heat.kind, heat.title, heat.year, heat.watch_key) == (
        WatchKind.MOVIE, "Heat", 1995, "title:heat:1995",
    )  # fmt: skip
    assert (severance.kind, severance.tmdb_id) == (WatchKind.SHOW, 95396)


def test_tv_follow_must_be_all_or_watchlist() -> None:
    assert WatchlistResource(tv_follow="all").follows_all_tv()
    assert not WatchlistResource(tv_follow="Watchlist").follows_all_tv()
    with pytest.raises(SettingsError, match="AT_TV_FOLLOW must be all or watchlist"):
        WatchlistResource(tv_follow="some").follows_all_tv()


# --- the sync job and step 06 on a real database ---------------------------------------------

FEED = "/watchlist/rss"


def run(job: str, postgres: PostgresResource, watchlist: WatchlistResource, **kw: Any) -> Any:
    resources = {**step_resources(postgres, **kw), "watchlist": watchlist}
    return pipeline_jobs()[job].execute_in_process(resources=resources, raise_on_error=False)


def stored(connection: psycopg2.extensions.connection) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT source, kind::text, title, imdb_id, tmdb_id, tvdb_id FROM atp.watchlist"
            " ORDER BY source, kind, watch_key"
        )
        rows = cursor.fetchall()
    connection.commit()
    return rows


def test_the_sync_stores_the_feed_and_a_failing_or_garbage_feed_keeps_the_list(
    postgres: PostgresResource,
    atp_connection: psycopg2.extensions.connection,
    http_server: FakeHttpServer,
    tmp_path: Path,
) -> None:
    url = f"{http_server.url}{FEED}?X-Plex-Token=secret-token-1"
    watchlist = WatchlistResource(urls=url, config_dir=str(tmp_path), retries=0, timeout_s=3)
    source = f"{http_server.url}{FEED}"  # stored and shown without the token
    http_server.route("GET", FEED, Reply(200, plex_feed(MATRIX, SEVERANCE)))
    first = run("at_watchlist_sync", postgres, watchlist)
    assert first.success
    listed = [
        (source, "movie", "The Matrix", "tt0133093", 603, None),
        (source, "show", "Severance", None, 95396, 371980),
    ]
    assert stored(atp_connection) == listed

    for broken in (Reply(500, "down"), Reply(200, "<html>login</html>")):
        http_server.route("GET", FEED, broken)
        result = run("at_watchlist_sync", postgres, watchlist)
        assert not result.success  # every source failed: red
        assert stored(atp_connection) == listed
        assert "secret-token-1" not in str(step_metadata(result))

    http_server.route("GET", FEED, Reply(200, plex_feed(SEVERANCE)))
    assert run("at_watchlist_sync", postgres, watchlist).success
    assert stored(atp_connection) == listed[1:]  # taken off the watchlist: gone


def test_step_06_takes_a_watched_movie_over_the_model_and_follows_only_watched_shows(
    postgres: PostgresResource,
    atp_connection: psycopg2.extensions.connection,
    http_server: FakeHttpServer,
    tmp_path: Path,
) -> None:
    (tmp_path / WATCHLIST_FILE).write_text(
        "movies:\n  - {imdb_id: tt0133093}\nshows:\n  - {title: Severance}\n"
    )
    watchlist = WatchlistResource(config_dir=str(tmp_path), tv_follow="watchlist")
    assert run("at_watchlist_sync", postgres, watchlist).success
    model = FakeReelDriver(http_server)
    for imdb_id, title in (("tt0133093", "The Matrix"), ("tt0000002", "Cats")):
        TrainingStore(atp_connection).upsert_metadata(
            [TrainingRecord(imdb_id=imdb_id, media_type=MediaType.MOVIE, media_title=title,
                            release_year=1999)]
        )  # fmt: skip
        model.probabilities[imdb_id] = 0.05  # the model wants neither
    matrix, cats, severance, other = insert_media(
        atp_connection,
        [
            {"media_title": "The Matrix", "release_year": 1999, "imdb_id": "tt0133093",
             "pipeline_status": "metadata_collected"},
            {"media_title": "Cats", "release_year": 1999, "imdb_id": "tt0000002",
             "pipeline_status": "metadata_collected"},
            {"media_type": "tv_show", "media_title": "Severance", "season": 2, "episode": 3,
             "pipeline_status": "metadata_collected"},
            {"media_type": "tv_show", "media_title": "Nobody Asked", "season": 1, "episode": 1,
             "pipeline_status": "metadata_collected"},
        ],
    )  # fmt: skip
    result = run(
        "at_06_media_filtration", postgres, watchlist, reel_driver=(model.host, model.port)
    )
    assert result.success
    rows = media_rows(atp_connection)
    assert rows[matrix]["pipeline_status"] == "media_accepted"
    assert rows[cats]["rejection_reason"] == "probability 0.05 below threshold 0.35"
    assert rows[severance]["pipeline_status"] == "media_accepted"
    assert (rows[other]["pipeline_status"], rows[other]["rejection_reason"]) == (
        "rejected", NOT_FOLLOWED,
    )  # fmt: skip
    judged = [item["imdb_id"] for c in model.batch_calls() for item in c.json()["items"]]
    assert judged == ["tt0000002"]  # the watched movie never went to the model
    table = step_metadata(result)
    assert ON_WATCHLIST in str(table)


def test_a_show_named_only_by_its_tvdb_id_gets_its_tmdb_id_from_tmdb_find_and_is_followed(
    postgres: PostgresResource,
    atp_connection: psycopg2.extensions.connection,
    http_server: FakeHttpServer,
    tmp_path: Path,
) -> None:
    tmdb = FakeTmdb(http_server)
    tmdb.add(TmdbTitle(95396, "Severance", "2022-02-17", "tt11280740", tv=True, tvdb_id=371980))
    http_server.route("GET", FEED, Reply(200, plex_feed(("Severance", "show", ("tvdb://371980",)))))
    watchlist = WatchlistResource(
        urls=f"{http_server.url}{FEED}", config_dir=str(tmp_path), tv_follow="watchlist"
    )
    assert run("at_watchlist_sync", postgres, watchlist, tmdb_url=tmdb.base_url).success
    assert [row[4:] for row in stored(atp_connection)] == [(95396, 371980)]
    [find] = [c for c in tmdb.calls() if "/find/" in c.path]
    assert find.param("external_source") == "tvdb_id"

    followed, other = insert_media(
        atp_connection,
        [
            {"media_type": "tv_show", "media_title": "Severance (US)", "season": 2, "episode": 3,
             "tmdb_id": 95396, "upload_type": "WEB", "pipeline_status": "metadata_collected"},
            {"media_type": "tv_show", "media_title": "Other", "season": 1, "episode": 1,
             "tmdb_id": 1, "upload_type": "WEB", "pipeline_status": "metadata_collected"},
        ],
    )  # fmt: skip
    assert run("at_06_media_filtration", postgres, watchlist).success
    rows = media_rows(atp_connection)
    assert rows[followed]["pipeline_status"] == "media_accepted"  # matched by tmdb_id
    assert rows[other]["rejection_reason"] == NOT_FOLLOWED
