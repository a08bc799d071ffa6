"""Feeds: fetch an RSS/Atom feed over HTTP (httpx, with a timeout) and read its items (feedparser).

This module knows HTTP and feed formats, not the pipeline: it returns each item's title, links
and info-hash elements; which hash and link the pipeline keeps is decided in `steps/rss_ingest.py`.
httpx and feedparser are imported where they are used (the code location starts fast).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from automatic_transmission.clients.http import BodyTooLargeError, read_body, retry_after_seconds

if TYPE_CHECKING:  # httpx is imported where it is used: code-location import time matters
    import httpx

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_BYTES = 32 * 1024 * 1024  # real feeds are well under 1 MB; 5000 YTS items are ~5 MB
USER_AGENT = "dagstributor/automatic_transmission (+feed reader)"


class FeedError(Exception):
    """A feed could not be read: HTTP error, timeout, refused connection, or not a feed."""


@dataclass(frozen=True)
class FeedLink:
    href: str
    rel: str | None = None
    type: str | None = None


@dataclass(frozen=True)
class FeedItem:
    """One entry of a feed, as the feed states it."""

    title: str | None
    links: tuple[FeedLink, ...] = ()  # <link>, Atom links, <enclosure>s, *:magnetURI elements
    info_hashes: tuple[str, ...] = ()  # values of *:infoHash / *:info_hash elements
    show_name: str | None = None  # <tv:show_name> of episode feeds


def redacted(url: str) -> str:
    """A feed URL safe for logs and run metadata: personal feed URLs carry keys in the query."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}"


class FeedClient:
    """Reads feeds over HTTP. Transient failures (timeout, refused connection, 429, 5xx) are
    retried `retries` times with exponential backoff; 429 honours `Retry-After` up to
    `max_retry_after_s` (a longer wait gives up: the next scheduled run tries again).

    A hostile or broken server cannot hold a run: one attempt gets `timeout_s` in all (httpx's
    timeout alone bounds each read, so a server trickling bytes would never time out), and a
    body larger than `max_bytes` (after decompression) is refused before it fills the memory."""

    def __init__(
        self,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        retries: int = 1,
        backoff_s: float = 1.0,
        max_retry_after_s: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.max_retry_after_s = max_retry_after_s
        self.max_bytes = max_bytes
        self._sleep = sleep

    def fetch(self, url: str) -> bytes:
        """The feed document's bytes; raises FeedError when the feed cannot be read."""
        import httpx

        where = redacted(url)
        last_error = "no attempt"
        with httpx.Client(
            timeout=self.timeout_s, follow_redirects=True, headers={"User-Agent": USER_AGENT}
        ) as client:
            for attempt in range(self.retries + 1):
                wait = self.backoff_s * (2**attempt)
                try:
                    response, content = self._download(client, url, where)
                except httpx.TimeoutException:
                    last_error = f"timed out after {self.timeout_s:g} s"
                except httpx.HTTPError as error:
                    last_error = f"{type(error).__name__}: {error}"
                else:
                    if response.status_code < 400:
                        return content
                    last_error = f"HTTP {response.status_code}"
                    if response.status_code == 429:
                        retry_after = retry_after_seconds(response.headers.get("retry-after"))
                        if retry_after is not None:
                            if retry_after > self.max_retry_after_s:
                                break
                            wait = max(wait, retry_after)
                    elif response.status_code < 500:
                        break  # 4xx other than 429 will not heal by asking again
                if attempt < self.retries:
                    self._sleep(wait)
        raise FeedError(f"{where}: {last_error}")

    def _download(self, client: httpx.Client, url: str, where: str) -> tuple[httpx.Response, bytes]:
        """One GET: the response and, when it succeeded, its body — within `timeout_s` in all
        and `max_bytes` at most (FeedError beyond: a retry would not shrink the feed)."""
        deadline = time.monotonic() + self.timeout_s
        with client.stream("GET", url) as response:
            if response.status_code >= 400:
                return response, b""
            try:
                return response, read_body(response, deadline=deadline, max_bytes=self.max_bytes)
            except BodyTooLargeError as error:
                raise FeedError(f"{where}: {error}") from None

    def read(self, url: str) -> list[FeedItem]:
        return parse_feed(self.fetch(url), redacted(url))


def _links(entry: Mapping[str, Any]) -> tuple[FeedLink, ...]:
    links: list[FeedLink] = []
    seen: set[tuple[str, str | None]] = set()

    def add(href: Any, rel: Any = None, type_: Any = None) -> None:
        if not isinstance(href, str) or not href.strip():
            return
        link = FeedLink(href.strip(), rel if isinstance(rel, str) else None, type_ or None)
        if (link.href, link.rel) not in seen:
            seen.add((link.href, link.rel))
            links.append(link)

    for link in entry.get("links") or ():
        add(link.get("href"), link.get("rel"), link.get("type"))
    for enclosure in entry.get("enclosures") or ():
        add(enclosure.get("href"), "enclosure", enclosure.get("type"))
    add(entry.get("link"), "alternate")
    for key, value in entry.items():
        if key.endswith("_magneturi"):  # <torrent:magnetURI> (EZTV-style), whatever the prefix
            add(value, "magnet")
    return tuple(links)


def _info_hashes(entry: Mapping[str, Any]) -> tuple[str, ...]:
    # feedparser names foreign elements <prefix>_<name>, lowercased, with the document's prefix.
    return tuple(
        value.strip()
        for key, value in entry.items()
        if (key.endswith("_infohash") or key.endswith("_info_hash"))
        and isinstance(value, str)
        and value.strip()
    )


def parse_feed(content: bytes, where: str = "feed") -> list[FeedItem]:
    """The items of an RSS or Atom document; raises FeedError when it is not a feed."""
    import feedparser

    parsed = feedparser.parse(content, sanitize_html=False, resolve_relative_uris=False)
    entries: Sequence[Mapping[str, Any]] = parsed.get("entries") or []
    if not parsed.get("version") and not entries:
        problem = parsed.get("bozo_exception")
        detail = f" ({problem})" if problem else ""
        raise FeedError(f"{where}: not an RSS or Atom feed{detail}")
    items = []
    for entry in entries:
        title = entry.get("title")
        show = entry.get("tv_show_name")
        items.append(
            FeedItem(
                title=title.strip() if isinstance(title, str) and title.strip() else None,
                links=_links(entry),
                info_hashes=_info_hashes(entry),
                show_name=show.strip() if isinstance(show, str) and show.strip() else None,
            )
        )
    return items
