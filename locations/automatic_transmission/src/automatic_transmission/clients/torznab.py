"""Torznab (the API of Prowlarr and Jackett): the indexers of AT_TORZNAB_URLS, their feeds read
with every `torznab:attr`, and the info-hash behind a download link.

A Torznab answer is an RSS document whose items carry `<torznab:attr name=... value=...>`
elements (infohash, magneturl, seeders, peers, size, category, imdb/imdbid, tmdbid, tvdbid,
minimumratio, minimumseedtime, downloadvolumefactor), or an `<error code=... description=...>`
element. Prowlarr writes `imdb` as seven digits without `tt`; Jackett writes `imdbid` with it.

An indexer URL carries the API key in its query, and so may an item's download link (a Prowlarr
or Jackett proxy URL). Every key of a configured URL is registered with the scrubber when the
client is built; logs and errors name an indexer by its URL without the query (`redacted`).
This module knows HTTP and the format, not the pipeline (steps/rss_ingest.py decides).
"""

from __future__ import annotations

import functools
import math
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit
from xml.etree import ElementTree

import dagster as dg

from automatic_transmission.clients.feeds import (
    DEFAULT_MAX_BYTES,
    DEFAULT_TIMEOUT_S,
    TORZNAB_URLS_VAR,
    USER_AGENT,
    FeedError,
    FeedItem,
    FeedLink,
    redacted,
)
from automatic_transmission.clients.http import (
    Answer,
    BodyTooLargeError,
    HttpTransport,
    LastingServiceError,
    RetryPolicy,
    ServiceConfigurationError,
    ServiceError,
    Sleep,
    TransientServiceError,
    status_error,
)
from automatic_transmission.clients.torrent_file import TorrentFileError, info_hash
from automatic_transmission.model import MAX_INTEGER, ReleaseFacts
from automatic_transmission.settings import setting
from dagstributor_shared.scrub import register

SERVICE = "torznab"
TORRENT_TYPE = "application/x-bittorrent"
FEED_PARAMS = {"t": "search", "cat": "2000,5000", "extended": "1"}  # the newest movies and TV
MAX_TORRENT_BYTES = 10 * 1024 * 1024  # a .torrent of a 100 GB season is well under 1 MB
MAX_REDIRECTS = 5
# Query parameters whose value is a secret (Prowlarr `apikey`, Jackett `apikey` and
# `jackett_apikey` in its download links, trackers' `passkey`...).
_SECRET_PARAM = re.compile(r"key|token|pass|auth|secret|sig", re.IGNORECASE)
_IMDB = re.compile(r"^(?:tt)?(\d{7,8})$", re.IGNORECASE)
# Torznab error codes: 100-102 credentials (the key is wrong), 429 request limit, 900 unknown;
# the others (missing or wrong parameter, no such function) will not heal by waiting.
_CONFIGURATION_CODES = frozenset({"100", "101", "102"})
_TRANSIENT_CODES = frozenset({"429", "900"})


class TorznabConfigError(ValueError):
    """AT_TORZNAB_URLS does not describe a list of Torznab API URLs."""


class TorznabError(FeedError):
    """An indexer could not be read this run (HTTP error, Torznab `<error>`, not a feed)."""

    def __init__(self, message: str, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


def secret_values(url: str) -> list[str]:
    """The values of a URL's query parameters that are secrets (API keys, passkeys)."""
    return [v for k, v in parse_qsl(urlsplit(url).query) if _SECRET_PARAM.search(k) and v]


def with_params(url: str, params: dict[str, str]) -> str:
    """`url` with `params` set in its query (its own parameters, the key among them, kept)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    return urlunsplit(parts._replace(query=urlencode([*query, *params.items()])))


def configured_indexers(urls: str) -> list[str]:
    """AT_TORZNAB_URLS (a comma list; may be empty) -> the indexers' API URLs. Raises one
    TorznabConfigError listing every item that is not an http(s) URL."""
    addresses = [part.strip() for part in urls.split(",")] if urls.strip() else []
    problems = [
        f"{TORZNAB_URLS_VAR} item {position} is not an http(s) URL"
        for position, address in enumerate(addresses, 1)
        if urlsplit(address).scheme not in ("http", "https") or not urlsplit(address).netloc
    ]
    if problems:
        raise TorznabConfigError("invalid indexer configuration: " + "; ".join(problems))
    return addresses


# --- the format -------------------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].lower()


def _number(value: str | None) -> float | None:
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) and number >= 0 else None


def _whole(value: str | None, top: int = MAX_INTEGER) -> int | None:
    number = _number(value)
    return int(number) if number is not None and number.is_integer() and number <= top else None


def _positive(value: str | None) -> int | None:
    number = _whole(value)
    return number if number else None


def imdb_id(value: str | None) -> str | None:
    """`tt0133093` (Jackett) or `0133093`/`133093` (Prowlarr: digits, sometimes unpadded) ->
    `tt0133093`; None for anything else (`0`, empty)."""
    text = (value or "").strip()
    if text.isdigit() and 0 < int(text) < 10**8:
        text = f"{int(text):07d}"
    match = _IMDB.match(text)
    return f"tt{match.group(1)}" if match and int(match.group(1)) else None


def _attrs(item: ElementTree.Element) -> dict[str, list[str]]:
    attrs: dict[str, list[str]] = {}
    for element in item:
        if _local(element.tag) == "attr" and element.get("name"):
            attrs.setdefault(str(element.get("name")).lower(), []).append(element.get("value", ""))
    return attrs


def _first(attrs: dict[str, list[str]], *names: str) -> str | None:
    return next((attrs[name][0].strip() for name in names if attrs.get(name)), None)


def release_facts(item: ElementTree.Element, attrs: dict[str, list[str]]) -> ReleaseFacts:
    """The item's `torznab:attr` values (and `<size>`, `<category>` when no attr gives them)."""
    children = {_local(c.tag): (c.text or "").strip() for c in item}
    categories = [_whole(v) for v in attrs.get("category", [])] or [
        _whole((c.text or "").strip()) for c in item if _local(c.tag) == "category"
    ]
    return ReleaseFacts(
        seeders=_whole(_first(attrs, "seeders")),
        peers=_whole(_first(attrs, "peers")),
        size_bytes=_whole(_first(attrs, "size") or children.get("size"), 2**63 - 1),
        categories=tuple(c for c in categories if c is not None),
        imdb_id=imdb_id(_first(attrs, "imdbid")) or imdb_id(_first(attrs, "imdb")),
        tmdb_id=_positive(_first(attrs, "tmdbid")),
        tvdb_id=_positive(_first(attrs, "tvdbid")),
        minimum_ratio=_number(_first(attrs, "minimumratio")),
        minimum_seed_time=_whole(_first(attrs, "minimumseedtime")),
        download_volume_factor=_number(_first(attrs, "downloadvolumefactor")),
    )


def _links(item: ElementTree.Element, attrs: dict[str, list[str]]) -> tuple[FeedLink, ...]:
    """The download `<link>` and `<enclosure>` (Torznab: both the download URL, an `http` one
    typed as a torrent file), and the `magneturl` attribute."""
    links: list[FeedLink] = []

    def add(href: str | None, rel: str, type_: str | None) -> None:
        href = (href or "").strip()
        if not href:
            return
        if href.lower().startswith("magnet:"):
            type_ = None
        elif type_ is None:
            type_ = TORRENT_TYPE
        if all(link.href != href or link.rel != rel for link in links):
            links.append(FeedLink(href, rel, type_))

    for element in item:
        name = _local(element.tag)
        if name == "enclosure":
            add(element.get("url"), "enclosure", element.get("type") or None)
        elif name == "link":
            add(element.text, "alternate", None)
    for magnet in attrs.get("magneturl", []):
        add(magnet, "magnet", None)
    return tuple(links)


def _items(channel: ElementTree.Element) -> Iterator[ElementTree.Element]:
    return (child for child in channel if _local(child.tag) == "item")


def parse_torznab(content: bytes, where: str = SERVICE) -> list[FeedItem]:
    """The items of a Torznab answer; raises TorznabError for an `<error>` answer (transient
    for code 429 or 900) or a document that is not RSS. (The body is capped before it gets
    here, and expat refuses entity-expansion bombs.)"""
    try:
        root = ElementTree.fromstring(content)
    except ElementTree.ParseError as error:
        raise TorznabError(f"{where}: not a Torznab answer ({error})", transient=True) from None
    if _local(root.tag) == "error":
        code = (root.get("code") or "").strip()
        text = f"{where}: Torznab error {code}: {root.get('description') or '(no description)'}"
        if code in _CONFIGURATION_CODES:
            text += " — the API key is missing or wrong (a configuration error)"
        raise TorznabError(text, transient=code in _TRANSIENT_CODES)
    channel = next((c for c in root if _local(c.tag) == "channel"), None)
    if _local(root.tag) != "rss" or channel is None:
        raise TorznabError(f"{where}: not a Torznab answer (no rss channel)", transient=True)
    items = []
    for element in _items(channel):
        attrs = _attrs(element)
        title = next((c.text for c in element if _local(c.tag) == "title"), None)
        infohash = _first(attrs, "infohash")
        items.append(
            FeedItem(
                title=title.strip() if title and title.strip() else None,
                links=_links(element, attrs),
                info_hashes=(infohash,) if infohash else (),
                facts=release_facts(element, attrs),
            )
        )
    return items


def torznab_error(answer: Answer, where: str) -> ServiceError | None:
    """The ServiceError of an answer that is not a usable feed: 410 (an indexer gone for now,
    as Prowlarr answers for a disabled one) and 429 transient like 5xx, other statuses as
    `status_error`; a Torznab `<error code=...>` body with its own class; None for a feed."""
    if answer.status == 410:
        return TransientServiceError(SERVICE, where, f"HTTP 410: {answer.excerpt()}", 410)
    if answer.status >= 400:
        return status_error(SERVICE, where, answer)
    if isinstance(answer.content, BodyTooLargeError):
        return LastingServiceError(SERVICE, where, str(answer.content))
    if b"<error" not in answer.content[:2048]:
        return None
    try:
        parse_torznab(answer.content, where)
    except TorznabError as error:
        detail = str(error).removeprefix(f"{where}: ")
        code = 429 if "error 429" in detail else None
        if error.transient:
            return TransientServiceError(SERVICE, where, detail, code)
        if "configuration error" in detail:
            return ServiceConfigurationError(SERVICE, where, detail)
        return LastingServiceError(SERVICE, where, detail)
    return None


@dataclass(frozen=True)
class Caps:
    """What an indexer's `t=caps` says it can search by: per function (`search`, `tv-search`,
    `movie-search`) its supported parameters; a function it lacks is absent."""

    functions: dict[str, frozenset[str]]

    def supports(self, function: str, *params: str) -> bool:
        return function in self.functions and set(params) <= self.functions[function]


def parse_caps(content: bytes, where: str = SERVICE) -> Caps:
    """The `<searching>` part of a `t=caps` answer; raises TorznabError when it is none."""
    try:
        root = ElementTree.fromstring(content)
    except ElementTree.ParseError as error:
        raise TorznabError(f"{where}: not a caps answer ({error})", transient=True) from None
    searching = next((c for c in root if _local(c.tag) == "searching"), None)
    if _local(root.tag) != "caps" or searching is None:
        raise TorznabError(f"{where}: not a caps answer (no <searching>)", transient=True)
    functions = {}
    for element in searching:
        if (element.get("available") or "").lower() == "yes":
            params = (element.get("supportedParams") or "q").lower().split(",")
            functions[_local(element.tag)] = frozenset(p.strip() for p in params if p.strip())
    return Caps(functions)


@dataclass(frozen=True)
class Wanted:
    """A title to search indexers for (hunting): a movie, or one episode (or season) of a show."""

    title: str
    year: int | None = None
    imdb_id: str | None = None  # tt...
    tvdb_id: int | None = None
    season: int | None = None  # set: TV
    episode: int | None = None

    @property
    def is_tv(self) -> bool:
        return self.season is not None


def search_params(caps: Caps, wanted: Wanted) -> dict[str, str]:
    """The Torznab query for `wanted`: by id when the indexer can (`t=movie&imdbid=` without
    `tt`, as Radarr sends it and both projects accept; `t=tvsearch&tvdbid=&season=&ep=`), else
    by name (`q=`, with the year or the episode code) through the same function or `search`."""
    if wanted.is_tv:
        episode = {"season": str(wanted.season)}
        if wanted.episode is not None:
            episode["ep"] = str(wanted.episode)
        if wanted.tvdb_id and caps.supports("tv-search", "tvdbid", *episode):
            return {"t": "tvsearch", "tvdbid": str(wanted.tvdb_id), **episode, "cat": "5000"}
        if caps.supports("tv-search", "q", *episode):
            return {"t": "tvsearch", "q": wanted.title, **episode, "cat": "5000"}
        code = f"S{wanted.season:02d}" + (
            f"E{wanted.episode:02d}" if wanted.episode is not None else ""
        )
        return {"t": "search", "q": f"{wanted.title} {code}", "cat": "5000"}
    if wanted.imdb_id and caps.supports("movie-search", "imdbid"):
        return {"t": "movie", "imdbid": wanted.imdb_id.removeprefix("tt"), "cat": "2000"}
    named = f"{wanted.title} {wanted.year}" if wanted.year else wanted.title
    function = "movie" if caps.supports("movie-search", "q") else "search"
    return {"t": function, "q": named, "cat": "2000"}


@dataclass(frozen=True)
class TorrentHash:
    """What is behind a download link: a `.torrent` file's info-hash, or the magnet link it
    redirects to, or why neither could be had this run."""

    hash: str | None = None
    magnet: str | None = None
    error: str | None = None


class TorznabClient:
    """Reads indexers' feeds and the `.torrent` files behind download links over one
    HttpTransport each (clients/http.py: deadline per attempt, body cap, retries; 429 honours
    `Retry-After`)."""

    def __init__(
        self,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        retries: int = 1,
        backoff_s: float = 1.0,
        max_retry_after_s: float = 60.0,
        sleep: Sleep = time.sleep,
        max_torrent_bytes: int = MAX_TORRENT_BYTES,
    ) -> None:
        policy = RetryPolicy(retries, backoff_s, max_retry_after_s=max_retry_after_s)
        headers = {"User-Agent": USER_AGENT}
        self.http = HttpTransport(
            SERVICE,
            timeout_s=timeout_s,
            max_body_bytes=DEFAULT_MAX_BYTES,
            retry=policy,
            headers=headers,
            sleep=sleep,
        )
        # Redirects by hand: Prowlarr answers a magnet-only release's download link with a
        # redirect to the magnet, which an HTTP client cannot follow.
        self.torrents = HttpTransport(
            SERVICE,
            timeout_s=timeout_s,
            max_body_bytes=max_torrent_bytes,
            retry=policy,
            headers=headers,
            sleep=sleep,
            follow_redirects=False,
        )

    def close(self) -> None:
        self.http.close()
        self.torrents.close()

    def _fetch(self, url: str) -> bytes:
        """The body of one Torznab request (`url` with its query); raises TorznabError."""
        where = f"GET {redacted(url)}"

        def decode(answer: Answer) -> bytes | ServiceError:
            error = torznab_error(answer, where)
            if error is not None:
                return error
            assert isinstance(answer.content, bytes)
            return answer.content

        try:
            return self.http.send("GET", url, where, decode)
        except ServiceError as error:
            raise TorznabError(f"{redacted(url)}: {error.detail}", error.transient) from None

    def read(self, url: str) -> list[FeedItem]:
        """The items of one Torznab request (`url` with its query); raises TorznabError."""
        return parse_torznab(self._fetch(url), redacted(url))

    def caps(self, indexer_url: str) -> Caps:
        """What the indexer can search by (`t=caps`); raises TorznabError."""
        url = with_params(indexer_url, {"t": "caps"})
        return parse_caps(self._fetch(url), redacted(url))

    def search(self, indexer_url: str, caps: Caps, wanted: Wanted) -> list[FeedItem]:
        """The indexer's releases of `wanted` (by id when its caps allow, else by name)."""
        return self.read(with_params(indexer_url, {**search_params(caps, wanted), "extended": "1"}))

    def feed(self, indexer_url: str) -> list[FeedItem]:
        """The indexer's newest movies and TV: `t=search`, no query, extended attributes."""
        return self.read(with_params(indexer_url, FEED_PARAMS))

    def torrent_hash(self, link: str) -> TorrentHash:
        """The info-hash of the `.torrent` behind `link`, or the magnet it redirects to
        (redirects followed by hand); never raises."""
        url = link
        for _ in range(MAX_REDIRECTS + 1):
            where = f"GET {redacted(url)}"
            try:
                kind, value = self.torrents.send(
                    "GET", url, where, functools.partial(torrent_answer, where=where)
                )
            except ServiceError as error:
                return TorrentHash(error=str(error))
            if kind == "hash":
                return TorrentHash(hash=value)
            if value.lower().startswith("magnet:"):
                return TorrentHash(magnet=value)
            url = urljoin(url, value)
        return TorrentHash(error=f"GET {redacted(link)}: more than {MAX_REDIRECTS} redirects")


def torrent_answer(answer: Answer, where: str) -> tuple[str, str] | ServiceError:
    """A download link's answer: `("redirect", location)`, `("hash", info-hash)` of the
    `.torrent` file it sent, or the classified error."""
    location = answer.headers.get("location")
    if 300 <= answer.status < 400 and location:
        return ("redirect", location)
    if answer.status >= 300:
        return status_error(SERVICE, where, answer)
    if isinstance(answer.content, BodyTooLargeError):
        return LastingServiceError(SERVICE, where, str(answer.content))
    try:
        return ("hash", info_hash(answer.content))
    except TorrentFileError as error:
        return LastingServiceError(SERVICE, where, f"not a .torrent file: {error}")


class TorznabResource(dg.ConfigurableResource):
    """The Torznab indexers (AT_TORZNAB_URLS, a comma list of API URLs with their keys, e.g.
    `http://prowlarr:9696/1/api?apikey=...`; empty = none) and how they are read."""

    urls: str | None = None  # explicit (tests); else AT_TORZNAB_URLS, read when a run starts
    timeout_s: float = 30.0
    retries: int = 1
    backoff_s: float = 1.0
    max_retry_after_s: float = 60.0

    def indexers(self) -> list[str]:
        """The configured API URLs, each key registered with the scrubber first."""
        found = configured_indexers(str(setting(self.urls, TORZNAB_URLS_VAR, "")))
        for url in found:
            register(*secret_values(url))
        return found

    def client(self) -> TorznabClient:
        self.indexers()
        return TorznabClient(
            timeout_s=self.timeout_s,
            retries=self.retries,
            backoff_s=self.backoff_s,
            max_retry_after_s=self.max_retry_after_s,
        )
