"""A Torznab indexer on 127.0.0.1 in the shape of Prowlarr or Jackett, on a FakeHttpServer.

It answers `t=caps`, the feed (`t=search` without `q`) and searches (`q`, `imdbid`, `tvdbid`,
`season`, `ep`) with the items of its releases, checks the API key (`<error code="100">`
otherwise), and serves each release's `.torrent` behind its download link, a proxy URL carrying
the key as the real ones do. The two formats differ where the projects differ:

- Prowlarr: API `/<id>/api`; download links `/<id>/download?apikey=KEY&link=...&file=...`;
  `<prowlarrindexer>`; the IMDb id as `imdb` with seven digits and no `tt`; a magnet-only
  release's download link answers with a redirect to the magnet.
- Jackett: API `/api/v2.0/indexers/<id>/results/torznab/api`; download links
  `/dl/<id>/?jackett_apikey=KEY&path=...`; `<jackettindexer>`; `imdbid` with `tt`; a magnet-only
  release has the magnet itself as `<link>` and enclosure.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote, urlencode
from xml.sax.saxutils import escape, quoteattr

from tests.support.feeds import magnet
from tests.support.http import FakeHttpServer, Reply, Request

Flavour = Literal["prowlarr", "jackett"]
_XML = {"Content-Type": "application/rss+xml; charset=utf-8"}


def bencode(value: object) -> bytes:
    """Bencoding of ints, bytes/str, lists and dicts (keys sorted): what `.torrent` files hold."""
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, list):
        return b"l" + b"".join(bencode(v) for v in value) + b"e"
    if isinstance(value, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in value.items())
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in items) + b"e"
    raise TypeError(type(value))


def torrent_file(name: str, length: int = 100_000) -> tuple[bytes, str]:
    """A valid single-file `.torrent` and its info-hash (SHA-1 of the bencoded info dict)."""
    pieces = -(-length // 16384)
    info = {
        "name": name,
        "length": length,
        "piece length": 16384,
        "pieces": hashlib.sha1(name.encode()).digest() * pieces,
    }
    data = bencode({"announce": "udp://tracker.example.invalid:1337", "info": info})
    return data, hashlib.sha1(bencode(info)).hexdigest()


@dataclass
class Release:
    """One release an indexer lists. `infohash` False: no `infohash` attribute (the hash is in
    the magnet, or only in the `.torrent`); `magnet_only`: no `.torrent` at all."""

    title: str
    category: int = 2000
    seeders: int | None = 50
    peers: int | None = 60
    size: int = 2_000_000_000
    imdb: str | None = None  # `tt0133093`; written as each flavour writes it
    tmdb: int | None = None
    tvdb: int | None = None
    season: int | None = None
    episode: int | None = None
    infohash: bool = True
    magneturl: bool = True
    magnet_only: bool = False
    minimum_ratio: float | None = None
    minimum_seed_time: int | None = None
    download_volume_factor: float | None = 1.0
    torrent: bytes = b""
    hash: str = ""

    def __post_init__(self) -> None:
        if not self.torrent:
            self.torrent, self.hash = torrent_file(self.title)


def caps_xml(
    movie: str | None = "q,imdbid,tmdbid", tv: str | None = "q,season,ep,imdbid,tvdbid"
) -> str:
    """A `t=caps` answer; `movie`/`tv`: the supported parameters of movie-search and tv-search
    (None: the function is not available), as indexers differ in them."""

    def function(tag: str, params: str | None) -> str:
        if params is None:
            return f'    <{tag} available="no" supportedParams="q" />'
        return f'    <{tag} available="yes" supportedParams="{params}" />'

    return f"""<?xml version="1.0" encoding="UTF-8"?>
<caps>
  <server title="Example" />
  <limits default="100" max="100" />
  <searching>
    <search available="yes" supportedParams="q" />
{function("tv-search", tv)}
{function("movie-search", movie)}
  </searching>
  <categories>
    <category id="2000" name="Movies"><subcat id="2040" name="Movies/HD" /></category>
    <category id="5000" name="TV"><subcat id="5040" name="TV/HD" /></category>
  </categories>
</caps>"""


@dataclass
class TorznabIndexer:
    """One indexer of `flavour` served by `http` (several may share one server)."""

    http: FakeHttpServer
    flavour: Flavour = "prowlarr"
    api_key: str = "0123456789abcdef0123456789abcdef"
    indexer_id: str = "1"
    releases: list[Release] = field(default_factory=list)
    caps: str = field(default_factory=caps_xml)

    def __post_init__(self) -> None:
        self.http.route("GET", self.api_path, self._api)
        self.http.route("GET", self.download_path, self._download)

    @property
    def api_path(self) -> str:
        if self.flavour == "prowlarr":
            return f"/{self.indexer_id}/api"
        return f"/api/v2.0/indexers/{self.indexer_id}/results/torznab/api"

    @property
    def download_path(self) -> str:
        if self.flavour == "prowlarr":
            return f"/{self.indexer_id}/download"
        return f"/dl/{self.indexer_id}/"

    @property
    def url(self) -> str:
        """The API URL as Prowlarr and Jackett show it: with the key."""
        return f"{self.http.url}{self.api_path}?apikey={self.api_key}"

    def api_calls(self) -> list[Request]:
        return self.http.calls(self.api_path)

    def download_calls(self) -> list[Request]:
        return self.http.calls(self.download_path)

    def rate_limited(self, retry_after_s: int = 3600, *, in_body: bool = False) -> None:
        """Every API request answers 429 from now on: HTTP 429 with Retry-After, or (in_body)
        HTTP 200 with a Torznab `<error code="429">` as Prowlarr sends for a request limit."""
        if in_body:
            body = '<?xml version="1.0" encoding="UTF-8"?>\n<error code="429" description="Request limit reached" />'
            self.http.queue("GET", self.api_path, Reply(200, body, _XML))
        else:
            headers = {**_XML, "Retry-After": str(retry_after_s)}
            self.http.queue("GET", self.api_path, Reply(429, "Too Many Requests", headers))

    def gone(self) -> None:
        """Every API request answers 410 (Prowlarr: the indexer is disabled for now)."""
        self.http.queue("GET", self.api_path, Reply(410, "Gone"))

    # --- answers ---------------------------------------------------------------------------

    def _api(self, request: Request) -> Reply:
        if request.param("apikey") != self.api_key:
            return Reply(200, _error(100, "Invalid API Key"), _XML)
        function = request.param("t")
        if function == "caps":
            return Reply(200, self.caps, _XML)
        if function not in ("search", "movie", "tvsearch"):
            return Reply(200, _error(202, f"No such function ({function})"), _XML)
        found = [r for r in self.releases if self._matches(r, request)]
        return Reply(200, self.feed(found), _XML)

    def _matches(self, release: Release, request: Request) -> bool:
        wanted_imdb = request.param("imdbid")
        if wanted_imdb and (release.imdb or "").removeprefix("tt") != wanted_imdb.removeprefix(
            "tt"
        ):
            return False
        tvdb = request.param("tvdbid")
        if tvdb and str(release.tvdb) != tvdb:
            return False
        for name, value in (("season", release.season), ("ep", release.episode)):
            asked = request.param(name)
            if asked and str(value) != asked:
                return False
        q = (request.param("q") or "").lower()
        cats = request.param("cat")
        if cats and not any(
            release.category // 1000 == int(c) // 1000 for c in cats.split(",") if c.isdigit()
        ):
            return False
        return all(word in release.title.lower() for word in q.split())

    def _download(self, request: Request) -> Reply:
        key = request.param("apikey" if self.flavour == "prowlarr" else "jackett_apikey")
        if key != self.api_key:
            return Reply(401, "Unauthorized")
        release = next((r for r in self.releases if r.hash == request.param("link")), None)
        if release is None:
            return Reply(404, "Not Found")
        if release.magnet_only:
            return Reply(301, b"", {"Location": magnet(release.hash, release.title)})
        return Reply(200, release.torrent, {"Content-Type": "application/x-bittorrent"})

    def download_link(self, release: Release) -> str:
        """The proxy URL the indexer gives for the release (the key in its query)."""
        if self.flavour == "jackett" and release.magnet_only:
            return magnet(release.hash, release.title)
        name = "apikey" if self.flavour == "prowlarr" else "jackett_apikey"
        query = urlencode({name: self.api_key, "link": release.hash, "file": release.title})
        return f"{self.http.url}{self.download_path}?{query}"

    def item(self, release: Release) -> str:
        link = self.download_link(release)
        attrs: list[tuple[str, object]] = [("category", release.category)]
        for name, value in (
            ("seeders", release.seeders),
            ("peers", release.peers),
            ("tmdbid", release.tmdb),
            ("tvdbid", release.tvdb),
            ("minimumratio", release.minimum_ratio),
            ("minimumseedtime", release.minimum_seed_time),
            ("downloadvolumefactor", release.download_volume_factor),
        ):
            if value is not None:
                attrs.append((name, value))
        if release.imdb and self.flavour == "prowlarr":
            attrs.append(("imdb", release.imdb.removeprefix("tt")))
        elif release.imdb:
            attrs.append(("imdbid", release.imdb))
        if release.infohash:
            attrs.append(("infohash", release.hash.upper()))
        if release.magneturl:
            attrs.append(("magneturl", magnet(release.hash, release.title)))
        tag = "prowlarrindexer" if self.flavour == "prowlarr" else "jackettindexer"
        attr_xml = "\n".join(
            f'      <torznab:attr name="{name}" value={quoteattr(str(value))} />'
            for name, value in attrs
        )
        details = f"https://tracker.example.invalid/details/{quote(release.title)}"
        return f"""
    <item>
      <title>{escape(release.title)}</title>
      <guid>{escape(details)}</guid>
      <{tag} id="{self.indexer_id}" type="public">Example Tracker</{tag}>
      <type>public</type>
      <comments>{escape(details)}</comments>
      <pubDate>Mon, 07 Dec 2026 10:00:00 +0000</pubDate>
      <size>{release.size}</size>
      <description />
      <link>{escape(link)}</link>
      <category>{release.category}</category>
      <enclosure url={quoteattr(link)} length="{release.size}" type="application/x-bittorrent" />
{attr_xml}
    </item>"""

    def feed(self, releases: list[Release]) -> str:
        items = "".join(self.item(r) for r in releases)
        return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:torznab="http://torznab.com/schemas/2015/feed">
  <channel>
    <atom:link href="{escape(self.http.url + self.api_path)}" rel="self" type="application/rss+xml" />
    <title>Example Tracker</title>
    <description>Example Tracker via {self.flavour}</description>
    <link>https://tracker.example.invalid/</link>
    <language>en-US</language>
    <category>search</category>{items}
  </channel>
</rss>"""


def _error(code: int, description: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<error code="{code}" description={quoteattr(description)} />'
