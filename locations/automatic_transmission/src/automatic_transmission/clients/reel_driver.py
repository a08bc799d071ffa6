"""reel-driver, the household's preference model: would we watch this movie?"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from automatic_transmission.clients.http import (
    CircuitBreaker,
    JsonHttpClient,
    LastingServiceError,
    RetryPolicy,
    ServiceError,
    Sleep,
)

SERVICE = "reel-driver"


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
    """One client per run; its calls go through one CircuitBreaker (a model that keeps failing
    transiently is not asked again in this run)."""

    def __init__(self, http: JsonHttpClient, prefix: str = "") -> None:
        self.http = http
        self.prefix = prefix
        self.breaker = CircuitBreaker(SERVICE)

    @classmethod
    def connect(
        cls,
        host: str,
        port: int,
        prefix: str = "",
        *,
        timeout_s: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
    ) -> ReelDriverClient:
        base = host if "://" in host else f"http://{host}"
        http = JsonHttpClient(
            SERVICE, f"{base}:{port}", timeout_s=timeout_s, retry=retry, sleep=sleep
        )
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
        batch = self.breaker.call(self.predict_batch, items)
        if not isinstance(batch, ServiceError):
            answers.update(batch)
        for item in items:
            imdb_id = str(item["imdb_id"])
            known = answers.get(imdb_id)
            if isinstance(known, Prediction) and known.probability is not None:
                continue
            answers[imdb_id] = self.breaker.call(self.predict, item)
        return answers
