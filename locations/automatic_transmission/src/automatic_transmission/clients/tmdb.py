"""TMDB (The Movie Database) v3: title search, movie and TV details, TV external ids."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from automatic_transmission.clients.http import (
    ApiKeyResource,
    JsonHttpClient,
    LastingServiceError,
    RetryPolicy,
    Sleep,
)
from automatic_transmission.model import MAX_INTEGER, TitleMetadata, as_number
from automatic_transmission.settings import number_setting, setting

SERVICE = "TMDB"
DEFAULT_BASE_URL = "https://api.themoviedb.org/3"
DEFAULT_RATE_LIMIT_PER_S = 40.0  # TMDB allows about 50 requests per second per IP


@dataclass(frozen=True)
class SearchHit:
    """One result of a title search (movie or TV)."""

    tmdb_id: int
    title: str
    original_title: str | None
    year: int | None
    vote_count: int = 0
    popularity: float = 0.0


def looks_like_bearer_token(credential: str) -> bool:
    """TMDB's v4 read access token is a JWT (`eyJ...`); a v3 api key is 32 hex characters."""
    return credential.startswith("eyJ") and credential.count(".") == 2


def year_of(date: Any) -> int | None:
    """`1999-03-30` -> 1999; empty or malformed dates (TMDB sends `""`) -> None."""
    if isinstance(date, str) and re.match(r"^\d{4}", date):
        return int(date[:4])
    return None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _names(items: Any, key: str) -> tuple[str, ...]:
    if not isinstance(items, list):
        return ()
    return tuple(str(i[key]) for i in items if isinstance(i, Mapping) and _str(i.get(key)))


def _codes(items: Any) -> tuple[str, ...]:
    if not isinstance(items, list):
        return ()
    return tuple(str(i) for i in items if _str(i))


def _shared_details(d: Mapping[str, Any]) -> dict[str, Any]:
    """The detail fields movie and TV answers carry under the same keys."""
    return {
        "origin_country": _codes(d.get("origin_country")),
        "production_companies": _names(d.get("production_companies"), "name"),
        "production_countries": _names(d.get("production_countries"), "iso_3166_1"),
        "production_status": _str(d.get("status")),
        "original_language": _str(d.get("original_language")),
        "spoken_languages": _names(d.get("spoken_languages"), "iso_639_1"),
        "genre": _names(d.get("genres"), "name"),
        "overview": _str(d.get("overview")),
        "tagline": _str(d.get("tagline")),
        "tmdb_rating": as_number(d.get("vote_average")),
        "tmdb_votes": _int(d.get("vote_count")),
    }


class TmdbClient:
    """Searches go to `search`, details and external ids to `details` (the same client unless
    AT_MOVIE_DETAILS_API_BASE_URL names another base URL)."""

    def __init__(self, search: JsonHttpClient, details: JsonHttpClient | None = None) -> None:
        self.search = search
        self.details = details or search

    @property
    def requests_sent(self) -> int:
        extra = self.details.stats.requests if self.details is not self.search else 0
        return self.search.stats.requests + extra

    @classmethod
    def connect(
        cls,
        credential: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        details_base_url: str | None = None,
        bearer: bool | None = None,
        timeout_s: float = 10.0,
        retry: RetryPolicy | None = None,
        rate_limit_per_s: float = DEFAULT_RATE_LIMIT_PER_S,
        sleep: Sleep = time.sleep,
    ) -> TmdbClient:
        """`credential` is a v3 api key (`api_key` query) or a v4 token (Authorization header);
        `bearer=None` tells them apart by their shape."""
        as_bearer = looks_like_bearer_token(credential) if bearer is None else bearer

        def http(url: str) -> JsonHttpClient:
            return JsonHttpClient(
                SERVICE,
                url,
                timeout_s=timeout_s,
                retry=retry,
                rate_limit_per_s=rate_limit_per_s,
                sleep=sleep,
                secret_params={} if as_bearer else {"api_key": credential},
                secret_headers={"Authorization": f"Bearer {credential}"} if as_bearer else {},
            )

        search = http(base_url)
        same = details_base_url is None or details_base_url.rstrip("/") == base_url.rstrip("/")
        return cls(search, None if same else http(str(details_base_url)))

    def close(self) -> None:
        self.search.close()
        if self.details is not self.search:
            self.details.close()

    def _get(
        self, path: str, params: Mapping[str, Any] | None = None, *, details: bool = True
    ) -> Mapping[str, Any]:
        payload = (self.details if details else self.search).get_json(path, params)
        if not isinstance(payload, Mapping):
            raise LastingServiceError(
                SERVICE, f"GET {path}", f"expected a JSON object, got {type(payload).__name__}"
            )
        return payload

    def _search(self, path: str, params: Mapping[str, Any], title_key: str) -> list[SearchHit]:
        payload = self._get(path, {"include_adult": "false", **params}, details=False)
        results = payload.get("results")
        if not isinstance(results, list):
            raise LastingServiceError(SERVICE, f"GET {path}", "the answer has no results list")
        date_key = "release_date" if title_key == "title" else "first_air_date"
        original_key = "original_title" if title_key == "title" else "original_name"
        hits = []
        for item in results:
            # A hit without an id the columns can hold is no hit: it would fail the batch's write.
            tmdb_id = _int(item.get("id")) if isinstance(item, Mapping) else None
            if tmdb_id is None or not 0 < tmdb_id <= MAX_INTEGER:
                continue
            hits.append(
                SearchHit(
                    tmdb_id=tmdb_id,
                    title=str(item.get(title_key) or item.get(original_key) or ""),
                    original_title=_str(item.get(original_key)),
                    year=year_of(item.get(date_key)),
                    vote_count=_int(item.get("vote_count")) or 0,
                    popularity=as_number(item.get("popularity")) or 0.0,
                )
            )
        return hits

    def search_movie(self, title: str, year: int | None = None) -> list[SearchHit]:
        return self._search("/search/movie", {"query": title, "year": year}, "title")

    def search_tv(self, name: str, first_air_year: int | None = None) -> list[SearchHit]:
        return self._search(
            "/search/tv", {"query": name, "first_air_date_year": first_air_year}, "name"
        )

    def movie_details(self, tmdb_id: int) -> TitleMetadata:
        d = self._get(f"/movie/{tmdb_id}")
        return TitleMetadata(
            tmdb_id=tmdb_id,
            media_title=str(d.get("title") or d.get("original_title") or ""),
            original_media_title=_str(d.get("original_title")),
            release_year=year_of(d.get("release_date")),
            imdb_id=_str(d.get("imdb_id")),
            budget=_int(d.get("budget")),
            revenue=_int(d.get("revenue")),
            runtime=_int(d.get("runtime")),
            **_shared_details(d),
        )

    def tv_details(self, tmdb_id: int) -> TitleMetadata:
        d = self._get(f"/tv/{tmdb_id}")
        run_times: Sequence[Any] = d.get("episode_run_time") or []
        return TitleMetadata(
            tmdb_id=tmdb_id,
            media_title=str(d.get("name") or d.get("original_name") or ""),
            original_media_title=_str(d.get("original_name")),
            release_year=year_of(d.get("first_air_date")),
            runtime=next((r for r in run_times if _int(r) is not None), None),
            **_shared_details(d),
        )

    def find(self, external_id: str, source: str, *, tv: bool) -> int | None:
        """The TMDB id of the movie (or show) an outside id names: `/find/{id}` with
        `external_source` `imdb_id` or `tvdb_id`. For TV an episode's or season's id names its
        show. None when TMDB knows no such title."""
        payload = self._get(f"/find/{external_id}", {"external_source": source}, details=False)
        keys = (
            ("tv_results", "tv_episode_results", "tv_season_results") if tv else ("movie_results",)
        )
        for key in keys:
            for result in payload.get(key) or ():
                if not isinstance(result, Mapping):
                    continue
                # An episode or season result names its show by `show_id`.
                found = _int(
                    result.get("show_id" if "_episode_" in key or "_season_" in key else "id")
                )
                if found is not None and 0 < found <= MAX_INTEGER:
                    return found
        return None

    def aired_episodes(self, tmdb_id: int, season: int, today: dt.date) -> list[int]:
        """The numbers of a season's episodes that have aired by `today` (TMDB season
        details: an episode without an air date has not aired), in order."""
        payload = self._get(f"/tv/{tmdb_id}/season/{season}")
        aired = []
        for episode in payload.get("episodes") or ():
            if not isinstance(episode, Mapping):
                continue
            number, date = _int(episode.get("episode_number")), _str(episode.get("air_date"))
            try:
                when = dt.date.fromisoformat(date) if date else None
            except ValueError:
                when = None
            if number is not None and when is not None and when <= today:
                aired.append(number)
        return sorted(aired)

    def tv_imdb_id(self, tmdb_id: int) -> str | None:
        """A show's IMDb id from `/tv/{id}/external_ids` (TV details do not carry it)."""
        return _str(self._get(f"/tv/{tmdb_id}/external_ids").get("imdb_id"))

    def tv_tmdb_id_of_tvdb(self, tvdb_id: int) -> int | None:
        """The tmdb_id of the show TheTVDB knows as `tvdb_id` (`/find/{id}`; a Plex watchlist
        may name a show only by its tvdb id); None when TMDB knows none."""
        found = self._get(f"/find/{tvdb_id}", {"external_source": "tvdb_id"})
        shows = found.get("tv_results")
        first = shows[0] if isinstance(shows, list) and shows else None
        return _int(first.get("id")) if isinstance(first, Mapping) else None


TMDB_BASE_URL_VAR = "AT_MOVIE_SEARCH_API_BASE_URL"
TMDB_DETAILS_BASE_URL_VAR = "AT_MOVIE_DETAILS_API_BASE_URL"
TMDB_API_KEY_VAR = "AT_MOVIE_SEARCH_API_KEY"  # a v3 api key or a v4 read access token
TMDB_RATE_LIMIT_VAR = "AT_MOVIE_SEARCH_API_RATE_LIMIT"  # requests per second, 0 = unlimited


class TmdbResource(ApiKeyResource):
    """TMDB: AT_MOVIE_SEARCH_API_KEY (api key or bearer token), AT_MOVIE_SEARCH_API_BASE_URL
    (default https://api.themoviedb.org/3), AT_MOVIE_DETAILS_API_BASE_URL (default: the search
    URL), AT_MOVIE_SEARCH_API_RATE_LIMIT (requests per second, default 40)."""

    API_KEY_VAR = TMDB_API_KEY_VAR

    base_url: str | None = None
    details_base_url: str | None = None
    rate_limit_per_s: float | None = None

    def client(self) -> TmdbClient:
        base_url = str(setting(self.base_url, TMDB_BASE_URL_VAR, DEFAULT_BASE_URL))
        return TmdbClient.connect(
            self.key(),
            base_url,
            details_base_url=str(
                setting(self.details_base_url, TMDB_DETAILS_BASE_URL_VAR, base_url)
            ),
            timeout_s=self.timeout_s,
            retry=self._retry_policy(),
            rate_limit_per_s=number_setting(
                self.rate_limit_per_s, TMDB_RATE_LIMIT_VAR, DEFAULT_RATE_LIMIT_PER_S, 0
            ),
        )
