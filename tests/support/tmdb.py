"""A fake TMDB v3 on a FakeHttpServer (JSON shaped like the real API's).

The atp.media rows and resources the tests of steps 04-06 start from are in `tests.support.steps`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.support.http import FakeHttpServer, Reply, Request

TMDB_KEY = "0123456789abcdef0123456789abcdef"
TMDB_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJhdWQiOiJ0ZXN0In0.c2lnbmF0dXJl"
TMDB_PREFIX = "/3"
INVALID_KEY = {
    "status_code": 7,
    "status_message": "Invalid API key: You must be granted a valid key.",
    "success": False,
}
NOT_FOUND = {
    "success": False,
    "status_code": 34,
    "status_message": "The resource you requested could not be found.",
}
GENRES = {"Action": 28, "Drama": 18, "Horror": 27, "Science Fiction": 878, "Comedy": 35}


@dataclass
class TmdbTitle:
    tmdb_id: int
    title: str
    date: str  # release_date / first_air_date, "" when unknown
    imdb_id: str | None
    tv: bool = False
    original_title: str | None = None
    genres: Sequence[str] = ("Drama",)
    original_language: str = "en"
    vote_count: int = 1000
    vote_average: float = 7.1
    budget: int = 10_000_000
    revenue: int = 30_000_000
    runtime: int = 110
    production_countries: Sequence[str] = ("US",)
    extra: dict[str, Any] = field(default_factory=dict)
    tvdb_id: int | None = None  # a show TMDB's /find answers for (external_source=tvdb_id)

    def search_result(self) -> dict[str, Any]:
        common = {
            "adult": False,
            "backdrop_path": f"/{self.tmdb_id}b.jpg",
            "genre_ids": [GENRES.get(g, 18) for g in self.genres],
            "id": self.tmdb_id,
            "original_language": self.original_language,
            "overview": f"Overview of {self.title}.",
            "popularity": 12.5,
            "poster_path": f"/{self.tmdb_id}p.jpg",
            "vote_average": self.vote_average,
            "vote_count": self.vote_count,
        }
        if self.tv:
            return {
                **common,
                "origin_country": list(self.production_countries),
                "name": self.title,
                "original_name": self.original_title or self.title,
                "first_air_date": self.date,
            }
        return {
            **common,
            "title": self.title,
            "original_title": self.original_title or self.title,
            "release_date": self.date,
            "video": False,
        }

    def details(self) -> dict[str, Any]:
        common = {
            "adult": False,
            "genres": [{"id": GENRES.get(g, 18), "name": g} for g in self.genres],
            "homepage": "",
            "id": self.tmdb_id,
            "origin_country": list(self.production_countries),
            "original_language": self.original_language,
            "overview": f"Overview of {self.title}.",
            "popularity": 12.5,
            "poster_path": f"/{self.tmdb_id}p.jpg",
            "production_companies": [
                {"id": 4, "logo_path": None, "name": "Paramount Pictures", "origin_country": "US"}
            ],
            "production_countries": [
                {"iso_3166_1": c, "name": c} for c in self.production_countries
            ],
            "spoken_languages": [
                {"english_name": "English", "iso_639_1": self.original_language, "name": "E"}
            ],
            "tagline": f"{self.title}: the tagline",
            "vote_average": self.vote_average,
            "vote_count": self.vote_count,
        }
        if self.tv:
            return {
                **common,
                "name": self.title,
                "original_name": self.original_title or self.title,
                "first_air_date": self.date or None,
                "episode_run_time": [self.runtime],
                "number_of_seasons": 3,
                "status": "Returning Series",
                "type": "Scripted",
                **self.extra,
            }
        return {
            **common,
            "belongs_to_collection": None,
            "budget": self.budget,
            "imdb_id": self.imdb_id,
            "original_title": self.original_title or self.title,
            "release_date": self.date,
            "revenue": self.revenue,
            "runtime": self.runtime,
            "status": "Released",
            "title": self.title,
            "video": False,
            **self.extra,
        }


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


class FakeTmdb:
    """TMDB's search, details and external-ids endpoints for the titles added to it.

    Search results keep the order titles were added (so a test can put the wrong film first);
    a query matches a title containing it, and `year`/`first_air_date_year` filter by year.
    Every request must carry the api key (query) or the bearer token (header), else 401.
    """

    def __init__(self, server: FakeHttpServer) -> None:
        self.server = server
        self.titles: list[TmdbTitle] = []
        server.route("GET", f"{TMDB_PREFIX}/search/movie", self._search(tv=False))
        server.route("GET", f"{TMDB_PREFIX}/search/tv", self._search(tv=True))

    @property
    def base_url(self) -> str:
        return self.server.url + TMDB_PREFIX

    @staticmethod
    def authorised(request: Request) -> bool:
        return (
            request.param("api_key") == TMDB_KEY
            or request.headers.get("authorization") == f"Bearer {TMDB_TOKEN}"
        )

    def add(self, title: TmdbTitle) -> TmdbTitle:
        self.titles.append(title)
        kind = "tv" if title.tv else "movie"
        self.server.route(
            "GET", f"{TMDB_PREFIX}/{kind}/{title.tmdb_id}", self._guarded(title.details())
        )
        if title.tv and title.tvdb_id is not None:
            found = {"movie_results": [], "tv_results": [title.search_result()]}
            self.server.route("GET", f"{TMDB_PREFIX}/find/{title.tvdb_id}", self._guarded(found))
        if title.tv:
            ids = {
                "id": title.tmdb_id,
                "imdb_id": title.imdb_id,
                "tvdb_id": title.tvdb_id or 121361,
            }
            self.server.route(
                "GET", f"{TMDB_PREFIX}/tv/{title.tmdb_id}/external_ids", self._guarded(ids)
            )
        return title

    def movie(
        self, tmdb_id: int, title: str, date: str, imdb_id: str | None, **kw: Any
    ) -> TmdbTitle:
        return self.add(TmdbTitle(tmdb_id, title, date, imdb_id, **kw))

    def show(
        self, tmdb_id: int, title: str, date: str, imdb_id: str | None, **kw: Any
    ) -> TmdbTitle:
        return self.add(TmdbTitle(tmdb_id, title, date, imdb_id, tv=True, **kw))

    def _guarded(self, body: dict[str, Any]) -> Any:
        def respond(request: Request) -> Reply:
            if not self.authorised(request):
                return Reply(401, INVALID_KEY)
            return Reply(200, body)

        return respond

    def _search(self, tv: bool) -> Any:
        year_param = "first_air_date_year" if tv else "year"

        def respond(request: Request) -> Reply:
            if not self.authorised(request):
                return Reply(401, INVALID_KEY)
            query = _norm(request.param("query") or "")
            year = request.param(year_param)
            hits = [
                t.search_result()
                for t in self.titles
                if t.tv == tv
                and query in _norm(t.title)
                and (year is None or t.date.startswith(year))
            ]
            return Reply(
                200, {"page": 1, "results": hits, "total_pages": 1, "total_results": len(hits)}
            )

        return respond

    def calls(self) -> list[Request]:
        return [r for r in self.server.calls() if r.path.startswith(TMDB_PREFIX)]
