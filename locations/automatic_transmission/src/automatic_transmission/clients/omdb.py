"""OMDb: ratings of a title by IMDb id (IMDb rating and votes, Metascore, Rotten Tomatoes)."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any

from automatic_transmission.clients.http import (
    ApiKeyResource,
    HttpAnswer,
    JsonHttpClient,
    LastingServiceError,
    RetryPolicy,
    ServiceConfigurationError,
    Sleep,
    TransientServiceError,
)
from automatic_transmission.model import OmdbRatings
from automatic_transmission.settings import setting

SERVICE = "OMDb"
DEFAULT_BASE_URL = "https://www.omdbapi.com/"


NO_RATINGS = OmdbRatings()


def _number(text: Any) -> float | None:
    """OMDb sends numbers as strings ("8.7", "1,234,567", "73", "88%") and "N/A" for none."""
    if not isinstance(text, str):
        return None
    match = re.match(r"^\s*(\d[\d,]*(?:\.\d+)?)", text)
    return float(match.group(1).replace(",", "")) if match else None


def _whole(text: Any) -> int | None:
    number = _number(text)
    return None if number is None else int(number)


def parse_ratings(payload: Mapping[str, Any]) -> OmdbRatings:
    rating = _number(payload.get("imdbRating"))
    rt = None
    for entry in payload.get("Ratings") or []:
        if isinstance(entry, Mapping) and entry.get("Source") == "Rotten Tomatoes":
            rt = _whole(entry.get("Value"))
    return OmdbRatings(
        imdb_rating=None if rating is None else round(rating * 10, 1),
        imdb_votes=_whole(payload.get("imdbVotes")),
        metascore=_whole(payload.get("Metascore")),
        rt_score=rt,
    )


class OmdbClient:
    def __init__(self, http: JsonHttpClient) -> None:
        self.http = http

    @classmethod
    def connect(
        cls,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout_s: float = 10.0,
        retry: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
    ) -> OmdbClient:
        http = JsonHttpClient(
            SERVICE,
            base_url,
            timeout_s=timeout_s,
            retry=retry,
            secret_params={"apikey": api_key},
            sleep=sleep,
        )
        return cls(http)

    def close(self) -> None:
        self.http.close()

    def ratings(self, imdb_id: str) -> OmdbRatings:
        """Ratings of one title; a title OMDb does not know (`"Response": "False"`) has none."""
        request = "GET / (i=" + imdb_id + ")"
        payload = self.http.request_json("GET", "/", params={"i": imdb_id}, lasting_statuses=(401,))
        if isinstance(payload, HttpAnswer):
            error = (
                str(payload.payload.get("Error", "")) if isinstance(payload.payload, dict) else ""
            )
            if "limit" in error.lower():  # OMDb's daily quota answers 401 too; it heals tomorrow
                raise TransientServiceError(SERVICE, request, f"HTTP 401: {error}", 401)
            raise ServiceConfigurationError(
                SERVICE,
                request,
                f"HTTP 401: {error or 'unauthorized'} — the API key is missing or wrong "
                "(a configuration error)",
                401,
            )
        if not isinstance(payload, Mapping):
            raise LastingServiceError(SERVICE, request, "expected a JSON object")
        if str(payload.get("Response", "True")).lower() == "false":
            return NO_RATINGS
        return parse_ratings(payload)


OMDB_BASE_URL_VAR = "AT_MOVIE_RATINGS_API_BASE_URL"
OMDB_API_KEY_VAR = "AT_MOVIE_RATINGS_API_KEY"


class OmdbResource(ApiKeyResource):
    """OMDb: AT_MOVIE_RATINGS_API_KEY, AT_MOVIE_RATINGS_API_BASE_URL (default
    https://www.omdbapi.com/)."""

    API_KEY_VAR = OMDB_API_KEY_VAR

    base_url: str | None = None

    def client(self) -> OmdbClient:
        return OmdbClient.connect(
            self.key(),
            str(setting(self.base_url, OMDB_BASE_URL_VAR, DEFAULT_BASE_URL)),
            timeout_s=self.timeout_s,
            retry=self._retry_policy(),
        )
