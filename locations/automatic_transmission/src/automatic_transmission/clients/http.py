"""The one HTTP transport of feeds and JSON services: deadline, retries, body cap, errors.

Failures are classified once, here:
- transient (`TransientServiceError`): timeouts, refused/reset connections, HTTP 429 and 5xx, a
  2xx answer that is not JSON, an answer that cannot be decoded or a redirect loop (the service
  is broken, not the row). They are retried with exponential back-off and jitter (429 honours
  `Retry-After`); when the retries are used up the caller leaves its row for the next run, and
  after CONSECUTIVE_TRANSIENT_LIMIT in a row the CircuitBreaker stops calling for the run.
- lasting (`LastingServiceError`): anything else that went wrong (404, other 4xx, an answer
  larger than the client's cap); waiting will not help, so the caller freezes the row.
- configuration (`ServiceConfigurationError`, a lasting error): 401/403 — a wrong or missing key.
  It is not the row's fault, so callers fail the step instead of freezing rows.

Every error names the service, the request (method and path; never the query string, which may
carry a key) and what came back, and its text passes through `scrub` (every configured secret
and long fragment of one removed) before anything cuts it.

httpx's timeout bounds each socket operation, not the whole answer: a server trickling headers
or body would hold a call (and the step) for ever. So every attempt gets its deadline in all
(clients/deadline.py) and a body cap (`read_body`).
"""

from __future__ import annotations

import email.utils
import json
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import dagster as dg

from automatic_transmission.settings import required_setting, unset_settings
from dagstributor_shared.scrub import register, scrub

if TYPE_CHECKING:  # httpx is imported where it is used: code-location import time matters
    import httpx

T = TypeVar("T")
Sleep = Callable[[float], None]  # time.sleep; tests pass a fake that records the pauses

CONSECUTIVE_TRANSIENT_LIMIT = 5  # then a service is taken as down for the rest of the run
BODY_EXCERPT_CHARS = 200
DEFAULT_MAX_JSON_BYTES = (
    8 * 1024 * 1024
)  # a TMDB details answer is ~10 kB, a reel-driver batch less


class ServiceError(RuntimeError):
    """A call to an outside service failed; `str()` is safe for logs and run metadata."""

    transient = False

    def __init__(
        self, service: str, request: str, detail: str, status_code: int | None = None
    ) -> None:
        detail = scrub(detail)  # every error text built from an answer: secrets out first
        self.service = service
        self.request = request
        self.detail = detail
        self.status_code = status_code
        super().__init__(f"{service} {request}: {detail}")


class TransientServiceError(ServiceError):
    """Timeout, connection failure, 429 or 5xx after the retries: try again on the next run."""

    transient = True


class LastingServiceError(ServiceError):
    """A failure that will not heal by waiting (404, other 4xx, malformed JSON)."""


class ServiceConfigurationError(LastingServiceError):
    """401/403: the key or token is wrong or missing. Fails the step; no row is to blame."""


class BodyTooLargeError(Exception):
    """An answer's body is larger than the reader's cap; asking again would not shrink it."""

    def __init__(self, max_bytes: int, declared: str | None = None) -> None:
        self.max_bytes = max_bytes
        super().__init__(
            f"larger than {max_bytes} bytes" + (f" ({declared})" if declared is not None else "")
        )


def read_body(response: httpx.Response, *, deadline: float, max_bytes: int) -> bytes:
    """The body of a streamed response, read chunk by chunk until `deadline` (a
    `time.monotonic()` value; `httpx.ReadTimeout` beyond) and up to `max_bytes` after
    decompression (`BodyTooLargeError` beyond, at once when Content-Length declares more)."""
    import httpx

    def check_deadline() -> None:
        if time.monotonic() > deadline:
            raise httpx.ReadTimeout("the answer took too long in all", request=response.request)

    check_deadline()  # the headers themselves may have trickled in
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise BodyTooLargeError(max_bytes, declared)
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLargeError(max_bytes)
        check_deadline()
        chunks.append(chunk)
    return b"".join(chunks)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a client retries transient failures."""

    retries: int = 3  # extra attempts after the first
    backoff_s: float = 0.5  # first pause; doubles each attempt (with a little jitter)
    max_backoff_s: float = 30.0
    max_retry_after_s: float = 60.0  # a longer Retry-After is not waited for: retry next run

    def pause(self, attempt: int, retry_after: float | None = None) -> float:
        """The pause before retry number `attempt + 1`: the server's Retry-After when it gave
        one, else exponential backoff capped at `max_backoff_s`, with up to 10% jitter."""
        if retry_after is not None:
            return retry_after
        pause = min(self.backoff_s * 2**attempt, self.max_backoff_s)
        return pause * (1 + random.uniform(0, 0.1))


class RateLimiter:
    """At most `per_second` requests per second across threads (evenly spaced; 0 = unlimited)."""

    def __init__(
        self,
        per_second: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> float:
        """Block until the next request may go; returns the time waited."""
        if not self.interval:
            return 0.0
        with self._lock:
            now = self._clock()
            start = max(now, self._next)
            self._next = start + self.interval
        pause = start - now
        if pause > 0:
            self._sleep(pause)
        return max(pause, 0.0)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """`Retry-After` as seconds: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:  # "nan" and "inf" parse as floats but are no waiting time
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


@dataclass
class CallStats:
    """What a client did, for run metadata and the benchmark."""

    requests: int = 0
    retries: int = 0
    waited_s: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, requests: int = 0, retries: int = 0, waited_s: float = 0.0) -> None:
        with self._lock:
            self.requests += requests
            self.retries += retries
            self.waited_s += waited_s


@dataclass(frozen=True)
class Answer:
    """One HTTP answer: its status, headers and body (or why the body was not read)."""

    status: int
    headers: Mapping[str, str]
    content: bytes | BodyTooLargeError
    encoding: str | None = None

    def excerpt(self) -> str:
        """The body as one line for an error text: scrubbed first, then cut."""
        if isinstance(self.content, BodyTooLargeError):
            return f"(body {self.content})"
        text = self.content.decode(self.encoding or "utf-8", errors="replace")
        text = scrub(" ".join(text.split()))
        if len(text) > BODY_EXCERPT_CHARS:
            text = text[:BODY_EXCERPT_CHARS] + "…"
        return text or "(empty body)"


def status_error(service: str, request: str, answer: Answer) -> ServiceError:
    """The classified error for an answer that is not a success: 429/5xx transient, 401/403
    configuration, anything else lasting."""
    status = answer.status
    detail = f"HTTP {status}: {answer.excerpt()}"
    if status == 429 or status >= 500:
        return TransientServiceError(service, request, detail, status)
    if status in (401, 403):
        return ServiceConfigurationError(
            service,
            request,
            f"{detail} — the API key or token is missing or wrong (a configuration error)",
            status,
        )
    return LastingServiceError(service, request, detail, status)


class HttpTransport:
    """The one HTTP transport of feeds and JSON services: one retry loop (exponential backoff
    with jitter and a cap; 429 honours `Retry-After`), one deadline per attempt covering
    connect, headers and body (clients/deadline.py), one body cap, one rate limit.

    `decode(answer)` turns an answer into the caller's value or a ServiceError; a transient
    error is retried (up to `retry.retries` times), any other is raised at once.
    """

    def __init__(
        self,
        service: str,
        *,
        base_url: str = "",
        timeout_s: float = 10.0,
        max_body_bytes: int = DEFAULT_MAX_JSON_BYTES,
        retry: RetryPolicy | None = None,
        rate_limit_per_s: float = 0.0,
        headers: Mapping[str, str] | None = None,
        secrets: Sequence[str] = (),
        sleep: Sleep = time.sleep,
        transport: httpx.BaseTransport | None = None,
        follow_redirects: bool = True,  # False: a 3xx is an answer `decode` sees
    ) -> None:
        import httpx

        from automatic_transmission.clients.deadline import DeadlineTransport

        self.service = service
        self.timeout_s = timeout_s
        self.max_body_bytes = max_body_bytes
        self.retry = retry or RetryPolicy()
        self.stats = CallStats()
        self._sleep = sleep
        self._limiter = RateLimiter(rate_limit_per_s, sleep=sleep)
        # A bearer header's secret is the token itself, without the scheme.
        register(*secrets, *(v.split(" ", 1)[1] for v in secrets if " " in v))
        # httpx logs every request URL at INFO, query string (api_key, apikey) included; keep it
        # quiet so a run that captures Python logs never records a key.
        logging.getLogger("httpx").setLevel(max(logging.getLogger("httpx").level, logging.WARNING))
        self._client = httpx.Client(
            base_url=base_url,
            timeout=httpx.Timeout(timeout_s),
            headers=dict(headers or {}),
            transport=transport or DeadlineTransport(),
            follow_redirects=follow_redirects,
        )

    def close(self) -> None:
        self._client.close()

    def _attempt(
        self, method: str, url: str, params: Mapping[str, Any] | None, body: Any
    ) -> Answer:
        from automatic_transmission.clients.deadline import attempt_deadline

        with (
            attempt_deadline(self.timeout_s) as deadline,
            self._client.stream(method, url, params=params, json=body) as response,
        ):
            try:
                content: bytes | BodyTooLargeError = read_body(
                    response, deadline=deadline, max_bytes=self.max_body_bytes
                )
            except BodyTooLargeError as too_large:
                content = too_large
            return Answer(response.status_code, response.headers, content, response.encoding)

    def send(
        self,
        method: str,
        url: str,
        request: str,
        decode: Callable[[Answer], T | ServiceError],
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> T:
        """`decode` of the first answer that is not a transient failure; raises ServiceError.
        `request` names the call in error texts (method and path, never the query)."""
        import httpx

        attempt = 0
        while True:
            self.stats.count(waited_s=self._limiter.wait(), requests=1)
            pause: float | None = None
            try:
                answer = self._attempt(method, url, params, body)
            except httpx.TimeoutException as error:
                failure: ServiceError = TransientServiceError(
                    self.service,
                    request,
                    f"timed out after {self.timeout_s:g} s ({type(error).__name__})",
                )
            except httpx.TransportError as error:
                failure = TransientServiceError(
                    self.service, request, f"connection failed: {type(error).__name__}: {error}"
                )
            except httpx.RequestError as error:
                # A body that cannot be decoded, a redirect loop: the service is broken, not the
                # row, and it may be mended; so it is classified (never a crash of the step).
                failure = TransientServiceError(
                    self.service, request, f"{type(error).__name__}: {error}"
                )
            else:
                decoded = decode(answer)
                if not isinstance(decoded, ServiceError):
                    return decoded
                failure = decoded
                if answer.status == 429:
                    pause = retry_after_seconds(answer.headers.get("Retry-After"))
            if not failure.transient or attempt >= self.retry.retries:
                raise failure
            if pause is not None and pause > self.retry.max_retry_after_s:
                raise TransientServiceError(
                    self.service, request, f"{failure.detail}; Retry-After {pause:g}s is too long"
                )
            pause = self.retry.pause(attempt, pause)
            attempt += 1
            self.stats.count(retries=1, waited_s=pause)
            self._sleep(pause)


class JsonHttpClient:
    """JSON requests to one service under one base URL, through one HttpTransport.

    `secret_params` (e.g. `api_key`) are added to every query and `secret_headers` (e.g.
    `Authorization`) to every request; their values never appear in an error message.
    A 2xx answer that is not JSON is a transient failure of the service (not of the row).
    """

    def __init__(
        self,
        service: str,
        base_url: str,
        *,
        timeout_s: float = 10.0,
        max_body_bytes: int = DEFAULT_MAX_JSON_BYTES,
        retry: RetryPolicy | None = None,
        rate_limit_per_s: float = 0.0,
        secret_params: Mapping[str, str] | None = None,
        secret_headers: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        sleep: Sleep = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.service = service
        self._secret_params = dict(secret_params or {})
        self.http = HttpTransport(
            service,
            base_url=base_url,
            timeout_s=timeout_s,
            max_body_bytes=max_body_bytes,
            retry=retry,
            rate_limit_per_s=rate_limit_per_s,
            headers={"Accept": "application/json", **(headers or {}), **(secret_headers or {})},
            secrets=[v for v in (*self._secret_params.values(), *(secret_headers or {}).values())],
            sleep=sleep,
            transport=transport,
        )
        self.stats = self.http.stats

    def __enter__(self) -> JsonHttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request_json("GET", path, params=params)

    def post_json(self, path: str, body: Any) -> Any:
        return self.request_json("POST", path, body=body)

    def request_json(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        lasting_statuses: Sequence[int] = (),
    ) -> Any:
        """One JSON request with retries; returns the decoded body or raises a ServiceError.

        `lasting_statuses` lets a client treat a status as an answer to inspect (OMDb answers
        errors with a JSON body) — such responses are returned as `HttpAnswer`.
        """
        request = f"{method} {path}"
        query = {k: v for k, v in (params or {}).items() if v is not None}
        query.update(self._secret_params)

        def decode(answer: Answer) -> Any:
            status = answer.status
            if not (200 <= status < 300 or status in lasting_statuses):
                return status_error(self.service, request, answer)
            if isinstance(answer.content, BodyTooLargeError):
                # not an answer this client can use, however often it asks
                return LastingServiceError(
                    self.service, request, f"HTTP {status} with an answer {answer.content}", status
                )
            try:
                payload = json.loads(answer.content)
            except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
                if not 200 <= status < 300:  # an error status without its JSON explanation
                    return status_error(self.service, request, answer)
                # The service answered garbage: its failure, not the item's (issue 12 #5).
                return TransientServiceError(
                    self.service,
                    request,
                    f"HTTP {status} with malformed JSON: {answer.excerpt()!r}",
                    status,
                )
            return payload if 200 <= status < 300 else HttpAnswer(status, payload)

        return self.http.send(method, path, request, decode, params=query, body=body)


class CircuitBreaker:
    """After `limit` transient failures in a row a service is taken as down for the run: later
    calls are not made (each would wait out its deadline and retries, so a hanging service would
    hold the step for hours) and come back at once as transient failures."""

    def __init__(self, service: str, limit: int = CONSECUTIVE_TRANSIENT_LIMIT) -> None:
        self.service = service
        self.limit = limit
        self.consecutive = 0
        self.last: ServiceError | None = None

    @property
    def open(self) -> bool:
        return self.consecutive >= self.limit

    def call(self, call: Callable[..., T], *args: Any) -> T | ServiceError:
        """`call(*args)`, with a ServiceError (raised or returned) as the value; a configuration
        error is raised (it concerns every call). Not called at all while open."""
        if self.open:
            return TransientServiceError(
                self.service,
                "(not called)",
                f"{self.consecutive} transient failures in a row; last: {self.last}",
            )
        try:
            result: T | ServiceError = call(*args)
        except ServiceConfigurationError:
            raise
        except ServiceError as error:
            result = error
        if isinstance(result, ServiceError) and result.transient:
            self.consecutive += 1
            self.last = result
        else:
            self.consecutive = 0
        return result


@dataclass(frozen=True)
class HttpAnswer:
    """A non-2xx response a client asked to see (its JSON body explains the error)."""

    status_code: int
    payload: Any


class ApiKeyResource(dg.ConfigurableResource):
    """What the keyed web-service resources (TMDB, OMDb) share: the api key and how their
    JSON client times out and retries. The key is read from `API_KEY_VAR` when the run starts
    (an explicit field wins, tests); an unset key is listed by `missing_settings()`, which the
    step op checks for the whole job before any work, so the run fails at its start naming it."""

    API_KEY_VAR: ClassVar[str] = ""
    api_key: str | None = None
    timeout_s: float = 10.0
    retries: int = 3
    backoff_s: float = 0.5
    max_retry_after_s: float = 60.0

    def key(self) -> str:
        """The api key; SettingsError naming the variable when it is not set."""
        return required_setting(self.api_key, self.API_KEY_VAR)

    def missing_settings(self) -> list[str]:
        return unset_settings({self.API_KEY_VAR: self.api_key})

    def _retry_policy(self) -> RetryPolicy:

        return RetryPolicy(self.retries, self.backoff_s, max_retry_after_s=self.max_retry_after_s)
