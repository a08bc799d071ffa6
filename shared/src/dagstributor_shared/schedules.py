"""Schedule YAML (`config/schedules/<env>.yaml`) -> Dagster schedules, validated with file and key."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dagster as dg
from dagster._utils.schedules import is_valid_cron_string

from dagstributor_shared.config_files import read_yaml
from dagstributor_shared.environment import Environment

CONFIG_DIR_VAR = "DAGSTRIBUTOR_CONFIG_DIR"
# Every schedule key starts with the prefix of the location that owns it. A location validates the
# keys with its own prefix and leaves the others to their owner; a key with no known prefix is an
# error everywhere, so a typo is never silently ignored by both.
LOCATION_PREFIXES = ("at_", "wst_")
ALLOWED_FIELDS = frozenset({"cron_schedule", "default_status", "enabled", "execution_timezone"})
HOST_DEPENDENT_ZONES = frozenset({"localtime", "posixrules"})


class ScheduleConfigError(ValueError):
    """A schedule file is missing or malformed; the message names the file and the key."""


@dataclass(frozen=True)
class ScheduleSpec:
    key: str
    cron_schedule: str
    default_status: dg.DefaultScheduleStatus
    enabled: bool
    execution_timezone: str = "UTC"


def find_config_dir(start: Path | None = None) -> Path:
    """The `config/` folder: $DAGSTRIBUTOR_CONFIG_DIR, else the nearest one above cwd or this file."""
    explicit = os.environ.get(CONFIG_DIR_VAR)
    if explicit:
        return Path(explicit)
    for origin in (start or Path.cwd(), Path(__file__).resolve()):
        for folder in (origin, *origin.parents):
            candidate = folder / "config" / "schedules"
            if candidate.is_dir():
                return candidate.parent
    raise ScheduleConfigError(
        f"no config/schedules folder found above {Path.cwd()}; set {CONFIG_DIR_VAR}"
    )


def schedule_file(environment: Environment, config_dir: Path | None = None) -> Path:
    return (config_dir or find_config_dir()) / "schedules" / f"{environment.value}.yaml"


def _parse_entry(path: Path, key: str, raw: Any) -> ScheduleSpec:
    where = f"{path}: schedule {key!r}"
    if not isinstance(raw, Mapping):
        raise ScheduleConfigError(f"{where}: expected a mapping, got {type(raw).__name__}")
    unknown = sorted(set(raw) - ALLOWED_FIELDS)
    if unknown:
        raise ScheduleConfigError(f"{where}: unknown field(s) {', '.join(map(str, unknown))}")
    cron = raw.get("cron_schedule")
    if not isinstance(cron, str) or not is_valid_cron_string(cron):
        raise ScheduleConfigError(f"{where}: cron_schedule {cron!r} is not a valid cron string")
    status = str(raw.get("default_status", "STOPPED")).upper()
    if status not in dg.DefaultScheduleStatus.__members__:
        raise ScheduleConfigError(
            f"{where}: default_status {raw.get('default_status')!r} must be RUNNING or STOPPED"
        )
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ScheduleConfigError(f"{where}: enabled must be true or false, got {enabled!r}")
    timezone = raw.get("execution_timezone", "UTC")
    try:
        # `localtime` is whatever zone the host has, not a zone: the same file would then fire
        # at different hours on a laptop and in a pod.
        if str(timezone) in HOST_DEPENDENT_ZONES:
            raise ValueError(timezone)
        ZoneInfo(str(timezone))
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleConfigError(
            f"{where}: execution_timezone {timezone!r} is not a known time zone"
        ) from None
    return ScheduleSpec(
        key=key,
        cron_schedule=cron,
        default_status=dg.DefaultScheduleStatus[status],
        enabled=enabled,
        execution_timezone=str(timezone),
    )


def load_schedule_specs(
    path: Path, owned_keys: frozenset[str], prefix: str
) -> dict[str, ScheduleSpec]:
    """Read one environment's file and return the specs of the keys this location owns."""
    if not path.is_file():
        raise ScheduleConfigError(f"{path}: schedule file not found")
    document = read_yaml(path, ScheduleConfigError, "a mapping of schedule keys")
    if not isinstance(document, Mapping):
        raise ScheduleConfigError(f"{path}: expected a mapping of schedule keys at the top level")
    specs: dict[str, ScheduleSpec] = {}
    for key, raw in document.items():
        key = str(key)
        if not key.startswith(LOCATION_PREFIXES):
            raise ScheduleConfigError(f"{path}: schedule {key!r} names no known schedule")
        if not key.startswith(prefix):
            continue  # another location's schedule; it validates its own keys
        if key not in owned_keys:
            raise ScheduleConfigError(f"{path}: schedule {key!r} names no known schedule")
        specs[key] = _parse_entry(path, key, raw)
    return specs


def build_schedules(
    jobs_by_key: Mapping[str, dg.JobDefinition | dg.UnresolvedAssetJobDefinition],
    prefix: str,
    environment: Environment,
    known_keys: frozenset[str] | None = None,
    config_dir: Path | None = None,
) -> list[dg.ScheduleDefinition]:
    """One ScheduleDefinition per enabled key; a known schedule without a key is not scheduled.

    `known_keys` may name schedules of steps whose job this build does not define yet; their keys
    are validated but not registered.
    """
    path = schedule_file(environment, config_dir)
    specs = load_schedule_specs(path, known_keys or frozenset(jobs_by_key), prefix)
    return [
        dg.ScheduleDefinition(
            name=spec.key,
            job=jobs_by_key[spec.key],
            cron_schedule=spec.cron_schedule,
            default_status=spec.default_status,
            execution_timezone=spec.execution_timezone,
        )
        for spec in specs.values()
        if spec.enabled and spec.key in jobs_by_key
    ]
