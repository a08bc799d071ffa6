"""Resolution, video and audio codec and source, normalised to the column values the package
docstring lists (a value longer than its column is dropped)."""

from __future__ import annotations

import re
from typing import Any

from automatic_transmission.parsing.patterns import (
    _AUDIO_NAMES,
    _CODEC_H,
    _CODEC_X,
    _DIVX,
    _DTS_X,
    _MPEG2,
    _RES_ANY,
    _RES_TOKEN,
    _RES_WXH,
    _UPLOAD_TYPES,
    _WIDTH_CLASS,
)


def _height(width: int, height: int) -> int:
    """The resolution class of a WxH frame: standard widths win (3840x1632 is 2160p)."""
    return _WIDTH_CLASS.get(width, height)


def _resolution(name: str, found: Any) -> str | None:
    """``<height>p`` from parsett's answer, else from a WxH or ``<N>p`` in the name; an
    explicit ``<N>p`` in the name beats a value parsett read from a word ("-FHD" group)."""
    explicit = [int(h) for h in _RES_TOKEN.findall(name) if 240 <= int(h) <= 4320]
    if explicit and isinstance(found, str) and not _RES_WXH.search(name):
        digits = re.findall(r"\d{3,4}", found)
        if found.lower() not in ("4k", "uhd") and not (digits and int(digits[-1]) in explicit):
            return f"{max(explicit)}p"
    if isinstance(found, str):
        low = found.lower()
        if low in ("4k", "uhd", "2160"):
            return "2160p"
        wxh = _RES_WXH.search(low)
        if wxh:
            return f"{_height(int(wxh.group(1)), int(wxh.group(2)))}p"
        digits = re.findall(r"\d{3,4}", low)
        if digits:
            return f"{digits[-1]}p"
    wxh = _RES_WXH.search(name)
    if wxh and 240 <= int(wxh.group(2)) <= 4320:
        return f"{_height(int(wxh.group(1)), int(wxh.group(2)))}p"
    any_res = _RES_ANY.search(name)
    if any_res:
        return "2160p" if any_res.group(2) else f"{any_res.group(1)}p"
    return None


def _video_codec(name: str, found: Any) -> str | None:
    x = _CODEC_X.search(name)
    if x:
        return f"x26{x.group(1)}"
    h = _CODEC_H.search(name)
    if h:
        return f"h26{h.group(1)}"
    if found == "avc":
        return "h264"
    if found == "hevc":
        return "h265"
    if found == "xvid":
        return "divx" if _DIVX.search(name) and not re.search("xvid", name, re.I) else "xvid"
    if found == "mpeg":
        return "mpeg2" if _MPEG2.search(name) else "mpeg"
    return found if isinstance(found, str) else None


def _audio_codec(name: str, found: Any) -> str | None:
    if not isinstance(found, list):
        return None
    names = [_AUDIO_NAMES[a] for a in found if a in _AUDIO_NAMES]
    core = [a for a in names if a != "Atmos"]
    pick = core[0] if core else (names[0] if names else None)
    if pick == "DTS-HD MA" and _DTS_X.search(name):
        return "DTS-X"
    return pick


def _upload_type(found: Any) -> str | None:
    if not isinstance(found, str):
        return None
    return _UPLOAD_TYPES.get(found, found)


def _fit(value: Any, width: int) -> str | None:
    """The value as a string if it fits its column, else None."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value if value and len(value) <= width else None
