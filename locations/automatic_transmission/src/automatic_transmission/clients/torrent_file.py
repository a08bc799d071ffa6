"""The BitTorrent v1 info-hash of a `.torrent` file: SHA-1 of the bencoded `info` value's bytes.

The hash is taken over the bytes exactly as the file holds them (re-encoding a decoded dict would
give another hash for a file that is not canonically encoded), so this reader only walks the
bencode structure to find where `info` starts and ends; it builds no values. A tiny walker rather
than a dependency: no well-kept bencode package gives the raw span of a value.
"""

from __future__ import annotations

import hashlib

MAX_DEPTH = 64  # a real torrent nests a few levels; deeper is garbage or an attack


class TorrentFileError(ValueError):
    """The bytes are not a bencoded dictionary with an `info` dictionary."""


def _skip(data: bytes, at: int, depth: int = 0) -> int:
    """The index just past the bencoded value that starts at `at`."""
    if depth > MAX_DEPTH:
        raise TorrentFileError("nested too deeply")
    if at >= len(data):
        raise TorrentFileError("ends inside a value")
    lead = data[at : at + 1]
    if lead == b"i":
        end = data.find(b"e", at)
        if end < 0 or not data[at + 1 : end].lstrip(b"-").isdigit():
            raise TorrentFileError(f"a malformed integer at byte {at}")
        return end + 1
    if lead in (b"l", b"d"):
        at += 1
        while data[at : at + 1] != b"e":
            at = _skip(data, at, depth + 1)
        return at + 1
    if lead.isdigit():
        colon = data.find(b":", at)
        if colon < 0 or not data[at:colon].isdigit():
            raise TorrentFileError(f"a malformed string length at byte {at}")
        end = colon + 1 + int(data[at:colon])
        if end > len(data):
            raise TorrentFileError("ends inside a string")
        return end
    raise TorrentFileError(f"an unexpected byte {lead!r} at {at}")


def _string(data: bytes, at: int) -> tuple[bytes, int]:
    end = _skip(data, at)
    colon = data.find(b":", at)
    return data[colon + 1 : end], end


def info_hash(data: bytes) -> str:
    """The v1 info-hash (40 lowercase hex) of a `.torrent` file's bytes; TorrentFileError when
    they are not a torrent."""
    if data[:1] != b"d":
        raise TorrentFileError("not a bencoded dictionary (not a .torrent file)")
    at = 1
    while data[at : at + 1] != b"e":
        if not data[at : at + 1].isdigit():
            raise TorrentFileError(f"a dictionary key that is not a string at byte {at}")
        key, at = _string(data, at)
        end = _skip(data, at)
        if key == b"info":
            if data[at : at + 1] != b"d":
                raise TorrentFileError("`info` is not a dictionary")
            return hashlib.sha1(data[at:end]).hexdigest()
        at = end
    raise TorrentFileError("no `info` dictionary")
