"""Torrent identity, written once: the info-hash as `atp.media.hash` holds it, and magnet links.

The feed step reads hashes and magnets, step 07 builds a magnet from a stored hash, the stores
and the operator jobs check hashes: all of them import this module, so the rule of what a hash
is cannot differ between them (the CHECK `media_hash_lowercase_hex` of `atp.media`, compared
with `HASH_PATTERN` by tests/automatic_transmission/test_limits.py).
"""

import base64
import binascii
import re
from urllib.parse import parse_qs, quote, urlsplit

# A BitTorrent v1 info-hash as the database stores it: 40 lowercase hex digits.
HASH_PATTERN = re.compile(r"^[0-9a-f]{40}$")
_HEX40 = re.compile(HASH_PATTERN.pattern, re.IGNORECASE)
_BASE32 = re.compile(r"^[A-Za-z2-7]{32}$")  # the other spelling magnets use (20 bytes)
MAGNET_SCHEME = "magnet:"
_BTIH = "urn:btih:"


def is_info_hash(value: str) -> bool:
    """`value` is a hash as stored: 40 lowercase hex digits, nothing else."""
    return HASH_PATTERN.match(value) is not None


def normalise_info_hash(value: str) -> str | None:
    """A BitTorrent v1 info-hash as 40 lowercase hex: from 40 hex digits or 32 base32 chars."""
    value = value.strip()
    if _HEX40.match(value):
        return value.lower()
    if _BASE32.match(value):
        try:
            return base64.b32decode(value.upper()).hex()
        except (binascii.Error, ValueError):
            return None
    return None


def is_magnet(href: str) -> bool:
    return href.lower().startswith(MAGNET_SCHEME)


def magnet_info_hash(magnet: str) -> str | None:
    """The info-hash of the first `xt=urn:btih:` of a magnet link."""
    for topic in parse_qs(urlsplit(magnet).query).get("xt", []):
        if topic.lower().startswith(_BTIH):
            return normalise_info_hash(topic[len(_BTIH) :])
    return None


def magnet_name(magnet: str) -> str | None:
    """The display name (`dn=`) of a magnet link, if it has one."""
    names = parse_qs(urlsplit(magnet).query).get("dn", [])
    if not names:
        return None
    return names[0].strip() or None


def build_magnet(info_hash: str, name: str) -> str:
    """A magnet of a stored hash with its name (no trackers: the daemon finds peers by DHT)."""
    return f"{MAGNET_SCHEME}?xt={_BTIH}{info_hash}&dn={quote(name)}"
