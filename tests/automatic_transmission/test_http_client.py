"""The one HTTP base: timeouts, retries with back-off, Retry-After, rate limit, failure classes."""

from __future__ import annotations

import logging
import time

import pytest

from automatic_transmission.clients.http import (
    JsonHttpClient,
    LastingServiceError,
    RateLimiter,
    RetryPolicy,
    ServiceConfigurationError,
    TransientServiceError,
    retry_after_seconds,
)
from tests.support.http import FakeHttpServer, Reply, Sleeps

SECRET = "s3cr3t-key-value"


def client(server: FakeHttpServer, **kw: object) -> JsonHttpClient:
    options: dict[str, object] = {
        "retry": RetryPolicy(retries=2, backoff_s=0.5, max_backoff_s=0.8),
        "timeout_s": 2.0,
        "sleep": Sleeps(),
        "secret_params": {"api_key": SECRET},
    }
    options.update(kw)
    return JsonHttpClient("TMDB", server.url, **options)  # type: ignore[arg-type]


def test_a_json_answer_is_returned_and_the_key_is_sent_as_a_query_parameter(
    http_server: FakeHttpServer,
) -> None:
    http_server.route("GET", "/movie/1", Reply(200, {"id": 1}))
    with client(http_server) as c:
        assert c.get_json("/movie/1") == {"id": 1}
    assert http_server.calls("/movie/1")[0].param("api_key") == SECRET


def test_the_key_never_reaches_captured_python_logs(
    http_server: FakeHttpServer, caplog: pytest.LogCaptureFixture
) -> None:
    http_server.route("GET", "/movie/1", Reply(200, {"id": 1}))
    caplog.set_level(logging.DEBUG)
    logging.getLogger("httpx").setLevel(logging.NOTSET)
    with client(http_server) as c:
        c.get_json("/movie/1")
    assert http_server.calls("/movie/1")
    assert SECRET not in caplog.text


def test_429_honours_retry_after_then_retries(http_server: FakeHttpServer) -> None:
    http_server.queue(
        "GET",
        "/search",
        Reply(429, {"status_code": 25}, {"Retry-After": "1"}),
        Reply(200, {"ok": 1}),
    )
    sleeps = Sleeps()
    with client(http_server, sleep=sleeps) as c:
        assert c.get_json("/search") == {"ok": 1}
    assert sleeps.pauses == [1.0]
    assert len(http_server.calls("/search")) == 2
    assert c.stats.retries == 1


def test_a_fractional_retry_after_is_honoured(http_server: FakeHttpServer) -> None:
    http_server.queue("GET", "/x", Reply(429, b"", {"Retry-After": "0.3"}), Reply(200, []))
    sleeps = Sleeps()
    with client(http_server, sleep=sleeps) as c:
        assert c.get_json("/x") == []
    assert sleeps.pauses == [0.3]


def test_500_then_success_is_retried_with_back_off(http_server: FakeHttpServer) -> None:
    http_server.queue("GET", "/x", Reply(500, "boom"), Reply(502, "bad gw"), Reply(200, {"a": 1}))
    sleeps = Sleeps()
    with client(http_server, sleep=sleeps) as c:
        assert c.get_json("/x") == {"a": 1}
    assert len(http_server.calls("/x")) == 3
    first, second = sleeps.pauses  # 0.5 s, then doubled but capped at 0.8 s; up to 10% jitter
    assert 0.5 <= first <= 0.55 and 0.8 <= second <= 0.88


def test_5xx_after_the_retries_is_transient_and_names_service_request_and_answer(
    http_server: FakeHttpServer,
) -> None:
    http_server.route("GET", "/movie/7", Reply(503, "maintenance"))
    with client(http_server) as c, pytest.raises(TransientServiceError) as caught:
        c.get_json("/movie/7", {"language": "en"})
    message = str(caught.value)
    assert message.startswith("TMDB GET /movie/7: HTTP 503: maintenance")
    assert SECRET not in message
    assert len(http_server.calls("/movie/7")) == 3


def test_a_timeout_is_transient(http_server: FakeHttpServer) -> None:
    http_server.route("GET", "/slow", Reply(200, {}, delay_s=1.0))
    policy = RetryPolicy(retries=1)
    with (
        client(http_server, timeout_s=0.2, retry=policy) as c,
        pytest.raises(TransientServiceError, match="timed out"),
    ):
        c.get_json("/slow")


def test_a_refused_connection_is_transient() -> None:
    with (
        JsonHttpClient("OMDb", "http://127.0.0.1:9", retry=RetryPolicy(1), sleep=Sleeps()) as c,
        pytest.raises(TransientServiceError, match="OMDb GET /: connection failed"),
    ):
        c.get_json("/")


def test_401_is_a_configuration_error_without_the_key_and_without_retries(
    http_server: FakeHttpServer,
) -> None:
    http_server.route("GET", "/search", Reply(401, {"status_message": f"Invalid API key {SECRET}"}))
    with client(http_server) as c, pytest.raises(ServiceConfigurationError) as caught:
        c.get_json("/search")
    assert "HTTP 401" in str(caught.value) and "configuration error" in str(caught.value)
    assert SECRET not in str(caught.value)
    assert len(http_server.calls("/search")) == 1


def test_a_bearer_token_never_appears_in_errors(http_server: FakeHttpServer) -> None:
    http_server.route("GET", "/x", Reply(403, f"token Bearer {SECRET} refused"))
    with (
        client(
            http_server, secret_params={}, secret_headers={"Authorization": f"Bearer {SECRET}"}
        ) as c,
        pytest.raises(ServiceConfigurationError) as caught,
    ):
        c.get_json("/x")
    assert SECRET not in str(caught.value)
    assert http_server.calls("/x")[0].headers["authorization"] == f"Bearer {SECRET}"


def test_404_is_a_lasting_failure_asked_once(http_server: FakeHttpServer) -> None:
    http_server.route("GET", "/gone", Reply(404, {"status_code": 34}))
    with client(http_server) as c, pytest.raises(LastingServiceError, match="HTTP 404"):
        c.get_json("/gone")
    assert len(http_server.calls("/gone")) == 1


def test_a_200_with_malformed_json_is_a_transient_failure_of_the_service(
    http_server: FakeHttpServer,
) -> None:
    http_server.route("GET", "/bad", Reply(200, "{not json", {"Content-Type": "application/json"}))
    with client(http_server) as c, pytest.raises(TransientServiceError, match="malformed JSON"):
        c.get_json("/bad")
    assert len(http_server.calls("/bad")) == 3  # the first attempt and both retries


def test_a_retry_after_longer_than_allowed_is_left_for_the_next_run(
    http_server: FakeHttpServer,
) -> None:
    http_server.route("GET", "/x", Reply(429, b"", {"Retry-After": "3600"}))
    policy = RetryPolicy(retries=3, max_retry_after_s=5)
    with client(http_server, retry=policy) as c, pytest.raises(TransientServiceError, match="3600"):
        c.get_json("/x")
    assert len(http_server.calls("/x")) == 1


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after_seconds("2") == 2.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("nan") is None
    assert retry_after_seconds("inf") is None
    assert retry_after_seconds("-5") == 0.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0


def test_the_rate_limiter_spaces_requests_evenly() -> None:
    clock = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    limiter = RateLimiter(4, clock=lambda: clock[0], sleep=sleep)
    for _ in range(5):
        limiter.wait()
    assert slept == pytest.approx([0.25, 0.25, 0.25, 0.25])


def test_the_rate_limit_applies_to_real_requests(http_server: FakeHttpServer) -> None:
    http_server.route("GET", "/x", Reply(200, {}))
    with client(http_server, rate_limit_per_s=20, sleep=time.sleep) as c:  # real spacing
        started = time.monotonic()
        for _ in range(5):
            c.get_json("/x")
    assert time.monotonic() - started >= 4 / 20 - 0.01


def test_an_answer_that_cannot_be_decoded_is_a_transient_failure_not_a_crash(
    http_server: FakeHttpServer,
) -> None:
    http_server.route("GET", "/gz", Reply(200, b"not gzip at all", {"Content-Encoding": "gzip"}))
    with client(http_server) as c, pytest.raises(TransientServiceError, match="DecodingError"):
        c.get_json("/gz")
    assert len(http_server.calls("/gz")) == 3  # retried like any transient failure


def test_a_redirect_loop_is_a_transient_failure_not_a_crash(http_server: FakeHttpServer) -> None:
    http_server.route("GET", "/loop", Reply(302, b"", {"Location": "/loop"}))
    with client(http_server) as c, pytest.raises(TransientServiceError) as raised:
        c.get_json("/loop")
    assert "TooManyRedirects" in str(raised.value) and SECRET not in str(raised.value)


# --- hostile servers: an answer can neither hold a step nor fill the memory ---------------------


def test_an_answer_trickling_in_times_out_after_the_timeout_in_all_and_is_transient(
    http_server: FakeHttpServer,
) -> None:
    # 400 bytes, one every 20 ms: each read is quick, the whole answer would take 8 s.
    http_server.route("GET", "/slow", Reply(200, {"x": "y" * 390}, trickle_s=0.02))
    policy = RetryPolicy(retries=1)
    with client(http_server, timeout_s=0.5, retry=policy) as c:
        started = time.monotonic()
        with pytest.raises(TransientServiceError, match="TMDB GET /slow: timed out"):
            c.get_json("/slow")
        elapsed = time.monotonic() - started
    assert elapsed < 2.5  # two attempts of 0.5 s each (plus a read), not 16 s
    assert len(http_server.calls("/slow")) == 2  # retried like any timeout


def test_an_answer_arriving_slowly_within_the_timeout_is_read(http_server: FakeHttpServer) -> None:
    http_server.route("GET", "/x", Reply(200, {"id": 1}, trickle_s=0.01))
    with client(http_server, timeout_s=2.0) as c:
        assert c.get_json("/x") == {"id": 1}


@pytest.mark.parametrize("send_length", [True, False], ids=["declared", "undeclared"])
def test_an_answer_larger_than_the_cap_is_a_lasting_failure_named_in_the_error(
    http_server: FakeHttpServer, send_length: bool
) -> None:
    http_server.route("GET", "/big", Reply(200, {"x": "y" * 5000}, send_length=send_length))
    with (
        client(http_server, max_body_bytes=1000) as c,
        pytest.raises(LastingServiceError) as caught,
    ):
        c.get_json("/big")
    assert not isinstance(caught.value, TransientServiceError)
    assert str(caught.value).startswith("TMDB GET /big: HTTP 200 with an answer larger than 1000")
    assert SECRET not in str(caught.value)
    assert len(http_server.calls("/big")) == 1  # asking again would not make it smaller


def test_an_oversized_error_page_keeps_the_class_of_its_status(
    http_server: FakeHttpServer,
) -> None:
    http_server.route("GET", "/x", Reply(503, "<html>" + "down " * 1000))
    with (
        client(http_server, max_body_bytes=1000) as c,
        pytest.raises(TransientServiceError, match=r"HTTP 503: \(body larger than 1000 bytes"),
    ):
        c.get_json("/x")


def test_json_answers_are_capped_at_8_mb_by_default(http_server: FakeHttpServer) -> None:
    with JsonHttpClient("TMDB", http_server.url) as c:
        assert c.http.max_body_bytes == 8 * 1024 * 1024
