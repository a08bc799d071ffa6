"""Feeds: fetch an RSS/Atom feed over HTTP (httpx, with a timeout) and read its items (feedparser).

This module knows HTTP and feed formats, not the pipeline: it returns each item's title, links
and info-hash elements; which hash and link the pipeline keeps is decided in `steps/rss_ingest.py`.
httpx and feedparser are imported where they are used (the code location starts fast).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import dagster as dg

from automatic_transmission.clients.http import (
    Answer,
    BodyTooLargeError,
    HttpTransport,
    LastingServiceError,
    RetryPolicy,
    ServiceError,
    Sleep,
    status_error,
)
from automatic_transmission.model import ReleaseFacts
from automatic_transmission.settings import setting, unset_settings

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
    facts: ReleaseFacts | None = None  # what a Torznab indexer said (clients/torznab.py)


def redacted(url: str) -> str:
    """A feed URL safe for logs and run metadata: personal feed URLs carry keys in the query."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}"


class FeedClient:
    """Reads feeds over the one HttpTransport (clients/http.py): transient failures (timeout,
    refused connection, 429, 5xx) are retried `retries` times with backoff; 429 honours
    `Retry-After` up to `max_retry_after_s`. One attempt gets `timeout_s` in all (connect,
    headers, body) and a body larger than `max_bytes` is refused before it fills the memory."""

    def __init__(
        self,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        retries: int = 1,
        backoff_s: float = 1.0,
        max_retry_after_s: float = 60.0,
        sleep: Sleep = time.sleep,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.http = HttpTransport(
            "feed",
            timeout_s=timeout_s,
            max_body_bytes=max_bytes,
            retry=RetryPolicy(retries, backoff_s, max_retry_after_s=max_retry_after_s),
            headers={"User-Agent": USER_AGENT},
            sleep=sleep,
        )

    def fetch(self, url: str) -> bytes:
        """The feed document's bytes; raises FeedError when the feed cannot be read."""
        where = redacted(url)

        def decode(answer: Answer) -> bytes | ServiceError:
            if answer.status >= 400:
                return status_error("feed", where, answer)
            if isinstance(answer.content, BodyTooLargeError):
                return LastingServiceError("feed", where, str(answer.content))
            return answer.content

        try:
            return self.http.send("GET", url, where, decode)
        except ServiceError as error:
            raise FeedError(f"{where}: {error.detail}") from None

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


_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)""")


def repaired_utf8(content: bytes) -> bytes:
    """A UTF-8 document (declared, or by XML's default) with some invalid bytes: only those
    bytes become U+FFFD. Left to itself, feedparser would read the whole document as another
    encoding and garble every valid non-ASCII title of the feed. A document declaring another
    encoding is returned as it is."""
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        declared = _DECLARED_ENCODING.match(content)
        if declared and declared.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
            return content
        return content.decode("utf-8", errors="replace").encode("utf-8")
    return content


def parse_feed(content: bytes, where: str = "feed") -> list[FeedItem]:
    """The items of an RSS or Atom document; raises FeedError when it is not a feed."""
    import feedparser

    parsed = feedparser.parse(
        repaired_utf8(content), sanitize_html=False, resolve_relative_uris=False
    )
    entries: Sequence[Mapping[str, Any]] = parsed.get("entries") or []
    if not parsed.get("version") and not entries:
        problem = parsed.get("bozo_exception")
        detail = f" ({problem})" if problem else ""
        raise FeedError(f"{where}: not an RSS or Atom feed{detail}")
    items = []
    for entry in entries:
        title = entry.get("title")
        items.append(
            FeedItem(
                title=title.strip() if isinstance(title, str) and title.strip() else None,
                links=_links(entry),
                info_hashes=_info_hashes(entry),
            )
        )
    return items


RSS_SOURCES_VAR = "AT_RSS_SOURCES"
RSS_URLS_VAR = "AT_RSS_URLS"
TORZNAB_URLS_VAR = "AT_TORZNAB_URLS"  # the Torznab indexers (clients/torznab.py)


class FeedsResource(dg.ConfigurableResource):
    """The RSS feeds: labels (AT_RSS_SOURCES) and URLs (AT_RSS_URLS), comma lists matched by
    position and checked when the step starts; and how feeds are fetched."""

    sources: str | None = None
    urls: str | None = None
    timeout_s: float = 30.0
    retries: int = 1
    backoff_s: float = 1.0

    def configured(self) -> tuple[str, str]:
        """(labels, URLs) as given: explicit fields win (tests), else the variables."""
        return (str(setting(self.sources, RSS_SOURCES_VAR, "")),
                str(setting(self.urls, RSS_URLS_VAR, "")))  # fmt: skip

    def missing_settings(self) -> list[str]:
        """AT_RSS_SOURCES/AT_RSS_URLS, unless Torznab indexers (AT_TORZNAB_URLS) are set or the
        fields were given explicitly: RSS feeds are optional beside indexers (step 01 then fails
        naming both variables when neither gives a feed)."""
        if setting(None, TORZNAB_URLS_VAR, "") or (
            self.sources is not None and self.urls is not None
        ):
            return []
        return unset_settings({RSS_SOURCES_VAR: self.sources, RSS_URLS_VAR: self.urls})

    def client(self) -> FeedClient:

        return FeedClient(timeout_s=self.timeout_s, retries=self.retries, backoff_s=self.backoff_s)
