"""The one way the location reads its settings, and where its config folder is.

The rule is dagstributor_shared.settings's (both locations read settings the same way; shared
cannot import a location, so it lives there and is re-exported here): a resource field set
explicitly wins (tests); else the environment variable when it is set and not empty; else the
default. Every bad value raises `SettingsError` naming the variable, never a secret's value.
Settings are read when a run starts, never at import.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from dagstributor_shared.schedules import find_config_dir
from dagstributor_shared.settings import (
    SettingsError,
    number_setting,
    owner_id,
    required_setting,
    setting,
    unset_settings,
)

__all__ = [
    "PipelineSettings",
    "SettingsError",
    "config_dir",
    "maintenance_wait_seconds",
    "number_setting",
    "owner_id",
    "required_setting",
    "setting",
    "unset_settings",
]

CONFIG_SUBDIR = "automatic_transmission"

AT_PGSQL_PREFIX = "AT_PGSQL"
BATCH_SIZE_VAR = "AT_BATCH_SIZE"
DEFAULT_BATCH_SIZE = 50
NOTIFY_URLS_VAR = "AT_NOTIFY_URLS"  # Apprise URLs of the location's notifications (secret)
MAINTENANCE_WAIT_VAR = "AT_MAINTENANCE_WAIT"  # seconds a step waits for a schema job
DEFAULT_MAINTENANCE_WAIT_SECONDS = 30.0


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
