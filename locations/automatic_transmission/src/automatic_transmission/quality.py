"""Quality: what a release is worth to the household, from `quality.yaml`.

A quality is a resolution and a source group (`1080p WEB-DL`), read from the columns parsing
fills (`resolution`, `upload_type`): a plain `WEB` release is WEB-DL, BDRip/BRRip/REMUX are
BluRay, HDTV/PDTV are HDTV. The ladder of each kind (`movie`, `tv`) lists the wanted qualities
best first; a quality not on it is not wanted. `cutoff`: once the library holds a release at
least that good, only a PROPER/REPACK of the same quality replaces it; `upgrades: false`: nothing
replaces a held release but such a fix.

    movie:
      qualities: [2160p BluRay, 1080p BluRay, 1080p WEB-DL]
      cutoff: 1080p BluRay
      upgrades: true
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, model_validator

from automatic_transmission.model import MediaType
from automatic_transmission.settings import config_dir
from dagstributor_shared.config_files import read_yaml, validated

QUALITY_FILE = "quality.yaml"
KINDS = ("movie", "tv")
RESOLUTIONS = ("2160p", "1080p", "720p", "576p", "480p")
SOURCES = ("BluRay", "WEB-DL", "WEBRip", "HDTV", "DVD")
# What parsing writes to upload_type (parsett's words), by source group; the key is case-folded.
_SOURCE_OF = {
    "bluray": "BluRay", "bdrip": "BluRay", "brrip": "BluRay", "remux": "BluRay",
    "bluray remux": "BluRay", "web-dl": "WEB-DL", "web": "WEB-DL", "webdl": "WEB-DL",
    "webrip": "WEBRip", "web-rip": "WEBRip", "hdtv": "HDTV", "pdtv": "HDTV", "hdtvrip": "HDTV",
    "tvrip": "HDTV", "dvd": "DVD", "dvdrip": "DVD", "dvd-r": "DVD",
}  # fmt: skip
_HEIGHT = re.compile(r"^(\d{3,4})[pi]$")


class QualityConfigError(ValueError):
    """quality.yaml is missing or malformed; the message names the file and the key."""


def resolution_class(resolution: str | None) -> str | None:
    """The ladder's resolution of a parsed one (`1088p` -> `1080p`, `4k` -> `2160p`)."""
    if not resolution:
        return None
    low = resolution.strip().lower()
    if low in ("4k", "uhd"):
        return "2160p"
    match = _HEIGHT.match(low)
    if not match:
        return None
    height = int(match.group(1))
    for floor, name in ((1800, "2160p"), (900, "1080p"), (650, "720p"), (540, "576p")):
        if height >= floor:
            return name
    return "480p"


def source_group(upload_type: str | None) -> str | None:
    """The source group of a parsed upload_type; an unknown source keeps its own name (CAM,
    TeleSync ...), which no shipped ladder lists."""
    if not upload_type or not upload_type.strip():
        return None
    return _SOURCE_OF.get(upload_type.strip().casefold(), upload_type.strip())


def quality_of(resolution: str | None, upload_type: str | None) -> str | None:
    """`<resolution> <source group>`, or None when the name says neither well enough. A DVD
    without a resolution is 480p (that is what a DVD holds)."""
    source = source_group(upload_type)
    height = resolution_class(resolution)
    if source == "DVD" and height is None:
        height = "480p"
    if source is None or height is None:
        return None
    return f"{height} {source}"


def kind_of(media_type: MediaType) -> str:
    """The ladder a media type is ranked on."""
    return "tv" if media_type.is_tv else "movie"


@dataclass(frozen=True)
class Ladder:
    """One kind's qualities, best first, its cutoff and whether upgrades are wanted."""

    qualities: tuple[str, ...]
    cutoff: str
    upgrades: bool = True

    def rank(self, quality: str | None) -> int | None:
        """0 for the best quality; None for a quality that is not wanted."""
        try:
            return self.qualities.index(quality) if quality else None
        except ValueError:
            return None

    @property
    def cutoff_rank(self) -> int:
        return self.qualities.index(self.cutoff)


@dataclass(frozen=True)
class QualityProfile:
    """The ladders by kind (`movie`, `tv`)."""

    movie: Ladder
    tv: Ladder

    def ladder(self, media_type: MediaType) -> Ladder:
        return self.tv if media_type.is_tv else self.movie


Quality = Annotated[StrictStr, Field(pattern=r"^\S+ \S+$")]


class LadderSpec(BaseModel):
    """One kind's keys as the file gives them."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    qualities: Annotated[list[Quality], Field(min_length=1)]
    cutoff: StrictStr
    upgrades: StrictBool = True

    @model_validator(mode="after")
    def _consistent(self) -> LadderSpec:
        for quality in self.qualities:
            height, source = quality.split(" ")
            if height not in RESOLUTIONS or source not in SOURCES:
                raise ValueError(
                    f"qualities: {quality!r} is not <resolution> <source> "
                    f"(resolutions {', '.join(RESOLUTIONS)}; sources {', '.join(SOURCES)})"
                )
        repeated = sorted({q for q in self.qualities if self.qualities.count(q) > 1})
        if repeated:
            raise ValueError(f"qualities: {', '.join(repeated)} listed twice")
        if self.cutoff not in self.qualities:
            raise ValueError(f"cutoff {self.cutoff!r} is not one of the qualities")
        return self


MESSAGES = {
    "extra_forbidden": "unknown key(s) {keys}",
    "missing": "{field} is required",
    "model_type": "expected a mapping of {field}",
    "qualities": "qualities must be a non-empty list of '<resolution> <source>'",
    "qualities[]": "qualities holds {value!r}, not '<resolution> <source>'",
    "cutoff": "cutoff must be one quality, got {value!r}",
    "upgrades": "upgrades must be true or false, got {value!r}",
}


def load_quality(directory: str | Path | None = None) -> QualityProfile:
    """The ladders of `quality.yaml` (in `config/automatic_transmission/` unless `directory`)."""
    path = config_dir(directory) / QUALITY_FILE
    document = read_yaml(path, QualityConfigError, "a ladder for movie and tv")
    if not isinstance(document, dict):
        raise QualityConfigError(f"{path}: expected a mapping with the keys {', '.join(KINDS)}")
    unknown = sorted(str(k) for k in document if k not in KINDS)
    if unknown:
        raise QualityConfigError(f"{path}: unknown key(s) {', '.join(unknown)} (known: movie, tv)")
    for kind in KINDS:
        if kind not in document:
            raise QualityConfigError(f"{path}: {kind} is required")
    ladders = {
        kind: validated(LadderSpec, document[kind], f"{path}: {kind}", QualityConfigError, MESSAGES)
        for kind in KINDS
    }
    return QualityProfile(
        *(
            Ladder(tuple(spec.qualities), spec.cutoff, spec.upgrades)
            for spec in (ladders["movie"], ladders["tv"])
        )
    )
