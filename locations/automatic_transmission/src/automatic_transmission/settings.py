"""The one way the location reads its settings, and where its config folder is.

A resource field set explicitly wins (tests); else the environment variable when it is set and not
empty; else the default. Every bad value raises `SettingsError` naming the variable, never a
secret's value. Settings are read when a run starts, never at import.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from dagstributor_shared.schedules import find_config_dir

CONFIG_SUBDIR = "automatic_transmission"

AT_PGSQL_PREFIX = "AT_PGSQL"
BATCH_SIZE_VAR = "AT_BATCH_SIZE"
DEFAULT_BATCH_SIZE = 50
MAINTENANCE_WAIT_VAR = "AT_MAINTENANCE_WAIT"  # seconds a step waits for a schema job
DEFAULT_MAINTENANCE_WAIT_SECONDS = 30.0


class SettingsError(ValueError):
    """A setting has an invalid value; names the variable (never a secret's value)."""


def setting(explicit: object, var: str, default: object) -> object:
    """An explicit field wins (tests); else the variable when set and not empty; else default."""
    if explicit is not None:
        return explicit
    value = os.environ.get(var)
    return default if value in (None, "") else value


def required_setting(explicit: str | None, var: str) -> str:
    value = str(setting(explicit, var, ""))
    if not value:
        raise SettingsError(f"{var} is not set")
    return value


def unset_settings(explicit_by_var: dict[str, str | None]) -> list[str]:
    """The variables (of variable -> explicit field) with neither an explicit value nor a
    non-empty environment variable: what a resource's `missing_settings()` returns."""
    return [var for var, explicit in explicit_by_var.items() if not str(setting(explicit, var, ""))]


def owner_id(explicit: int | None, var: str) -> int | None:
    """A numeric user or group id; None when not set (files keep the owner they get)."""
    if setting(explicit, var, "") == "":
        return None
    return int(number_setting(explicit, var, 0, 0, 2**32 - 2, whole=True))


def number_setting(
    explicit: float | None,
    var: str,
    default: float,
    low: float,
    high: float | None = None,
    *,
    whole: bool = False,
) -> float:
    """An optional numeric setting, validated with an error that names the variable."""
    raw = setting(explicit, var, default)
    try:
        value = float(str(raw))
    except ValueError:
        raise SettingsError(f"{var} must be a number, got {raw!r}") from None
    if whole and not value.is_integer():
        raise SettingsError(f"{var} must be a whole number, got {raw!r}")
    if value < low or (high is not None and value > high):
        bound = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
        raise SettingsError(f"{var} must be {bound}, got {raw!r}")
    return value


class PipelineSettings(dg.ConfigurableResource):
    """Optional pipeline settings with defaults, read when a run starts (not at import):
    AT_BATCH_SIZE (rows per batch, default 50). An explicit field wins (tests)."""

    batch_size: int | None = None

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self.rows_per_batch()  # a bad value fails the run at its start, naming the variable

    def rows_per_batch(self) -> int:
        return int(
            number_setting(self.batch_size, BATCH_SIZE_VAR, DEFAULT_BATCH_SIZE, 1, whole=True)
        )


def maintenance_wait_seconds() -> float:
    """AT_MAINTENANCE_WAIT (seconds, default 30, 0 = do not wait): how long a step waits for a
    schema job that holds the maintenance lock before it skips this run; read when it starts."""
    return number_setting(
        None, MAINTENANCE_WAIT_VAR, DEFAULT_MAINTENANCE_WAIT_SECONDS, 0, 24 * 3600
    )


def config_dir(explicit: Path | str | None = None) -> Path:
    """The folder of the location's rule files (`config/automatic_transmission/`)."""
    return Path(explicit) if explicit else find_config_dir() / CONFIG_SUBDIR
