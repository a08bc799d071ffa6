"""reel-driver client: predict_batch, per-item fallback, probabilities as numbers or strings."""

from __future__ import annotations

import pytest

from automatic_transmission.clients.http import (
    RetryPolicy,
    ServiceConfigurationError,
    TransientServiceError,
)
from automatic_transmission.clients.reel_driver import (
    Prediction,
    ReelDriverClient,
    api_path,
    probability_of,
)
from tests.support.http import FakeHttpServer, Reply, Sleeps
from tests.support.reel_driver import BATCH_PATH, ITEM_PATH, PREFIX, FakeReelDriver

ITEMS = [{"imdb_id": "tt0000001", "media_title": "A"}, {"imdb_id": "tt0000002", "media_title": "B"}]


def connect(fake: FakeReelDriver) -> ReelDriverClient:
    return ReelDriverClient.connect(
        fake.host, fake.port, PREFIX, retry=RetryPolicy(1), sleep=Sleeps()
    )


def test_a_batch_is_one_request_with_items(http_server: FakeHttpServer) -> None:
    fake = FakeReelDriver(http_server)
    fake.probabilities = {"tt0000001": 0.9, "tt0000002": "0.1"}
    answers = connect(fake).predict_all(ITEMS)
    assert answers == {
        "tt0000001": Prediction("tt0000001", 0.9, 1),
        "tt0000002": Prediction("tt0000002", 0.1, 0),
    }
    assert len(fake.batch_calls()) == 1 and fake.item_calls() == []
    assert fake.batch_calls()[0].json() == {"items": ITEMS}


def test_a_failed_batch_falls_back_to_one_request_per_item(http_server: FakeHttpServer) -> None:
    fake = FakeReelDriver(http_server, default="0.42")
    fake.fail_batch = True
    answers = connect(fake).predict_all(ITEMS)
    assert {k: v.probability for k, v in answers.items() if isinstance(v, Prediction)} == {
        "tt0000001": 0.42,
        "tt0000002": 0.42,
    }
    assert len(fake.item_calls()) == 2


def test_an_item_without_probability_in_the_batch_is_asked_alone(
    http_server: FakeHttpServer,
) -> None:
    http_server.route(
        "POST",
        BATCH_PATH,
        Reply(200, {"results": [{"imdb_id": "tt0000001", "prediction": 1, "probability": 0.8}]}),
    )
    http_server.route(
        "POST",
        ITEM_PATH,
        Reply(200, {"imdb_id": "tt0000002", "prediction": 0, "probability": None}),
    )
    client = ReelDriverClient.connect("127.0.0.1", http_server.port, PREFIX)
    answers = client.predict_all(ITEMS)
    assert answers["tt0000002"] == Prediction("tt0000002", None, 0)
    assert [r.json()["imdb_id"] for r in http_server.calls(ITEM_PATH)] == ["tt0000002"]


def test_an_item_that_fails_alone_is_returned_as_its_error(http_server: FakeHttpServer) -> None:
    http_server.route("POST", BATCH_PATH, Reply(503, "down"))
    http_server.route("POST", ITEM_PATH, Reply(503, "down"))
    client = ReelDriverClient.connect("127.0.0.1", http_server.port, PREFIX, retry=RetryPolicy(0))
    answers = client.predict_all(ITEMS)
    assert all(isinstance(a, TransientServiceError) for a in answers.values())


def test_401_is_raised_not_spread_over_items(http_server: FakeHttpServer) -> None:
    http_server.route("POST", BATCH_PATH, Reply(401, {"detail": "unauthorized"}))
    client = ReelDriverClient.connect("127.0.0.1", http_server.port, PREFIX)
    with pytest.raises(ServiceConfigurationError):
        client.predict_all(ITEMS)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(0.35, 0.35), ("0.35", 0.35), (" 0.7 ", 0.7), (1, 1.0), (None, None), ("n/a", None),
     (True, None), (1.5, None), (float("nan"), None)],
)  # fmt: skip
def test_probability_is_a_number_or_a_numeric_string_between_0_and_1(
    raw: object, expected: float | None
) -> None:
    assert probability_of(raw) == expected


def test_the_prefix_is_optional() -> None:
    assert api_path("/reel-driver/", "predict") == "/reel-driver/api/predict"
    assert api_path("", "predict_batch") == "/api/predict_batch"


def test_a_nan_or_infinite_prediction_is_no_prediction_not_a_crash(
    http_server: FakeHttpServer,
) -> None:
    body = '{"results": [{"imdb_id": "tt0000001", "prediction": NaN, "probability": 0.9},'
    body += ' {"imdb_id": "tt0000002", "prediction": Infinity, "probability": "0.2"}]}'
    http_server.route("POST", BATCH_PATH, Reply(200, body, {"Content-Type": "application/json"}))
    client = ReelDriverClient.connect("127.0.0.1", http_server.port, PREFIX)

    answers = client.predict_batch(ITEMS)

    assert answers == {
        "tt0000001": Prediction("tt0000001", 0.9, None),
        "tt0000002": Prediction("tt0000002", 0.2, None),
    }


def test_a_service_that_keeps_failing_transiently_is_not_asked_item_by_item_for_ever(
    http_server: FakeHttpServer,
) -> None:
    http_server.route("POST", BATCH_PATH, Reply(503, "down"))
    http_server.route("POST", ITEM_PATH, Reply(503, "down"))
    client = ReelDriverClient.connect("127.0.0.1", http_server.port, PREFIX, retry=RetryPolicy(0))
    items = [{"imdb_id": f"tt{n:07d}"} for n in range(30)]

    first = client.predict_all(items)
    second = client.predict_all(items)  # the next batch of the same run

    assert all(isinstance(a, TransientServiceError) for a in [*first.values(), *second.values()])
    assert len(http_server.calls(BATCH_PATH)) + len(http_server.calls(ITEM_PATH)) == 5
