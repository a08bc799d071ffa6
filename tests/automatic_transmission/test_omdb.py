"""OMDb client: ratings by IMDb id; `"Response": "False"` means no ratings; 401 is configuration."""

from __future__ import annotations

import pytest

from automatic_transmission.clients.http import (
    RetryPolicy,
    ServiceConfigurationError,
    TransientServiceError,
)
from automatic_transmission.clients.omdb import NO_RATINGS, OmdbClient, OmdbRatings
from tests.support.http import FakeHttpServer, Reply, Sleeps
from tests.support.omdb import OMDB_KEY, FakeOmdb


def connect(omdb: FakeOmdb, key: str = OMDB_KEY) -> OmdbClient:
    return OmdbClient.connect(key, omdb.base_url, retry=RetryPolicy(1), sleep=Sleeps())


def test_ratings_are_imdb_rating_times_ten_votes_metascore_and_rotten_tomatoes(
    http_server: FakeHttpServer,
) -> None:
    omdb = FakeOmdb(http_server)
    omdb.add(
        "tt0133093", "The Matrix", rating="8.7", votes="2,104,221", metascore="73", rotten="83%"
    )
    assert connect(omdb).ratings("tt0133093") == OmdbRatings(
        imdb_rating=87.0, imdb_votes=2104221, metascore=73, rt_score=83
    )
    assert omdb.calls()[0].param("i") == "tt0133093"


def test_not_available_values_are_none(http_server: FakeHttpServer) -> None:
    omdb = FakeOmdb(http_server)
    omdb.add("tt0000001", "Old", rating="N/A", votes="N/A", metascore="N/A", rotten=None)
    assert connect(omdb).ratings("tt0000001") == NO_RATINGS


def test_response_false_means_no_ratings_not_a_failure(http_server: FakeHttpServer) -> None:
    assert connect(FakeOmdb(http_server)).ratings("tt9999999") == NO_RATINGS


def test_invalid_key_is_a_configuration_error_without_the_key(http_server: FakeHttpServer) -> None:
    with pytest.raises(ServiceConfigurationError, match="Invalid API key") as caught:
        connect(FakeOmdb(http_server), "nope-key-42").ratings("tt0133093")
    assert "nope-key-42" not in str(caught.value)


def test_the_daily_request_limit_is_transient(http_server: FakeHttpServer) -> None:
    http_server.route(
        "GET", "/", Reply(401, {"Response": "False", "Error": "Request limit reached!"})
    )
    client = OmdbClient.connect(
        OMDB_KEY, http_server.url + "/", retry=RetryPolicy(1), sleep=Sleeps()
    )
    with pytest.raises(TransientServiceError, match="Request limit"):
        client.ratings("tt0133093")
