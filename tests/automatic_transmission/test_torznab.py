"""The Torznab client against a Prowlarr- and a Jackett-shaped indexer on 127.0.0.1: the feed
request, every attribute read, errors classified per indexer, the `.torrent` behind a link."""

from __future__ import annotations

import io
from typing import Any

import pytest

from automatic_transmission.clients.http import Answer
from automatic_transmission.clients.torrent_file import TorrentFileError, info_hash
from automatic_transmission.clients.torznab import (
    TorznabClient,
    TorznabConfigError,
    TorznabError,
    TorznabResource,
    Wanted,
    configured_indexers,
    imdb_id,
    parse_caps,
    parse_torznab,
    search_params,
    secret_values,
)
from automatic_transmission.model import MediaType, ReleaseFacts
from dagstributor_shared.scrub import scrub
from tests.support.http import FakeHttpServer, Reply, Sleeps
from tests.support.torznab import (
    Flavour,
    Release,
    TorznabIndexer,
    bencode,
    caps_xml,
    torrent_file,
)

MATRIX = Release(
    "The.Matrix.1999.1080p.BluRay.x264-GRP",
    imdb="tt0133093",
    tmdb=603,
    seeders=50,
    peers=61,
    size=8_123_456_789,
    minimum_ratio=1.0,
    minimum_seed_time=172800,
    download_volume_factor=0.0,
)


def client(sleeps: Sleeps | None = None) -> TorznabClient:
    return TorznabClient(timeout_s=2, retries=1, backoff_s=0, sleep=sleeps or Sleeps())


# --- the format (plain values) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0133093", "tt0133093"),  # Prowlarr: seven digits without tt
        ("133093", "tt0133093"),  # unpadded digits
        ("tt0133093", "tt0133093"),  # Jackett
        ("TT12345678", "tt12345678"),
        ("0", None),
        ("", None),
        (None, None),
        ("tt12", None),
        ("nm0000206", None),
    ],
)
def test_imdb_ids_of_both_spellings_become_tt_ids(value: str | None, expected: str | None) -> None:
    assert imdb_id(value) == expected


@pytest.mark.parametrize("flavour", ["prowlarr", "jackett"])
def test_an_item_gives_title_links_hash_and_every_fact(
    http_server: FakeHttpServer, flavour: Flavour
) -> None:
    indexer = TorznabIndexer(http_server, flavour)
    [item] = parse_torznab(indexer.feed([MATRIX]).encode())

    assert item.title == MATRIX.title
    assert item.info_hashes == (MATRIX.hash.upper(),)
    assert item.facts == ReleaseFacts(
        seeders=50,
        peers=61,
        size_bytes=8_123_456_789,
        categories=(2000,),
        imdb_id="tt0133093",
        tmdb_id=603,
        minimum_ratio=1.0,
        minimum_seed_time=172800,
        download_volume_factor=0.0,
    )
    link = indexer.download_link(MATRIX)
    assert [(x.href, x.type) for x in item.links if x.rel == "enclosure"] == [
        (link, "application/x-bittorrent")
    ]
    assert any(x.href.startswith("magnet:?xt=urn:btih:" + MATRIX.hash) for x in item.links)


def test_missing_and_garbage_attributes_are_unknown_not_errors(http_server: FakeHttpServer) -> None:
    indexer = TorznabIndexer(http_server)
    release = Release("Some.Show.S01E02.720p", category=5040, seeders=None, peers=None)
    xml = indexer.feed([release]).replace('name="tmdbid"', 'name="x"')
    xml = xml.replace(
        'name="downloadvolumefactor" value="1.0"', 'name="downloadvolumefactor" value="nan"'
    )
    [item] = parse_torznab(xml.encode())

    assert item.facts is not None
    assert (item.facts.seeders, item.facts.peers, item.facts.imdb_id) == (None, None, None)
    assert item.facts.download_volume_factor is None
    assert item.facts.category_media_type is MediaType.TV_SHOW


@pytest.mark.parametrize(
    ("code", "transient", "words"),
    [
        ("429", True, "Request limit reached"),
        ("900", True, "Request limit reached"),
        ("100", False, "configuration error"),
        ("201", False, "Torznab error 201"),
    ],
)
def test_a_torznab_error_answer_is_classified(code: str, transient: bool, words: str) -> None:
    xml = f'<?xml version="1.0"?><error code="{code}" description="Request limit reached"/>'
    with pytest.raises(TorznabError) as raised:
        parse_torznab(xml.encode(), "http://prowlarr:9696/1/api")
    assert raised.value.transient is transient
    assert words in str(raised.value)


def test_a_document_that_is_no_torznab_answer_is_an_error() -> None:
    for content in (b"<html><body>login</body></html>", b"{not xml"):
        with pytest.raises(TorznabError, match="not a Torznab answer"):
            parse_torznab(content)


def test_the_configuration_is_a_comma_list_of_http_urls_and_keys_are_secrets() -> None:
    urls = "http://prowlarr:9696/1/api?apikey=abcdef123456, https://j:9117/api?apikey=zzzz9999"
    assert configured_indexers(urls) == [
        "http://prowlarr:9696/1/api?apikey=abcdef123456",
        "https://j:9117/api?apikey=zzzz9999",
    ]
    assert configured_indexers("  ") == []
    with pytest.raises(TorznabConfigError, match="AT_TORZNAB_URLS item 2 is not an http"):
        configured_indexers("http://a/api,prowlarr:9696/api")
    link = "http://j:9117/dl/x/?jackett_apikey=secretkey42&path=abc&file=Name"
    assert secret_values(link) == ["secretkey42"]


def test_the_resource_registers_every_configured_key_with_the_scrubber() -> None:
    key = "f00dfeedcafe4242f00dfeedcafe4242"
    TorznabResource(urls=f"http://127.0.0.1:9/2/api?apikey={key}").client().close()
    assert key not in scrub(f"GET http://j/dl/x/?jackett_apikey={key}&path=1 failed ({key[:12]})")


# --- the .torrent behind a link ---------------------------------------------------------------


def test_the_info_hash_of_a_torrent_file_is_the_sha1_of_its_info_bytes() -> None:
    import torf

    data, expected = torrent_file("Some.Movie.2020.1080p.mkv", length=50_000)
    assert info_hash(data) == expected
    assert info_hash(data) == str(torf.Torrent.read_stream(io.BytesIO(data)).infohash)
    # Not canonically encoded (keys out of order): the hash is of the bytes as they are.
    raw_info = b"d6:lengthi5e4:name1:a12:piece lengthi16384e6:pieces20:" + b"x" * 20 + b"e"
    unsorted = b"d4:info" + raw_info + b"8:announce3:urle"
    import hashlib

    assert info_hash(unsorted) == hashlib.sha1(raw_info).hexdigest()


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"<html>",
        b"d4:infoi1ee",
        b"d8:announce3:urle",
        b"d4:info" + b"d" * 100,
        b"d4:infod3:abc",
    ],
)
def test_what_is_no_torrent_file_is_a_clear_error(data: bytes) -> None:
    with pytest.raises(TorrentFileError):
        info_hash(data)


def test_a_deeply_nested_file_is_refused_not_a_crash() -> None:
    with pytest.raises(TorrentFileError, match="nested too deeply"):
        info_hash(b"d4:info" + b"l" * 5000 + b"e" * 5001)
    assert bencode({"a": [1]}) == b"d1:ali1eee"


@pytest.mark.parametrize("flavour", ["prowlarr", "jackett"])
def test_the_torrent_behind_a_proxy_link_gives_its_hash(
    http_server: FakeHttpServer, flavour: Flavour
) -> None:
    indexer = TorznabIndexer(http_server, flavour, releases=[MATRIX])
    found = client().torrent_hash(indexer.download_link(MATRIX))
    assert (found.hash, found.error) == (MATRIX.hash, None)


def test_a_proxy_link_redirecting_to_a_magnet_gives_the_magnet(http_server: FakeHttpServer) -> None:
    release = Release("Magnet.Only.2021.1080p", magnet_only=True, infohash=False, magneturl=False)
    indexer = TorznabIndexer(http_server, "prowlarr", releases=[release])
    found = client().torrent_hash(indexer.download_link(release))
    assert found.hash is None and found.magnet is not None
    assert release.hash in found.magnet


def test_a_torrent_larger_than_the_cap_or_no_torrent_is_an_error_without_the_key(
    http_server: FakeHttpServer,
) -> None:
    indexer = TorznabIndexer(http_server, releases=[MATRIX])
    small = TorznabClient(timeout_s=2, retries=0, max_torrent_bytes=100)
    too_big = small.torrent_hash(indexer.download_link(MATRIX))
    assert too_big.hash is None and "larger than 100 bytes" in str(too_big.error)
    http_server.route("GET", "/page", Reply(200, "<html>a login page</html>"))
    page = client().torrent_hash(f"{http_server.url}/page?apikey={indexer.api_key}")
    assert "not a .torrent file" in str(page.error)
    for error in (too_big.error, page.error):
        assert indexer.api_key not in str(error)


# --- the feed and its failures ------------------------------------------------------------------


@pytest.mark.parametrize("flavour", ["prowlarr", "jackett"])
def test_the_feed_asks_for_the_newest_movies_and_tv_with_extended_attributes(
    http_server: FakeHttpServer, flavour: Flavour
) -> None:
    show = Release("Show.S01E01.1080p.WEB.h264-GRP", category=5040, tvdb=81189)
    indexer = TorznabIndexer(http_server, flavour, releases=[MATRIX, show])
    items = client().feed(indexer.url)

    assert [i.title for i in items] == [MATRIX.title, show.title]
    [call] = indexer.api_calls()
    assert {k: v[0] for k, v in call.query.items()} == {
        "apikey": indexer.api_key,
        "t": "search",
        "cat": "2000,5000",
        "extended": "1",
    }
    assert items[1].facts is not None and items[1].facts.tvdb_id == 81189


def _content(answer: Answer) -> bytes:
    assert isinstance(answer.content, bytes)
    return answer.content


def test_the_stand_in_answers_caps_and_searches_by_id(http_server: FakeHttpServer) -> None:
    indexer = TorznabIndexer(http_server, "jackett", releases=[MATRIX, Release("Other.2001")])
    torznab = client()
    caps: bytes = torznab.http.send("GET", indexer.url + "&t=caps", "caps", _content)
    assert b"movie-search" in caps
    found = torznab.read(indexer.url + "&t=movie&imdbid=tt0133093")
    assert [i.title for i in found] == [MATRIX.title]


def test_a_429_with_retry_after_is_transient_and_waited_for_when_short(
    http_server: FakeHttpServer,
) -> None:
    indexer = TorznabIndexer(http_server, releases=[MATRIX])
    sleeps = Sleeps()
    indexer.rate_limited(retry_after_s=2)
    with pytest.raises(TorznabError) as raised:
        client(sleeps).feed(indexer.url)
    assert raised.value.transient and "HTTP 429" in str(raised.value)
    assert sleeps.pauses == [2.0]  # honoured once, then left for the next run
    indexer.rate_limited(retry_after_s=3600)
    with pytest.raises(TorznabError, match="too long"):
        client(sleeps).feed(indexer.url)
    assert indexer.api_key not in str(raised.value)


@pytest.mark.parametrize("in_body", [True, False])
def test_an_indexer_that_is_limited_or_gone_is_transient(
    http_server: FakeHttpServer, in_body: bool
) -> None:
    indexer = TorznabIndexer(http_server, releases=[MATRIX])
    if in_body:
        indexer.rate_limited(in_body=True)
    else:
        indexer.gone()
    with pytest.raises(TorznabError) as raised:
        client().feed(indexer.url)
    assert raised.value.transient
    assert ("Torznab error 429" if in_body else "HTTP 410") in str(raised.value)


def test_a_wrong_key_is_a_lasting_configuration_error_naming_no_key(
    http_server: FakeHttpServer,
) -> None:
    indexer = TorznabIndexer(http_server, releases=[MATRIX])
    with pytest.raises(TorznabError) as raised:
        client().feed(indexer.url.replace(indexer.api_key, "wrongkey99"))
    assert not raised.value.transient
    assert "Invalid API Key" in str(raised.value) and "configuration error" in str(raised.value)
    assert "wrongkey99" not in str(raised.value)


# --- searching (the building block of hunting) --------------------------------------------------

FULL = parse_caps(caps_xml().encode())
NAMES_ONLY = parse_caps(caps_xml(movie="q", tv="q,season,ep").encode())
NO_FUNCTIONS = parse_caps(caps_xml(movie=None, tv=None).encode())
MATRIX_WANTED = Wanted("The Matrix", 1999, imdb_id="tt0133093")
EPISODE = Wanted("Severance", 2022, tvdb_id=371980, season=2, episode=3)


@pytest.mark.parametrize(
    ("caps", "wanted", "expected"),
    [
        (FULL, MATRIX_WANTED, {"t": "movie", "imdbid": "0133093", "cat": "2000"}),
        (NAMES_ONLY, MATRIX_WANTED, {"t": "movie", "q": "The Matrix 1999", "cat": "2000"}),
        (NO_FUNCTIONS, MATRIX_WANTED, {"t": "search", "q": "The Matrix 1999", "cat": "2000"}),
        (
            FULL,
            EPISODE,
            {"t": "tvsearch", "tvdbid": "371980", "season": "2", "ep": "3", "cat": "5000"},
        ),
        (
            NAMES_ONLY,
            EPISODE,
            {"t": "tvsearch", "q": "Severance", "season": "2", "ep": "3", "cat": "5000"},
        ),
        (NO_FUNCTIONS, EPISODE, {"t": "search", "q": "Severance S02E03", "cat": "5000"}),
        (
            NO_FUNCTIONS,
            Wanted("Severance", season=1),
            {"t": "search", "q": "Severance S01", "cat": "5000"},
        ),
    ],
)
def test_a_search_goes_by_id_when_the_caps_allow_else_by_name(
    caps: Any, wanted: Wanted, expected: dict[str, str]
) -> None:
    assert search_params(caps, wanted) == expected


@pytest.mark.parametrize("flavour", ["prowlarr", "jackett"])
def test_a_search_by_id_finds_the_release_on_either_indexer(
    http_server: FakeHttpServer, flavour: Flavour
) -> None:
    other = Release("Pulp.Fiction.1994.1080p", imdb="tt0110912")
    indexer = TorznabIndexer(http_server, flavour, releases=[MATRIX, other])
    torznab = client()
    caps = torznab.caps(indexer.url)
    assert caps.supports("movie-search", "imdbid") and not caps.supports("music-search")

    found = torznab.search(indexer.url, caps, MATRIX_WANTED)

    assert [item.title for item in found] == [MATRIX.title]
    assert indexer.api_calls()[-1].param("imdbid") == "0133093"
    assert indexer.api_calls()[-1].param("extended") == "1"


def test_a_search_by_name_when_the_indexer_cannot_search_by_id(
    http_server: FakeHttpServer,
) -> None:
    indexer = TorznabIndexer(
        http_server, releases=[MATRIX, Release("Other.2001")], caps=caps_xml(movie="q", tv=None)
    )
    torznab = client()
    found = torznab.search(indexer.url, torznab.caps(indexer.url), MATRIX_WANTED)
    assert [item.title for item in found] == [MATRIX.title]
    assert indexer.api_calls()[-1].param("q") == "The Matrix 1999"
    with pytest.raises(TorznabError, match="not a caps answer"):
        parse_caps(b"<rss><channel /></rss>")


def test_an_entity_expansion_bomb_is_refused_not_expanded() -> None:
    entities = '<!ENTITY a0 "xxxxxxxxxx">' + "".join(
        f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10)
    )
    bomb = (
        f'<?xml version="1.0"?><!DOCTYPE rss [{entities}]>'
        "<rss><channel><item><title>&a9;</title></item></channel></rss>"
    )
    with pytest.raises(TorznabError, match="not a Torznab answer"):
        parse_torznab(bomb.encode())
