"""Step 07's safety rules: a torrent's file list judged before its data is downloaded, and the
free space a new download needs.

The rules live in `config/automatic_transmission/safety.yaml` (validated when the code location
loads, errors naming the file and the key); the functions here are pure: file names and sizes in,
a reason out.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Annotated

import dagster as dg
from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator

from automatic_transmission.metadata import show_number
from automatic_transmission.model import MediaType
from automatic_transmission.settings import config_dir, number_setting
from dagstributor_shared.config_files import read_yaml, validated

SAFETY_FILE = "safety.yaml"
FAKE_PREFIX = "fake release: "
MB = 1_000_000  # the file's sizes are decimal megabytes, as the free-space setting's gigabytes
GB = 1_000_000_000
WAITING_FOR_SPACE = "waiting for free space"
DEFAULT_FLOOR_KEY = "default"
MEDIA_KINDS = ("movie", "tv")

# A file entry as Transmission lists it: its path inside the torrent and its length in bytes.
FileEntry = tuple[str, int]


class SafetyConfigError(ValueError):
    """safety.yaml is missing or malformed; the message names the file and the key."""


Extensions = Annotated[list[StrictStr], Field(min_length=1)]
Megabytes = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class SizeFloors(BaseModel):
    """min_video_mb: per media kind, a floor per resolution plus `default`."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    movie: dict[str, Megabytes]
    tv: dict[str, Megabytes]

    @field_validator("movie", "tv")
    @classmethod
    def _folded(cls, floors: dict[str, float]) -> dict[str, float]:
        return {key.casefold(): value for key, value in floors.items()}


class SafetyRules(BaseModel):
    """The document of safety.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    blocked_extensions: Extensions
    video_extensions: Extensions
    archive_extensions: Extensions
    min_video_mb: SizeFloors

    def floor_mb(self, media_type: MediaType, resolution: str | None) -> float:
        floors = self.min_video_mb.tv if media_type.is_tv else self.min_video_mb.movie
        return floors.get((resolution or "").casefold(), floors[DEFAULT_FLOOR_KEY])


SAFETY_MESSAGES = {
    "model_type": "expected a mapping of blocked_extensions, video_extensions, "
    "archive_extensions and min_video_mb",
    "extra_forbidden": "unknown key(s) {keys}",
    **{f"{key} missing": "the key {field} is missing" for key in SafetyRules.model_fields},
    "blocked_extensions": "blocked_extensions must be a non-empty list of extensions",
    "video_extensions": "video_extensions must be a non-empty list of extensions",
    "archive_extensions": "archive_extensions must be a non-empty list of extensions",
    "blocked_extensions[]": "blocked_extensions holds {value!r}, not an extension",
    "video_extensions[]": "video_extensions holds {value!r}, not an extension",
    "archive_extensions[]": "archive_extensions holds {value!r}, not an extension",
}


def parse_safety_rules(source: str, document: object) -> SafetyRules:
    """Validate a parsed safety document; errors name `source` and the key."""
    _floor_problem(source, document)
    return validated(SafetyRules, document, source, SafetyConfigError, SAFETY_MESSAGES)


def _floor_problem(source: str, document: object) -> None:
    """min_video_mb's problems worded by their key (`min_video_mb.movie.1080p`)."""
    floors = document.get("min_video_mb") if isinstance(document, Mapping) else None
    if not isinstance(floors, Mapping):
        return
    for kind in MEDIA_KINDS:
        if kind not in floors:
            raise SafetyConfigError(f"{source}: min_video_mb.{kind}: missing (floors in MB)")
    for kind, by_resolution in floors.items():
        where = f"{source}: min_video_mb.{kind}"
        if kind not in MEDIA_KINDS:
            raise SafetyConfigError(
                f"{where}: unknown media kind (one of {', '.join(MEDIA_KINDS)})"
            )
        if not isinstance(by_resolution, Mapping):
            raise SafetyConfigError(f"{where}: expected a mapping of resolution: MB")
        if DEFAULT_FLOOR_KEY not in by_resolution:
            raise SafetyConfigError(
                f"{where}: needs a `{DEFAULT_FLOOR_KEY}` floor (MB) beside the resolutions"
            )
        for resolution, value in by_resolution.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise SafetyConfigError(
                    f"{where}.{resolution}: expected a number of MB (0 or more), got {value!r}"
                )


def load_safety_rules(folder: Path | str | None = None) -> SafetyRules:
    path = config_dir(folder) / SAFETY_FILE
    document = read_yaml(path, SafetyConfigError, "the safety rules (see README)")
    return parse_safety_rules(str(path), document)


def _extension(name: str) -> str:
    """The extension Windows would act on: the last one, trailing dots and spaces ignored."""
    return PurePosixPath(name.rstrip(". ")).suffix.lstrip(".").casefold()


def _matches(extension: str, patterns: Sequence[str]) -> bool:
    return bool(extension) and any(fnmatch.fnmatchcase(extension, p.casefold()) for p in patterns)


def fake_release(
    files: Sequence[FileEntry],
    media_type: MediaType,
    resolution: str | None,
    rules: SafetyRules,
) -> str | None:
    """Why this file list is a fake release (`fake release: <file> ...`), or None when it may be
    downloaded: an executable, shortcut or script anywhere; no video (only archives, or nothing
    playable); a largest video below the floor of its media kind and resolution."""
    names = [(PurePosixPath(path).name, size) for path, size in files]
    for name, _ in names:
        if _matches(_extension(name), rules.blocked_extensions):
            return f"{FAKE_PREFIX}{name}"
    videos = [
        (size, name) for name, size in names if _matches(_extension(name), rules.video_extensions)
    ]
    if not videos:
        archives = [
            (-size, n) for n, size in names if _matches(_extension(n), rules.archive_extensions)
        ]
        if archives:
            return f"{FAKE_PREFIX}{min(archives)[1]} (only archives, no video)"  # the largest
        return f"{FAKE_PREFIX}no video among {len(names)} file(s)"
    size, name = max(videos)
    floor_mb = rules.floor_mb(media_type, resolution)
    if size < floor_mb * MB:
        kind = "tv" if media_type.is_tv else "movie"
        return (
            f"{FAKE_PREFIX}{name} ({show_number(size / MB)} MB, below the floor of"
            f" {show_number(floor_mb)} MB for a {resolution or 'any resolution'} {kind})"
        )
    return None


@dataclass
class SpaceBudget:
    """What new downloads may still take: the free space of Transmission's download folder, less
    what active torrents still have to download, less the reserve (AT_MIN_FREE_SPACE_GB)."""

    free: int
    needed_by_active: int
    reserve: int

    @property
    def available(self) -> int:
        return self.free - self.needed_by_active - self.reserve

    def take(self, size: int) -> str | None:
        """Reserve `size` bytes for a download, or say how much is missing (the budget stays)."""
        missing = size - self.available
        if missing > 0:
            return (
                f"{WAITING_FOR_SPACE}: {gigabytes(missing)} GB missing (needs"
                f" {gigabytes(size)} GB; {gigabytes(self.free)} GB free, active downloads still"
                f" need {gigabytes(self.needed_by_active)} GB, reserve {gigabytes(self.reserve)} GB)"
            )
        self.needed_by_active += size
        return None


def gigabytes(size: int) -> str:
    """Decimal GB, two decimals (three significant digits below 1 GB, so MB still show)."""
    if abs(size) >= GB:
        return f"{size / GB:.2f}".rstrip("0").rstrip(".")
    return f"{size / GB:.3g}"


MIN_FREE_SPACE_VAR = "AT_MIN_FREE_SPACE_GB"
DEFAULT_MIN_FREE_SPACE_GB = 10.0


class SafetySettings(dg.ConfigurableResource):
    """Step 07: where safety.yaml lives (`rules_dir`, default `config/automatic_transmission/`)
    and AT_MIN_FREE_SPACE_GB (decimal GB kept free beyond every download, default 10)."""

    rules_dir: str | None = None
    min_free_space_gb: float | None = None

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self.reserve_bytes()  # a bad value fails the run at its start, naming the variable
        self.rules()

    def rules(self) -> SafetyRules:
        return load_safety_rules(self.rules_dir)

    def reserve_bytes(self) -> int:
        gb = number_setting(
            self.min_free_space_gb, MIN_FREE_SPACE_VAR, DEFAULT_MIN_FREE_SPACE_GB, 0
        )
        return int(gb * GB)
