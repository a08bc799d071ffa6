"""reel-driver, the household's preference model: would we watch this movie?"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from automatic_transmission.clients.http import (
    JsonHttpClient,
    LastingServiceError,
    RetryPolicy,
    ServiceConfigurationError,
    ServiceError,
    TransientServiceError,
)

T = TypeVar("T")

SERVICE = "reel-driver"
CONSECUTIVE_TRANSIENT_LIMIT = 5  # then the service is taken as down for the rest of the run


@dataclass(frozen=True)
class Prediction:
    imdb_id: str
    probability: float | None  # None: the model gave no usable probability
    prediction: int | None = None


def probability_of(value: Any) -> float | None:
    """The model's probability as a number; it may arrive as a string ("0.42"). Else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) and 0.0 <= number <= 1.0 else None


def parse_prediction(item: Any) -> Prediction | None:
    if not isinstance(item, Mapping) or not isinstance(item.get("imdb_id"), str):
        return None
    raw = item.get("prediction")
    # Python's JSON reader accepts NaN and Infinity, which int() refuses.
    finite = isinstance(raw, int | float | bool) and math.isfinite(raw)
    prediction = int(raw) if finite and isinstance(raw, int | float | bool) else None
    return Prediction(item["imdb_id"], probability_of(item.get("probability")), prediction)


def api_path(prefix: str, endpoint: str) -> str:
    prefix = prefix.strip("/")
    return f"/{prefix}/api/{endpoint}" if prefix else f"/api/{endpoint}"


class ReelDriverClient:
    """One client per run. After `transient_limit` transient failures in a row the service is
    taken as down: later items are not asked (each would wait out its timeout and retries, so
    a hanging model would hold the step for hours) and come back as transient failures."""

    def __init__(
        self,
        http: JsonHttpClient,
        prefix: str = "",
        transient_limit: int = CONSECUTIVE_TRANSIENT_LIMIT,
    ) -> None:
        self.http = http
        self.prefix = prefix
        self.transient_limit = transient_limit
        self.consecutive_transient = 0
        self._last_transient: ServiceError | None = None

    @classmethod
    def connect(
        cls,
        host: str,
        port: int,
        prefix: str = "",
        *,
        timeout_s: float = 30.0,
        retry: RetryPolicy | None = None,
    ) -> ReelDriverClient:
        base = host if "://" in host else f"http://{host}"
        http = JsonHttpClient(SERVICE, f"{base}:{port}", timeout_s=timeout_s, retry=retry)
        return cls(http, prefix)

    def close(self) -> None:
        self.http.close()

    def predict_batch(self, items: Sequence[Mapping[str, Any]]) -> dict[str, Prediction]:
        """Predictions by imdb_id for one batch; items the answer leaves out are absent."""
        path = api_path(self.prefix, "predict_batch")
        payload = self.http.post_json(path, {"items": list(items)})
        results = payload.get("results") if isinstance(payload, Mapping) else None
        if not isinstance(results, list):
            raise LastingServiceError(SERVICE, f"POST {path}", "the answer has no results list")
        predictions = (parse_prediction(r) for r in results)
        return {p.imdb_id: p for p in predictions if p is not None}

    def predict(self, item: Mapping[str, Any]) -> Prediction:
        """One item; the answer is either a result object or `{"results": [one]}`."""
        path = api_path(self.prefix, "predict")
        payload = self.http.post_json(path, item)
        if isinstance(payload, Mapping) and isinstance(payload.get("results"), list):
            payload = payload["results"][0] if payload["results"] else None
        prediction = parse_prediction(payload)
        imdb_id = str(item.get("imdb_id"))
        if prediction is None:
            return Prediction(imdb_id, None)
        return prediction

    def predict_all(
        self, items: Sequence[Mapping[str, Any]]
    ) -> dict[str, Prediction | ServiceError]:
        """The batch endpoint, falling back to one call per item for what the batch did not give.

        A failed batch (any error, or a missing item / probability) costs one request per item
        it did not score; an item's own failure is returned as its value, not raised — except a
        configuration error (401/403), which concerns every item and is raised.
        """
        answers: dict[str, Prediction | ServiceError] = {}
        batch = self._call(partial(self.predict_batch, items))
        if not isinstance(batch, ServiceError):
            answers.update(batch)
        for item in items:
            imdb_id = str(item["imdb_id"])
            known = answers.get(imdb_id)
            if isinstance(known, Prediction) and known.probability is not None:
                continue
            answers[imdb_id] = self._call(partial(self.predict, item))
        return answers

    def _call(self, call: Callable[[], T]) -> T | ServiceError:
        """`call()`, or its ServiceError as a value (a configuration error is raised); not
        called at all while the service is taken as down."""
        if self.consecutive_transient >= self.transient_limit:
            return TransientServiceError(
                SERVICE,
                "(not called)",
                f"{self.consecutive_transient} transient failures in a row; "
                f"last: {self._last_transient}",
            )
        try:
            result = call()
        except ServiceConfigurationError:
            raise
        except ServiceError as error:
            if error.transient:
                self.consecutive_transient += 1
                self._last_transient = error
            else:
                self.consecutive_transient = 0
            return error
        self.consecutive_transient = 0
        return result
