"""Schedule YAML (`config/schedules/<env>.yaml`) -> Dagster schedules, validated with file and key.

DAGSTRIBUTOR_SCHEDULES names another file of that folder (without `.yaml`) to use instead of the
environment's: the local stack sets it to `local` (config/schedules/local.yaml: the pipeline runs by
itself every minute) while ENVIRONMENT stays `dev`; `local_stack.py --paused` leaves it unset.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dagster as dg
from croniter import croniter
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator

from dagstributor_shared.config_files import read_yaml, validated
from dagstributor_shared.environment import Environment

CONFIG_DIR_VAR = "DAGSTRIBUTOR_CONFIG_DIR"
SCHEDULE_PROFILE_VAR = "DAGSTRIBUTOR_SCHEDULES"
# Every schedule key starts with the prefix of the location that owns it; which prefixes exist is
# the deployment's fact, in `config/schedules/owners.yaml` beside the schedule files (shared knows
# no location: each passes its own prefix).
OWNERS_FILE = "owners.yaml"
HOST_DEPENDENT_ZONES = frozenset({"localtime", "posixrules"})
SENSOR_SUFFIX = "_sensor"  # a key ending so is a sensor's switch, not a schedule


class ScheduleConfigError(ValueError):
    """A schedule file is missing or malformed; the message names the file and the key."""


def _cron(value: str) -> str:
    """A five-field cron string (or `@daily` and the like) that can ever fire."""
    if not croniter.is_valid(value):
        raise ValueError(value)
    fields = croniter.expand(value)[0]
    if len(fields) != 5:  # croniter also takes seconds and years; Dagster does not
        raise ValueError(value)
    if fields[3] == [2] and len(fields[2]) == 1 and fields[2][0] in (30, 31):
        raise ValueError(value)  # the 30th or 31st of February never comes
    return value


def _zone(value: str) -> str:
    # `localtime` is whatever zone the host has, not a zone: the same file would then fire at
    # different hours on a laptop and in a pod.
    if value in HOST_DEPENDENT_ZONES:
        raise ValueError(value)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(value) from None
    return value


def _sensor_status(value: object) -> dg.DefaultSensorStatus:
    try:
        return dg.DefaultSensorStatus[str(value).upper()]
    except KeyError:
        raise ValueError(value) from None


def _status(value: object) -> dg.DefaultScheduleStatus:
    try:
        return dg.DefaultScheduleStatus[str(value).upper()]
    except KeyError:
        raise ValueError(value) from None


class ScheduleEntry(BaseModel):
    """One schedule key's settings as the file gives them."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    cron_schedule: Annotated[str, AfterValidator(_cron)]
    default_status: Annotated[dg.DefaultScheduleStatus, PlainValidator(_status)] = (
        dg.DefaultScheduleStatus.STOPPED
    )
    enabled: bool = True
    execution_timezone: Annotated[str, AfterValidator(_zone)] = "UTC"


ENTRY_MESSAGES = {
    "model_type": "expected a mapping, got {type}",
    "extra_forbidden": "unknown field(s) {keys}",
    "cron_schedule": "cron_schedule {value!r} is not a valid cron string",
    "default_status": "default_status {value!r} must be RUNNING or STOPPED",
    "enabled": "enabled must be true or false, got {value!r}",
    "execution_timezone": "execution_timezone {value!r} is not a known time zone",
}


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
    """The environment's schedule file, or the profile DAGSTRIBUTOR_SCHEDULES names."""
    profile = os.environ.get(SCHEDULE_PROFILE_VAR, "").strip() or environment.value
    if not profile.replace("-", "").replace("_", "").isalnum():
        raise ScheduleConfigError(f"{SCHEDULE_PROFILE_VAR} must name a file of config/schedules")
    return (config_dir or find_config_dir()) / "schedules" / f"{profile}.yaml"


def owner_prefixes(schedules_dir: Path) -> tuple[str, ...]:
    """The prefixes of `owners.yaml` (prefix -> the code location that owns its keys)."""
    path = schedules_dir / OWNERS_FILE
    if not path.is_file():
        raise ScheduleConfigError(f"{path}: file of schedule key owners not found")
    document = read_yaml(path, ScheduleConfigError, "a mapping of key prefixes to locations")
    if not isinstance(document, Mapping) or not all(
        isinstance(k, str) and k.endswith("_") and isinstance(v, str) for k, v in document.items()
    ):
        raise ScheduleConfigError(
            f"{path}: expected a mapping of key prefixes (`<prefix>_`) to locations"
        )
    return tuple(document)


def load_schedule_specs(
    path: Path, owned_keys: frozenset[str], prefix: str
) -> dict[str, ScheduleEntry]:
    """Read one environment's file and return the specs of the keys this location owns."""
    if not path.is_file():
        raise ScheduleConfigError(f"{path}: schedule file not found")
    document = read_yaml(path, ScheduleConfigError, "a mapping of schedule keys")
    if not isinstance(document, Mapping):
        raise ScheduleConfigError(f"{path}: expected a mapping of schedule keys at the top level")
    prefixes = owner_prefixes(path.parent)
    if prefix not in prefixes:
        raise ScheduleConfigError(
            f"{path.parent / OWNERS_FILE}: no location owns prefix {prefix!r}"
        )
    specs: dict[str, ScheduleEntry] = {}
    for key, raw in document.items():
        key = str(key)
        if not key.startswith(prefixes):
            raise ScheduleConfigError(f"{path}: schedule {key!r} names no known schedule")
        if not key.startswith(prefix) or key.endswith(SENSOR_SUFFIX):
            continue  # another location's schedule, or a sensor (load_sensor_specs)
        if key not in owned_keys:
            raise ScheduleConfigError(f"{path}: schedule {key!r} names no known schedule")
        where = f"{path}: schedule {key!r}"
        specs[key] = validated(ScheduleEntry, raw, where, ScheduleConfigError, ENTRY_MESSAGES)
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
            name=key,
            job=jobs_by_key[key],
            cron_schedule=entry.cron_schedule,
            default_status=entry.default_status,
            execution_timezone=entry.execution_timezone,
        )
        for key, entry in specs.items()
        if entry.enabled and key in jobs_by_key
    ]


class SensorEntry(BaseModel):
    """One sensor key's settings (`at_download_sensor: {default_status: STOPPED}`): a household
    switches a sensor off here; the schedules stay the safety net either way."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    default_status: Annotated[dg.DefaultSensorStatus, PlainValidator(_sensor_status)] = (
        dg.DefaultSensorStatus.RUNNING
    )
    enabled: bool = True
    minimum_interval_seconds: Annotated[int, Field(ge=5, le=86400)] = 30


SENSOR_MESSAGES = {
    "model_type": "expected a mapping, got {type}",
    "extra_forbidden": "unknown field(s) {keys}",
    "default_status": "default_status {value!r} must be RUNNING or STOPPED",
    "enabled": "enabled must be true or false, got {value!r}",
    "minimum_interval_seconds": "minimum_interval_seconds must be a whole number of seconds"
    " from 5 to 86400, got {value!r}",
}


def load_sensor_specs(
    path: Path, sensor_keys: frozenset[str], prefix: str
) -> dict[str, SensorEntry]:
    """The sensor keys of one environment's file this location owns (a key the file does not
    name gets the defaults: running); an unknown `<prefix>..._sensor` key is an error."""
    document = read_yaml(path, ScheduleConfigError, "a mapping of schedule keys")
    if not isinstance(document, Mapping):
        raise ScheduleConfigError(f"{path}: expected a mapping of schedule keys at the top level")
    specs = dict.fromkeys(sensor_keys, SensorEntry())
    for key, raw in document.items():
        key = str(key)
        if not (key.startswith(prefix) and key.endswith(SENSOR_SUFFIX)):
            continue
        if key not in sensor_keys:
            raise ScheduleConfigError(f"{path}: sensor {key!r} names no known sensor")
        where = f"{path}: sensor {key!r}"
        specs[key] = validated(SensorEntry, raw, where, ScheduleConfigError, SENSOR_MESSAGES)
    return specs
