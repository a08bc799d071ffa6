"""Library naming: the presets of `naming.yaml`, and names that can never leave their root."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from automatic_transmission.settings import config_dir
from dagstributor_shared.config_files import read_yaml

NAMING_FILE = "naming.yaml"
TEMPLATE_KINDS = ("movie", "episode")
TEMPLATE_FIELDS = frozenset({"title", "year", "season", "episode", "resolution", "slug"})
_UNSAFE_CHARS = re.compile(r"[\x00-\x1f\x7f]")
_SLUG_SEPARATORS = re.compile(r"[^0-9a-z]+")


class UnsafePath(ValueError):
    """A name that would leave its root (absolute, `..`, a link to outside): refused."""


class NamingError(ValueError):
    """The naming file or preset is unusable (a configuration error)."""


@dataclass(frozen=True)
class Naming:
    preset: str
    movie: str
    episode: str


def _check_template(preset: str, kind: str, template: object) -> str:
    where = f"{NAMING_FILE}: {preset}.{kind}"
    if not isinstance(template, str) or not template.strip():
        raise NamingError(f"{where} must be a non-empty string")
    fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    unknown = {f.split(".")[0].split("[")[0] for f in fields} - TEMPLATE_FIELDS
    if unknown:
        raise NamingError(f"{where} uses unknown fields: {', '.join(sorted(unknown))}")
    sample = template.format(
        title="T", year=2000, season=1, episode=1, resolution="1080p", slug="t"
    )
    try:
        safe_relative(sample)
    except UnsafePath as error:
        raise NamingError(f"{where}: {error}") from None
    return template


def load_naming(preset: str, naming_dir: str | Path | None = None) -> Naming:
    """The preset of `naming.yaml` (in `config/automatic_transmission/` unless `naming_dir`)."""
    path = config_dir(naming_dir) / NAMING_FILE
    presets = read_yaml(path, NamingError, "naming presets")
    if not isinstance(presets, dict) or preset not in presets:
        known = ", ".join(sorted(presets)) if isinstance(presets, dict) else "none"
        raise NamingError(
            f"{path}: no naming preset {preset!r} (AT_LIBRARY_NAMING); known: {known}"
        )
    templates = presets[preset]
    if not isinstance(templates, dict) or set(templates) != set(TEMPLATE_KINDS):
        raise NamingError(f"{path}: preset {preset!r} needs exactly the keys movie and episode")
    return Naming(
        preset,
        *(_check_template(preset, kind, templates[kind]) for kind in TEMPLATE_KINDS),
    )


def validate_naming(naming_dir: str | Path | None = None) -> list[Naming]:
    """Every preset of naming.yaml, checked (the location loads only when all are usable)."""
    path = config_dir(naming_dir) / NAMING_FILE
    presets = read_yaml(path, NamingError, "naming presets")
    if not isinstance(presets, dict):
        raise NamingError(f"{path}: must map preset names to templates")
    return [load_naming(str(name), naming_dir) for name in presets]


def slug(title: str) -> str:
    return _SLUG_SEPARATORS.sub("-", title.lower()).strip("-")


def safe_relative(path: str) -> PurePosixPath:
    """A relative path whose every part is a real name (not empty, `.`, `..`, no control
    characters); UnsafePath otherwise."""
    if not path or path.startswith(("/", "\\")):
        raise UnsafePath(f"absolute or empty path {path!r} refused")
    parts = path.split("/")
    for part in parts:
        if part in ("", ".", "..") or _UNSAFE_CHARS.search(part):
            raise UnsafePath(f"path {path!r} has an unsafe part {part!r}")
    return PurePosixPath(*parts)


def title_value(title: str) -> str:
    """A title as one path part: a slash inside a title (`Face/Off`) becomes a dash, but a
    title that is itself a path trick (absolute, `..`) is refused."""
    if title.startswith("/") or any(p in (".", "..") for p in title.split("/")):
        raise UnsafePath(f"title {title!r} refused: it is a path")
    return title.replace("/", "-").replace("\\", "-").strip()
