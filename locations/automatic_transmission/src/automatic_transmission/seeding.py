"""Seeding rules: what each torrent is told (ratio, idle limit, label) and when step 10 may
remove a transferred one. `config/automatic_transmission/seeding.yaml`, validated when the code
location loads; the functions here are pure."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import dagster as dg
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from automatic_transmission.model import MediaRow, MediaType
from automatic_transmission.settings import config_dir
from dagstributor_shared.config_files import read_yaml, validated

SEEDING_FILE = "seeding.yaml"
# Transmission's per-torrent modes (RPC spec, seedRatioMode / seedIdleMode).
MODE_GLOBAL, MODE_SINGLE, MODE_UNLIMITED = 0, 1, 2
LABELS_RPC_VERSION = 16  # torrent-set `labels` arrived with RPC 16 (Transmission 3.00)


class SeedingConfigError(ValueError):
    """seeding.yaml is missing or malformed; the message names the file and the key."""


class CleanupMode(StrEnum):
    DELAY = "delay"  # AT_TRANSFERRED_ITEM_CLEANUP_DELAY after the transfer
    RULE = "rule"  # the kind's ratio or seed_hours reached


Positive = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class KindRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    ratio: Positive | None = None
    idle_minutes: Annotated[int, Field(ge=1)] | None = None
    seed_hours: Positive | None = None
    label: Annotated[StrictStr, Field(min_length=1, pattern=r"^[^,]+$")]


class SeedingRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    cleanup: Annotated[CleanupMode, Field(strict=False)] = CleanupMode.DELAY
    movie: KindRule
    tv: KindRule

    def kind(self, media_type: MediaType) -> KindRule:
        return self.tv if media_type.is_tv else self.movie


SEEDING_MESSAGES = {
    "model_type": "expected a mapping of cleanup, movie and tv",
    "extra_forbidden": "unknown key(s) {keys}",
    "cleanup": "cleanup must be `delay` or `rule`, got {value!r}",
    "movie missing": "the key movie is missing",
    "tv missing": "the key tv is missing",
}


def load_seeding_rules(folder: Path | str | None = None) -> SeedingRules:
    path = config_dir(folder) / SEEDING_FILE
    document = read_yaml(path, SeedingConfigError, "the seeding rules (see README)")
    if isinstance(document, dict):
        for kind in ("movie", "tv"):  # a problem inside a kind is worded by its key
            if isinstance(document.get(kind), dict):
                validated(
                    KindRule, document[kind], f"{path}: {kind}", SeedingConfigError,
                    {"extra_forbidden": "unknown key(s) {keys}", "missing": "the key {field} is missing"},
                )  # fmt: skip
    return validated(SeedingRules, document, str(path), SeedingConfigError, SEEDING_MESSAGES)


@dataclass(frozen=True)
class TrackerMinimum:
    """What the indexer said the tracker demands (Torznab minimumratio, minimumseedtime in s)."""

    ratio: float | None = None
    seed_seconds: int | None = None

    @classmethod
    def of(cls, row: MediaRow) -> TrackerMinimum:
        # The torznab change adds these columns to atp.media and the row model; until then none.
        ratio = getattr(row, "minimum_ratio", None)
        seconds = getattr(row, "minimum_seed_time", None)
        return cls(
            None if ratio is None else float(ratio), None if seconds is None else int(seconds)
        )

    @property
    def any(self) -> bool:
        return bool(self.ratio) or bool(self.seed_seconds)

    def met(self, ratio: float, seconds_seeding: int) -> bool:
        """A tracker counts either rule as met (hit-and-run rules: ratio OR seeding time)."""
        if not self.any:
            return True
        return bool(
            (self.ratio and ratio >= self.ratio)
            or (self.seed_seconds and seconds_seeding >= self.seed_seconds)
        )


@dataclass(frozen=True)
class SeedLimits:
    """What a torrent is told: torrent-set seedRatioLimit/Mode, seedIdleLimit/Mode, labels."""

    ratio_mode: int
    ratio: float
    idle_mode: int
    idle_minutes: int
    label: str


def seed_limits(row: MediaRow, rules: SeedingRules) -> SeedLimits:
    """The kind's limits, raised to the tracker's minimum ratio; a tracker minimum seeding time
    turns the idle limit off (an idle stop would end the seeding time it needs)."""
    kind = rules.kind(row.media_type)
    minimum = TrackerMinimum.of(row)
    ratio = kind.ratio
    if ratio is not None and minimum.ratio:
        ratio = max(ratio, minimum.ratio)
    idle = None if minimum.seed_seconds else kind.idle_minutes
    return SeedLimits(
        ratio_mode=MODE_UNLIMITED if ratio is None else MODE_SINGLE,
        ratio=ratio or 0.0,
        idle_mode=MODE_UNLIMITED if idle is None else MODE_SINGLE,
        idle_minutes=idle or 0,
        label=kind.label,
    )


def seeding_done(
    row: MediaRow,
    rules: SeedingRules,
    ratio: float,
    seconds_seeding: int,
    seeding_stopped: bool,
    delay_passed: bool,
) -> bool:
    """May step 10 remove this transferred torrent now? Never before the tracker's minimum;
    then by the cleanup mode: the delay, or the kind's ratio / seed_hours (or Transmission
    having stopped seeding it by its limits)."""
    if not TrackerMinimum.of(row).met(ratio, seconds_seeding):
        return False
    if rules.cleanup is CleanupMode.DELAY:
        return delay_passed
    kind = rules.kind(row.media_type)
    return (
        seeding_stopped
        or (kind.ratio is not None and ratio >= kind.ratio)
        or (kind.seed_hours is not None and seconds_seeding >= kind.seed_hours * 3600)
    )


class SeedingSettings(dg.ConfigurableResource):
    """Steps 07 and 10: where seeding.yaml lives (default `config/automatic_transmission/`)."""

    rules_dir: str | None = None

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self.rules()

    def rules(self) -> SeedingRules:
        return load_seeding_rules(self.rules_dir)
