"""Torrent identity (automatic_transmission.torrents): hashes normalised to 40 lowercase hex,
magnets read and built; the one rule the feed step, the stores and step 07 share."""

from __future__ import annotations

import pytest

from automatic_transmission.torrents import (
    build_magnet,
    is_info_hash,
    is_magnet,
    magnet_info_hash,
    magnet_name,
    normalise_info_hash,
)
from tests.support.feeds import base32_hash, info_hash, magnet

H = info_hash


NORMALISED = {
    "hex": (H(1), H(1)),
    "upper-hex": (H(1).upper(), H(1)),
    "padded": (f"  {H(1)}\n", H(1)),
    "base32": (base32_hash(H(1)), H(1)),
    "lower-base32": (base32_hash(H(1)).lower(), H(1)),
    "short": (H(1)[:39], None),
    "long": (H(1) + "0", None),
    "not-hex": ("g" * 40, None),
    "bad-base32": (base32_hash(H(1))[:31] + "1", None),
    "empty": ("", None),
}


@pytest.mark.parametrize(("text", "expected"), NORMALISED.values(), ids=NORMALISED.keys())
def test_info_hash_is_normalised_to_40_lowercase_hex(text: str, expected: str | None) -> None:
    assert normalise_info_hash(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [(H(1), True), (H(1).upper(), False), (base32_hash(H(1)), False), (H(1)[:39], False)],
    ids=["stored-form", "upper", "base32", "short"],
)
def test_only_the_stored_form_is_an_info_hash(text: str, expected: bool) -> None:
    assert is_info_hash(text) is expected


@pytest.mark.parametrize(("text", "expected"), NORMALISED.values(), ids=NORMALISED.keys())
def test_a_magnets_hash_is_normalised_like_any_other(text: str, expected: str | None) -> None:
    assert magnet_info_hash(magnet(text, "Heat 1995")) == expected


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        (f"MAGNET:?XT=URN:BTIH:{H(1)}", None),  # query keys are case-sensitive: no `xt`
        (f"magnet:?xt=URN:BTIH:{H(1)}", H(1)),
        (f"magnet:?xt=urn:btmh:1220abcd&xt=urn:btih:{H(2)}", H(2)),
        ("magnet:?xt=urn:btmh:1220abcd", None),
        ("magnet:?dn=nothing", None),
    ],
    ids=["upper-keys", "upper-urn", "first-btih", "v2-only", "no-topic"],
)
def test_magnet_info_hash_reads_the_first_btih_topic(link: str, expected: str | None) -> None:
    assert magnet_info_hash(link) == expected


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        (magnet(H(1), "Heat 1995 1080p"), "Heat 1995 1080p"),
        (f"magnet:?xt=urn:btih:{H(1)}&dn=+", None),
        (magnet(H(1)), None),
    ],
    ids=["named", "blank", "unnamed"],
)
def test_magnet_name_is_the_display_name(link: str, expected: str | None) -> None:
    assert magnet_name(link) == expected


@pytest.mark.parametrize("name", ["The Matrix 1999 1080p", "Amélie & Co: 100% [x264]", "a&dn=b"])
def test_a_built_magnet_reads_back_as_its_hash_and_name(name: str) -> None:
    link = build_magnet(H(3), name)
    assert link.startswith(f"magnet:?xt=urn:btih:{H(3)}&dn=")
    assert is_magnet(link)
    assert (magnet_info_hash(link), magnet_name(link)) == (H(3), name)


def test_a_built_magnet_is_the_form_step_07_has_always_sent() -> None:
    assert build_magnet(H(4), "The Matrix 1999") == (
        f"magnet:?xt=urn:btih:{H(4)}&dn=The%20Matrix%201999"
    )


@pytest.mark.parametrize(
    ("href", "expected"),
    [("magnet:?xt=x", True), ("MAGNET:?xt=x", True), ("https://h/a.torrent", False), ("", False)],
)
def test_is_magnet_is_the_scheme_in_any_case(href: str, expected: bool) -> None:
    assert is_magnet(href) is expected
