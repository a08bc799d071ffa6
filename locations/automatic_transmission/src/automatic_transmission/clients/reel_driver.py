"""reel-driver, the household's preference model: would we watch this movie?"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import dagster as dg

from automatic_transmission.clients.http import (
    CircuitBreaker,
    JsonHttpClient,
    LastingServiceError,
    RetryPolicy,
    ServiceError,
    Sleep,
)
from automatic_transmission.settings import SettingsError, number_setting, setting

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


REEL_DRIVER_HOST_VAR = "REEL_DRIVER_HOST"
REEL_DRIVER_PORT_VAR = "REEL_DRIVER_PORT"
REEL_DRIVER_PREFIX_VAR = "REEL_DRIVER_PREFIX"
REEL_DRIVER_THRESHOLD_VAR = "AT_REEL_DRIVER_THRESHOLD"
DEFAULT_REEL_DRIVER_PORT = 8000
DEFAULT_REEL_DRIVER_PREFIX = "reel-driver"
DEFAULT_REEL_DRIVER_THRESHOLD = 0.35


class ReelDriverResource(dg.ConfigurableResource):
    """The preference model: REEL_DRIVER_HOST (unset or empty: no model, step 06 uses the rules of
    media_filtration.yaml), REEL_DRIVER_PORT (8000), REEL_DRIVER_PREFIX (reel-driver),
    AT_REEL_DRIVER_THRESHOLD (0.35; a probability equal to it passes)."""

    host: str | None = None
    port: int | None = None
    prefix: str | None = None
    threshold: float | None = None
    timeout_s: float = 30.0
    retries: int = 2
    backoff_s: float = 0.5

    def configured(self) -> bool:
        return bool(setting(self.host, REEL_DRIVER_HOST_VAR, ""))

    def resolved_threshold(self) -> float:
        return number_setting(
            self.threshold, REEL_DRIVER_THRESHOLD_VAR, DEFAULT_REEL_DRIVER_THRESHOLD, 0, 1
        )

    def client(self) -> ReelDriverClient | None:
        """None when no reel-driver is configured."""

        host = str(setting(self.host, REEL_DRIVER_HOST_VAR, ""))
        if not host:
            return None
        raw_port = setting(self.port, REEL_DRIVER_PORT_VAR, DEFAULT_REEL_DRIVER_PORT)
        try:
            port = int(str(raw_port))
            if not 0 < port < 65536:
                raise ValueError
        except ValueError:
            raise SettingsError(f"{REEL_DRIVER_PORT_VAR} is not a port number") from None
        prefix = str(setting(self.prefix, REEL_DRIVER_PREFIX_VAR, DEFAULT_REEL_DRIVER_PREFIX))
        return ReelDriverClient.connect(
            host,
            port,
            prefix,
            timeout_s=self.timeout_s,
            retry=RetryPolicy(self.retries, self.backoff_s),
        )
