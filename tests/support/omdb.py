"""A fake OMDb on a FakeHttpServer: `GET /?i=<imdb id>&apikey=<key>`, answered like the real API."""

from __future__ import annotations

from typing import Any

from tests.support.http import FakeHttpServer, Reply, Request

OMDB_KEY = "omdbkey1"


def omdb_title(
    imdb_id: str,
    title: str,
    rating: str = "7.5",
    votes: str = "123,456",
    metascore: str = "71",
    rotten: str | None = "88%",
) -> dict[str, Any]:
    ratings = [{"Source": "Internet Movie Database", "Value": f"{rating}/10"}]
    if rotten is not None:
        ratings.append({"Source": "Rotten Tomatoes", "Value": rotten})
    if metascore != "N/A":
        ratings.append({"Source": "Metacritic", "Value": f"{metascore}/100"})
    return {
        "Title": title,
        "Year": "1999",
        "Rated": "R",
        "Runtime": "136 min",
        "Genre": "Action, Sci-Fi",
        "Language": "English",
        "Ratings": ratings,
        "Metascore": metascore,
        "imdbRating": rating,
        "imdbVotes": votes,
        "imdbID": imdb_id,
        "Type": "movie",
        "Response": "True",
    }


class FakeOmdb:
    def __init__(self, server: FakeHttpServer) -> None:
        self.server = server
        self.titles: dict[str, dict[str, Any]] = {}
        server.route("GET", "/", self._respond)

    @property
    def base_url(self) -> str:
        return self.server.url + "/"

    def add(self, imdb_id: str, title: str, **kw: Any) -> None:
        self.titles[imdb_id] = omdb_title(imdb_id, title, **kw)

    def _respond(self, request: Request) -> Reply:
        if request.param("apikey") != OMDB_KEY:
            return Reply(401, {"Response": "False", "Error": "Invalid API key!"})
        found = self.titles.get(request.param("i") or "")
        if found is None:
            return Reply(200, {"Response": "False", "Error": "Incorrect IMDb ID."})
        return Reply(200, found)

    def calls(self) -> list[Request]:
        return self.server.calls("/")
