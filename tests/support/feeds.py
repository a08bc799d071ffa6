"""Real-shaped feed documents for tests and benchmarks: YTS (movies), episode feeds (TV, showRSS /
episodefeed.com style, `tv:` elements), EZTV (`torrent:` elements) and Atom.

Shapes follow the live feeds: YTS puts the upper-case hash at the end of the `.torrent` download
URL of its enclosure (no magnet); episode feeds put a magnet in `<link>` and in a torrent-typed
enclosure and add `<tv:info_hash>`; EZTV adds `<torrent:infoHash>` and `<torrent:magnetURI>`
while its enclosure's file name says nothing about the hash.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from urllib.parse import quote
from xml.sax.saxutils import escape, quoteattr

TRACKERS = (
    "udp://tracker.opentrackr.org:1337/announce",
    "udp://open.demonii.com:1337/announce",
)


def info_hash(n: int | str) -> str:
    """A deterministic 40-hex info-hash for test item `n`."""
    return hashlib.sha1(f"item-{n}".encode()).hexdigest()


def base32_hash(hex_hash: str) -> str:
    """The 32-character base32 spelling of a hash, as some magnet links carry it."""
    return base64.b32encode(bytes.fromhex(hex_hash)).decode()


def magnet(hash_text: str, name: str | None = None) -> str:
    link = f"magnet:?xt=urn:btih:{hash_text}"
    if name:
        link += f"&dn={quote(name)}"
    for tracker in TRACKERS:
        link += f"&tr={quote(tracker, safe='')}"
    return link


def _pub_date(n: int) -> str:
    return f"Mon, 06 Nov 2023 {n % 24:02d}:{n % 60:02d}:00 +0000"


# --- YTS ---------------------------------------------------------------------------------------


def yts_item(
    title: str,
    hash_hex: str | None,
    *,
    n: int = 0,
    host: str = "yts.mx",
    quality: str = "1080p",
    download: str | None = None,
) -> str:
    """A YTS movie item of `quality`; `hash_hex=None` gives an enclosure whose URL carries no
    hash; `download` replaces the enclosure URL (a test torrent on 127.0.0.1)."""
    slug = "-".join(title.lower().replace("(", "").replace(")", "").split()[:4])
    download = download or f"https://{host}/torrent/download/" + (
        hash_hex.upper() if hash_hex else f"{slug}.torrent"
    )
    return f"""
    <item>
      <title><![CDATA[{title} [{quality}] [WEBRip] [5.1] [YTS.MX]]]></title>
      <description><![CDATA[<a href="https://{host}/movies/{slug}"><img src="https://img.{host}/assets/images/movies/{slug}/medium-cover.jpg" alt="{title} {quality}" /></a><br />IMDB Rating: 6.8/10<br />Genre: Action / Drama<br />Size: 1.94 GB<br />Runtime: 1hr 58 min<br /><br />A film.]]></description>
      <link>https://{host}/movies/{slug}</link>
      <guid isPermaLink="false">{escape(download)}#{n}</guid>
      <pubDate>{_pub_date(n)}</pubDate>
      <enclosure url={quoteattr(download)} length="2083059712" type="application/x-bittorrent" />
    </item>"""


def yts_feed(items: Iterable[str], host: str = "yts.mx") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
  <channel>
    <title>{host} RSS</title>
    <link>https://{host}/</link>
    <description>{host} RSS</description>
    <atom:link href="https://{host}/rss/0/all/all/0/en" rel="self" type="application/rss+xml" />
    <image>
      <url>https://{host}/assets/images/website/logo-YTS.svg</url>
      <title>{host} RSS</title>
      <link>https://{host}/</link>
    </image>{"".join(items)}
  </channel>
</rss>
"""


# --- episode feeds (episodefeed.com / showRSS style) -------------------------------------------


def episode_item(
    title: str,
    hash_text: str | None,
    *,
    show: str | None = None,
    tv_info_hash: str | None = None,
    n: int = 0,
    torrent_url: str | None = None,
) -> str:
    """A TV episode item: magnet in `<link>` and in the enclosure (when `hash_text` is given;
    `torrent_url` replaces the magnet by a `.torrent` URL), `<tv:show_name>`, and
    `<tv:info_hash>` when given."""
    raw = title.replace(" ", ".")
    link = torrent_url or (
        magnet(hash_text, raw) if hash_text else f"https://episodefeed.com/episode/{n}"
    )
    parts = [
        "\n    <item>",
        f"      <title>{escape(title)}</title>",
        f"      <link>{escape(link)}</link>",
        f'      <guid isPermaLink="false">episode-{n}</guid>',
        f"      <pubDate>{_pub_date(n)}</pubDate>",
        f"      <description>New episode: {escape(title)}</description>",
        f"      <tv:show_id>{1000 + n}</tv:show_id>",
        f"      <tv:show_name>{escape(show or title.split(' S')[0])}</tv:show_name>",
        f"      <tv:episode_id>{5000 + n}</tv:episode_id>",
        f"      <tv:raw_title>{escape(raw)}</tv:raw_title>",
    ]
    if tv_info_hash:
        parts.append(f"      <tv:info_hash>{tv_info_hash}</tv:info_hash>")
    if hash_text:
        parts.append(
            f'      <enclosure url={quoteattr(link)} length="0" type="application/x-bittorrent" />'
        )
    parts.append("    </item>")
    return "\n".join(parts)


def episode_feed(items: Iterable[str]) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:tv="https://episodefeed.com/xml/tv">
  <channel>
    <title>episodefeed.com: my shows</title>
    <link>https://episodefeed.com</link>
    <description>Episodes of the shows you follow</description>
    <ttl>30</ttl>{"".join(items)}
  </channel>
</rss>
"""


# --- EZTV --------------------------------------------------------------------------------------


def eztv_item(title: str, hash_hex: str | None, *, with_magnet: bool = True, n: int = 0) -> str:
    """An EZTV item: `torrent:infoHash` (upper case), optionally `torrent:magnetURI`, and a
    `.torrent` enclosure named after the release, not the hash."""
    file_name = title.replace(" ", ".") + "[eztv].torrent"
    url = f"https://zoink.ch/torrent/{quote(file_name)}"
    parts = [
        "\n    <item>",
        f"      <title>{escape(title)} [eztv]</title>",
        "      <category>TV</category>",
        f"      <link>https://eztv.re/ep/{2000 + n}/</link>",
        f"      <guid>https://eztv.re/ep/{2000 + n}/</guid>",
        f"      <pubDate>{_pub_date(n)}</pubDate>",
        "      <torrent:contentLength>1395864371</torrent:contentLength>",
    ]
    if hash_hex:
        parts.append(f"      <torrent:infoHash>{hash_hex.upper()}</torrent:infoHash>")
        if with_magnet:
            parts.append(
                f"      <torrent:magnetURI><![CDATA[{magnet(hash_hex, title)}]]></torrent:magnetURI>"
            )
    parts += [
        "      <torrent:seeds>12</torrent:seeds>",
        "      <torrent:peers>3</torrent:peers>",
        "      <torrent:verified>0</torrent:verified>",
        f"      <torrent:fileName>{escape(file_name)}</torrent:fileName>",
        f'      <enclosure url={quoteattr(url)} length="1395864371"'
        ' type="application/x-bittorrent" />',
        "    </item>",
    ]
    return "\n".join(parts)


def eztv_feed(items: Iterable[str]) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:torrent="http://xmlns.ezrss.it/0.1/">
  <channel>
    <title>EZTV RSS</title>
    <link>https://eztv.re/</link>
    <description>EZTV RSS Feed</description>{"".join(items)}
  </channel>
</rss>
"""


# --- Atom --------------------------------------------------------------------------------------


def atom_entry(title: str, hash_text: str, *, torrent_url: str | None = None) -> str:
    enclosure = (
        f'<link rel="enclosure" type="application/x-bittorrent" href={quoteattr(torrent_url)}/>'
        if torrent_url
        else ""
    )
    return f"""
  <entry>
    <title>{escape(title)}</title>
    <id>urn:uuid:{hash_text}</id>
    <updated>2023-11-06T12:00:00Z</updated>
    <link rel="alternate" href={quoteattr(magnet(hash_text, title))}/>
    {enclosure}
  </entry>"""


def atom_feed(entries: Iterable[str]) -> str:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>A torrent feed</title>
  <id>urn:uuid:feed</id>
  <updated>2023-11-06T12:00:00Z</updated>{"".join(entries)}
</feed>
"""


def big_yts_feed(count: int, start: int = 0) -> str:
    """A YTS feed of `count` distinct movies (hashes `info_hash(start)` ...)."""
    return yts_feed(
        yts_item(f"Movie Number {i} ({1950 + i % 70})", info_hash(i), n=i)
        for i in range(start, start + count)
    )
