"""The one way both locations read a setting from the environment.

An explicit value wins (a resource field set by a test or a caller); else the environment variable
when it is set and not empty; else the default. A bad value raises `SettingsError` naming the
variable, never a secret's value. Callers read settings when a run starts, never at import.
`environ` is for tests and callers holding an environment of their own; None: `os.environ`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping


class SettingsError(ValueError):
    """A setting has an invalid value; names the variable (never a secret's value)."""


def setting(
    explicit: object, var: str, default: object, environ: Mapping[str, str] | None = None
) -> object:
    """An explicit value wins; else the variable when set and not empty; else `default`."""
    if explicit is not None:
        return explicit
    value = (os.environ if environ is None else environ).get(var)
    return default if value in (None, "") else value


def required_setting(
    explicit: str | None, var: str, environ: Mapping[str, str] | None = None
) -> str:
    value = str(setting(explicit, var, "", environ))
    if not value:
        raise SettingsError(f"{var} is not set")
    return value


def unset_settings(
    explicit_by_var: Mapping[str, str | None], environ: Mapping[str, str] | None = None
) -> list[str]:
    """The variables (of variable -> explicit field) with neither an explicit value nor a
    non-empty environment variable: what a resource's `missing_settings()` returns."""
    return [
        var
        for var, explicit in explicit_by_var.items()
        if not str(setting(explicit, var, "", environ))
    ]


def number_setting(
    explicit: float | None,
    var: str,
    default: float,
    low: float,
    high: float | None = None,
    *,
    whole: bool = False,
    environ: Mapping[str, str] | None = None,
) -> float:
    """An optional numeric setting, validated with an error that names the variable (a value
    that is not a finite number, such as `nan` or `inf`, is rejected too)."""
    raw = setting(explicit, var, default, environ)
    try:
        value = float(str(raw))
    except ValueError:
        raise SettingsError(f"{var} must be a number, got {raw!r}") from None
    if not math.isfinite(value):
        raise SettingsError(f"{var} must be a finite number, got {raw!r}")
    if whole and not value.is_integer():
        raise SettingsError(f"{var} must be a whole number, got {raw!r}")
    if value < low or (high is not None and value > high):
        bound = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
        raise SettingsError(f"{var} must be {bound}, got {raw!r}")
    return value


def owner_id(explicit: int | None, var: str) -> int | None:
    """A numeric user or group id; None when not set (files keep the owner they get)."""
    if setting(explicit, var, "") == "":
        return None
    return int(number_setting(explicit, var, 0, 0, 2**32 - 2, whole=True))
