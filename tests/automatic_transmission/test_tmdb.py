"""TMDB client: search movie / tv (with year), details, external ids; api key or bearer token."""

from __future__ import annotations

import pytest

from automatic_transmission.clients.http import RetryPolicy, ServiceConfigurationError
from automatic_transmission.clients.tmdb import TmdbClient, looks_like_bearer_token, year_of
from tests.support.http import FakeHttpServer, Reply, Sleeps
from tests.support.tmdb import TMDB_KEY, TMDB_TOKEN, FakeTmdb


@pytest.fixture
def tmdb(http_server: FakeHttpServer) -> FakeTmdb:
    fake = FakeTmdb(http_server)
    fake.movie(603, "The Matrix", "1999-03-30", "tt0133093", genres=("Action", "Science Fiction"))
    fake.show(1399, "Game of Thrones", "2011-04-17", "tt0944947")
    return fake


def connect(tmdb: FakeTmdb, credential: str = TMDB_KEY) -> TmdbClient:
    return TmdbClient.connect(
        credential, tmdb.base_url, retry=RetryPolicy(1), rate_limit_per_s=0, sleep=Sleeps()
    )


def test_search_movie_sends_title_and_year_and_reads_the_hits(tmdb: FakeTmdb) -> None:
    client = connect(tmdb)
    hits = client.search_movie("The Matrix", 1999)
    assert [(h.tmdb_id, h.title, h.year) for h in hits] == [(603, "The Matrix", 1999)]
    request = tmdb.calls()[0]
    assert request.param("query") == "The Matrix" and request.param("year") == "1999"


def test_search_without_year_sends_no_year(tmdb: FakeTmdb) -> None:
    connect(tmdb).search_movie("The Matrix")
    assert tmdb.calls()[0].param("year") is None


def test_search_tv_uses_first_air_date_year(tmdb: FakeTmdb) -> None:
    hits = connect(tmdb).search_tv("Game of Thrones", 2011)
    assert [h.tmdb_id for h in hits] == [1399]
    assert tmdb.calls()[0].param("first_air_date_year") == "2011"


def test_movie_details_carry_every_training_field(tmdb: FakeTmdb) -> None:
    d = connect(tmdb).movie_details(603)
    assert (d.media_title, d.release_year, d.imdb_id) == ("The Matrix", 1999, "tt0133093")
    assert d.genre == ("Action", "Science Fiction")
    assert d.production_countries == ("US",) and d.origin_country == ("US",)
    assert d.production_companies == ("Paramount Pictures",)
    assert d.spoken_languages == ("en",) and d.original_language == "en"
    assert (d.budget, d.revenue, d.runtime, d.production_status) == (
        10_000_000, 30_000_000, 110, "Released",
    )  # fmt: skip
    assert d.tmdb_rating == 7.1 and d.tmdb_votes == 1000 and d.tagline and d.overview


def test_tv_details_and_external_ids_give_the_imdb_id(tmdb: FakeTmdb) -> None:
    client = connect(tmdb)
    details = client.tv_details(1399)
    assert (details.media_title, details.release_year, details.runtime) == (
        "Game of Thrones",
        2011,
        110,
    )
    assert client.tv_imdb_id(1399) == "tt0944947"


def test_a_v4_token_goes_in_the_authorization_header_not_the_query(tmdb: FakeTmdb) -> None:
    assert looks_like_bearer_token(TMDB_TOKEN) and not looks_like_bearer_token(TMDB_KEY)
    connect(tmdb, TMDB_TOKEN).search_movie("The Matrix")
    request = tmdb.calls()[0]
    assert request.headers["authorization"] == f"Bearer {TMDB_TOKEN}"
    assert request.param("api_key") is None


def test_a_wrong_key_is_a_configuration_error_that_does_not_show_the_key(tmdb: FakeTmdb) -> None:
    with pytest.raises(ServiceConfigurationError) as caught:
        connect(tmdb, "wrong-key-123").search_movie("The Matrix")
    assert "TMDB GET /search/movie: HTTP 401" in str(caught.value)
    assert "wrong-key-123" not in str(caught.value)


def test_empty_or_odd_dates_have_no_year() -> None:
    assert year_of("") is None and year_of(None) is None and year_of("1895-12-28") == 1895


def test_hits_whose_id_the_columns_cannot_hold_or_with_odd_fields_are_skipped_not_fatal(
    http_server: FakeHttpServer,
) -> None:
    def hit(tmdb_id: object, **extra: object) -> dict[str, object]:
        return {"id": tmdb_id, "title": "Heat", "release_date": "1995-12-15", **extra}

    results = [hit(0), hit(-7), hit(2**31), hit("603"), hit(949, popularity="very")]
    http_server.route("GET", "/3/search/movie", Reply(200, {"results": results}))
    client = TmdbClient.connect(
        TMDB_KEY, f"{http_server.url}/3", retry=RetryPolicy(0), rate_limit_per_s=0
    )

    hits = client.search_movie("Heat", 1995)

    assert [(h.tmdb_id, h.popularity) for h in hits] == [(949, 0.0)]


def test_find_gives_the_movie_or_the_show_an_outside_id_names(
    tmdb: FakeTmdb, http_server: FakeHttpServer
) -> None:
    client = connect(tmdb)
    answer = {
        "movie_results": [{"id": 11}],
        "tv_results": [],
        "tv_episode_results": [{"id": 999, "show_id": 1399}],  # an episode's id names its show
    }
    http_server.route("GET", "/3/find/tt1480055", Reply(200, answer))
    assert client.find("tt1480055", "imdb_id", tv=True) == 1399
    assert client.find("tt1480055", "imdb_id", tv=False) == 11
    http_server.route("GET", "/3/find/81189", Reply(200, {"movie_results": [], "tv_results": []}))
    assert client.find("81189", "tvdb_id", tv=True) is None
    call = http_server.calls("/3/find/81189")[0]
    assert (call.param("external_source"), call.param("api_key")) == ("tvdb_id", TMDB_KEY)
