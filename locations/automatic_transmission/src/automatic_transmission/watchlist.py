"""What the household follows: the watchlist (pure: parsing and matching, no I/O).

Two sources fill `atp.watchlist`: Plex watchlist feeds (AT_WATCHLIST_URLS; RSS 2.0 items with
`<title>`, `<category>` movie or show, `<guid>`s `imdb://tt…`, `tmdb://<id>`, `tvdb://<id>`) and
`config/automatic_transmission/watchlist.yaml`:

    movies:
      - {title: The Matrix, year: 1999}
      - {imdb_id: tt0133093}
    shows:
      - {title: Severance}
      - {tmdb_id: 95396}

Step 06 takes a movie on the watchlist without asking the model, and with AT_TV_FOLLOW=watchlist
only episodes of shows on it. A release matches by imdb_id or tmdb_id (known after step 05), or,
for an entry that gives only a title, by the normalised title (and the year when given). A show
named only by a tvdb id gets its tmdb_id from TMDB's /find when it is synced.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, model_validator

from automatic_transmission.limits import TITLE_CHARS
from automatic_transmission.model import MediaRow, normalised, valid_year
from automatic_transmission.settings import config_dir
from dagstributor_shared.config_files import read_yaml, validated

WATCHLIST_FILE = "watchlist.yaml"
YAML_SOURCE = WATCHLIST_FILE
_IMDB = re.compile(r"^tt[0-9]{7,8}$")
_GUID = re.compile(r"^(imdb|tmdb|tvdb)://(\S+)$", re.I)


class WatchlistError(ValueError):
    """A watchlist feed or file that cannot be read as one (the stored list stays)."""


class WatchKind(StrEnum):
    MOVIE = "movie"
    SHOW = "show"


@dataclass(frozen=True)
class WatchedTitle:
    """One title of one source, as `atp.watchlist` stores it."""

    source: str
    kind: WatchKind
    title: str | None = None
    year: int | None = None
    imdb_id: str | None = None
    tmdb_id: int | None = None
    tvdb_id: int | None = None

    @property
    def watch_key(self) -> str:
        """What identifies the title within its source (the table's key with source and kind)."""
        if self.imdb_id:
            return f"imdb:{self.imdb_id}"
        if self.tmdb_id:
            return f"tmdb:{self.tmdb_id}"
        if self.tvdb_id:
            return f"tvdb:{self.tvdb_id}"
        return f"title:{normalised(self.title)}:{self.year or ''}"


def _positive(text: str) -> int | None:
    return int(text) if text.isdigit() and 0 < int(text) < 2**31 else None


def parse_watchlist_feed(content: bytes, source: str) -> list[WatchedTitle]:
    """The titles of a Plex watchlist RSS document; WatchlistError when it is not RSS (an HTML
    error page, garbage), so a broken feed never empties the stored list."""
    try:
        root = ET.fromstring(content)
    except ET.ParseError as error:
        raise WatchlistError(f"{source}: not an RSS document ({error})") from None
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise WatchlistError(f"{source}: not an RSS document (root <{root.tag}>)")
    titles: dict[tuple[WatchKind, str], WatchedTitle] = {}
    for item in channel.iter("item"):
        category = (item.findtext("category") or "").strip().lower()
        if category not in ("movie", "show"):
            continue
        ids: dict[str, str] = {}
        for guid in item.iter("guid"):
            match = _GUID.match((guid.text or "").strip())
            if match:
                ids.setdefault(match.group(1).lower(), match.group(2))
        imdb = ids.get("imdb")
        title = (item.findtext("title") or "").strip() or None
        watched = WatchedTitle(
            source=source,
            kind=WatchKind(category),
            title=title[:TITLE_CHARS] if title else None,
            imdb_id=imdb if imdb and _IMDB.match(imdb) else None,
            tmdb_id=_positive(ids.get("tmdb", "")),
            tvdb_id=_positive(ids.get("tvdb", "")),
        )
        if watched.title or watched.imdb_id or watched.tmdb_id or watched.tvdb_id:
            titles.setdefault((watched.kind, watched.watch_key), watched)
    return list(titles.values())


class EntrySpec(BaseModel):
    """One entry of watchlist.yaml: a title (and year), or ids."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    title: Annotated[StrictStr, Field(min_length=1, max_length=TITLE_CHARS)] | None = None
    year: StrictInt | None = None
    imdb_id: Annotated[StrictStr, Field(pattern=r"^tt[0-9]{7,8}$")] | None = None
    tmdb_id: Annotated[StrictInt, Field(gt=0, lt=2**31)] | None = None
    tvdb_id: Annotated[StrictInt, Field(gt=0, lt=2**31)] | None = None

    @model_validator(mode="after")
    def _identified(self) -> EntrySpec:
        if not (self.title or self.imdb_id or self.tmdb_id or self.tvdb_id):
            raise ValueError("an entry needs a title or an id (imdb_id, tmdb_id, tvdb_id)")
        if self.year is not None and valid_year(self.year) is None:
            raise ValueError(f"year {self.year} is not between 1850 and 2100")
        return self


class FileSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    movies: list[EntrySpec] = []
    shows: list[EntrySpec] = []


MESSAGES = {
    "extra_forbidden": "unknown key(s) {keys}",
    "model_type": "expected a mapping",
    "movies list_type": "movies must be a list of entries",
    "shows list_type": "shows must be a list of entries",
    "movies[] string_pattern_mismatch": "movies: imdb_id must look like tt0133093, got {value!r}",
    "shows[] string_pattern_mismatch": "shows: imdb_id must look like tt0133093, got {value!r}",
}


def load_watchlist_file(directory: str | Path | None = None) -> list[WatchedTitle] | None:
    """The titles of watchlist.yaml; None when there is no such file (no YAML source)."""
    path = config_dir(directory) / WATCHLIST_FILE
    if not path.exists():
        return None
    document = read_yaml(path, WatchlistError, "movies and/or shows")
    spec = validated(FileSpec, document, str(path), WatchlistError, MESSAGES)
    return [
        WatchedTitle(YAML_SOURCE, kind, e.title, e.year, e.imdb_id, e.tmdb_id, e.tvdb_id)
        for kind, entries in ((WatchKind.MOVIE, spec.movies), (WatchKind.SHOW, spec.shows))
        for e in entries
    ]


@dataclass(frozen=True)
class Watchlist:
    """Every stored title of every source, indexed for matching releases."""

    titles: Sequence[WatchedTitle] = ()

    def match(self, row: MediaRow) -> WatchedTitle | None:
        """The title a release (after step 05) belongs to, or None."""
        kind = WatchKind.SHOW if row.media_type.is_tv else WatchKind.MOVIE
        name = normalised(row.media_title)
        for title in self.titles:
            if title.kind is not kind:
                continue
            if title.imdb_id and title.imdb_id == row.imdb_id:
                return title
            if title.tmdb_id and title.tmdb_id == row.tmdb_id:
                return title
            if (
                not (title.imdb_id or title.tmdb_id or title.tvdb_id)
                and title.title
                and normalised(title.title) == name
                and (title.year is None or title.year == row.release_year)
            ):
                return title
        return None


def deduplicated(titles: Iterable[WatchedTitle]) -> list[WatchedTitle]:
    """One title per (source, kind, key): the first wins."""
    seen: dict[tuple[str, WatchKind, str], WatchedTitle] = {}
    for title in titles:
        seen.setdefault((title.source, title.kind, title.watch_key), title)
    return list(seen.values())
