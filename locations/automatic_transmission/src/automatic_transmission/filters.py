"""Field rules from YAML (`config/automatic_transmission/*.yaml`): loading, validation, checking.

A rule file maps a media type to fields, each with rule keys:

    movie:
      resolution:
        nullable: false           # a missing value fails (default false: a rule constrains its field)
        allowed_values: [1080p]   # the value must be one of these (a list field: any element)
        excluded_values: [720p]   # the value must not be one of these (a list field: no element)
        min: 1                    # numbers only, inclusive
        max: 10

Strings compare case-insensitively. The first failing rule (in file order) gives the reason, e.g.
`resolution 720p is not in allowed_values`. A media type without rules passes everything.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import dagster as dg
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    model_validator,
)

from automatic_transmission.metadata import show_number
from automatic_transmission.model import MediaType, TitleMetadata, as_number
from automatic_transmission.settings import number_setting
from dagstributor_shared.config_files import read_yaml, validated
from dagstributor_shared.schedules import find_config_dir

FILE_FILTRATION_FILE = "file_filtration.yaml"
MEDIA_FILTRATION_FILE = "media_filtration.yaml"
CONFIG_SUBDIR = "automatic_transmission"

# Fields each file may name; anything else is a typo and a load error.
FILE_FIELDS = frozenset(
    {
        "resolution", "video_codec", "audio_codec", "upload_type", "uploader", "release_year",
        "season", "episode", "rss_source", "media_title", "size",
    }
)  # fmt: skip
# Rule fields named otherwise than their atp.media column.
FIELD_COLUMNS = {"size": "size_bytes"}
# Fields that hold numbers: the only ones `min` and `max` may bound.
NUMERIC_FIELDS = frozenset(
    {
        "release_year", "season", "episode", "imdb_rating", "imdb_votes", "tmdb_rating",
        "tmdb_votes", "metascore", "rt_score", "runtime", "budget", "revenue", "size",
    }
)  # fmt: skip
# The metadata fields (`model.TitleMetadata`, named as atp.training's columns) but identities
# and free text.
MEDIA_FIELDS = frozenset(f.name for f in dataclasses.fields(TitleMetadata)) - {
    "tmdb_id", "imdb_id", "media_title", "original_media_title", "tagline", "overview",
}  # fmt: skip


class FilterConfigError(ValueError):
    """A rule file is missing or malformed; the message names the file and the rule."""


Scalar = str | int | float | bool


@dataclass(frozen=True)
class FieldRule:
    field: str
    nullable: bool = False
    allowed_values: tuple[Scalar, ...] | None = None
    excluded_values: tuple[Scalar, ...] = ()
    min: float | None = None
    max: float | None = None

    def failure(self, value: Any) -> str | None:
        """Why `value` fails this rule, or None when it passes."""
        values = _as_list(value)
        if not values:
            return None if self.nullable else f"{self.field} is null"
        shown = ", ".join(str(v) for v in values)
        if self.allowed_values is not None:
            allowed = {_key(a) for a in self.allowed_values}
            if not any(_key(v) in allowed for v in values):
                return f"{self.field} {shown} is not in allowed_values"
        if self.excluded_values:
            excluded = {_key(e) for e in self.excluded_values}
            hits = [str(v) for v in values if _key(v) in excluded]
            if hits:
                return f"{self.field} {', '.join(hits)} is in excluded_values"
        for v in values:
            number = as_number(v)
            shown_v = v if number is None else show_number(number)
            if self.min is not None and (number is None or number < self.min):
                return f"{self.field} {shown_v} is below min {show_number(self.min)}"
            if self.max is not None and (number is None or number > self.max):
                return f"{self.field} {shown_v} is above max {show_number(self.max)}"
        return None


@dataclass(frozen=True)
class RuleSet:
    """The rules of one file, by media type."""

    source: str
    rules: Mapping[MediaType, tuple[FieldRule, ...]]

    def first_failure(self, media_type: MediaType, values: Mapping[str, Any]) -> str | None:
        for rule in self.rules.get(media_type, ()):
            reason = rule.failure(values.get(rule.field))
            if reason is not None:
                return reason
        return None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list | tuple | set | frozenset):
        return [v for v in value if v is not None and v != ""]
    return [] if value == "" else [value]


def _key(value: Any) -> str:
    text = value.value if hasattr(value, "value") else value
    if isinstance(text, float) and text.is_integer():
        text = int(text)
    return str(text).strip().casefold()


Bound = Annotated[float, Field(allow_inf_nan=False)]
Values = Annotated[list[StrictStr | StrictInt | StrictFloat], Field(min_length=1)]


class RuleSpec(BaseModel):
    """One field's rule keys as the file gives them."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    nullable: bool = False
    allowed_values: Values | None = None
    excluded_values: Values | None = None
    min: Bound | None = None
    max: Bound | None = None

    @model_validator(mode="after")
    def _ordered(self) -> RuleSpec:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(
                f"min {show_number(self.min)} is greater than max {show_number(self.max)}"
            )
        return self


RULE_KEYS = frozenset(RuleSpec.model_fields)
RULE_MESSAGES = {
    "model_type": f"expected a mapping of rule keys ({', '.join(sorted(RULE_KEYS))})",
    "extra_forbidden": "unknown rule key(s) {keys}",
    "nullable": "nullable must be true or false, got {value!r}",
    "min finite_number": "min must be a finite number, got {value!r}",
    "max finite_number": "max must be a finite number, got {value!r}",
    "min": "min must be a number, got {value!r}",
    "max": "max must be a number, got {value!r}",
    "allowed_values": "allowed_values must be a non-empty list",
    "excluded_values": "excluded_values must be a non-empty list",
    "allowed_values[]": "allowed_values holds {value!r}, not a string or number",
    "excluded_values[]": "excluded_values holds {value!r}, not a string or number",
}


def parse_rules(source: str, document: Any, known_fields: Collection[str]) -> RuleSet:
    """Validate a parsed rule document; every error names `source` and the rule."""
    if document is None:
        return RuleSet(source, {})
    if not isinstance(document, Mapping):
        raise FilterConfigError(f"{source}: expected a mapping of media types")
    by_type: dict[MediaType, tuple[FieldRule, ...]] = {}
    for type_name, fields in document.items():
        try:
            media_type = MediaType(str(type_name))
        except ValueError:
            known = ", ".join(m.value for m in MediaType)
            raise FilterConfigError(
                f"{source}: {type_name!r} is not a media type (one of {known})"
            ) from None
        if fields is None:
            by_type[media_type] = ()
            continue
        if not isinstance(fields, Mapping):
            raise FilterConfigError(f"{source}: {type_name}: expected a mapping of fields")
        rules = []
        for field_name, spec in fields.items():
            where = f"{source}: rule {type_name}.{field_name}"
            if field_name not in known_fields:
                raise FilterConfigError(
                    f"{where}: unknown field {field_name!r} (known: {', '.join(sorted(known_fields))})"
                )
            rules.append(_parse_rule(where, str(field_name), spec))
        by_type[media_type] = tuple(rules)
    return RuleSet(source, by_type)


def _parse_rule(where: str, field_name: str, spec: Any) -> FieldRule:
    rule = validated(RuleSpec, spec or None, where, FilterConfigError, RULE_MESSAGES)
    for key in ("min", "max"):
        if getattr(rule, key) is not None and field_name not in NUMERIC_FIELDS:
            raise FilterConfigError(f"{where}: {key} applies to numbers; {field_name} is text")
    return FieldRule(
        field=field_name,
        nullable=rule.nullable,
        allowed_values=None if rule.allowed_values is None else tuple(rule.allowed_values),
        excluded_values=tuple(rule.excluded_values or ()),
        min=rule.min,
        max=rule.max,
    )


def load_rules(path: Path, known_fields: Collection[str]) -> RuleSet:
    document = read_yaml(path, FilterConfigError, "rules by media type")
    return parse_rules(str(path), document, known_fields)


def rules_dir(config_dir: Path | str | None = None) -> Path:
    return Path(config_dir) if config_dir else find_config_dir() / CONFIG_SUBDIR


def load_file_rules(config_dir: Path | str | None = None) -> RuleSet:
    return load_rules(rules_dir(config_dir) / FILE_FILTRATION_FILE, FILE_FIELDS)


def load_media_rules(config_dir: Path | str | None = None) -> RuleSet:
    return load_rules(rules_dir(config_dir) / MEDIA_FILTRATION_FILE, MEDIA_FIELDS)


def validate_rule_files(config_dir: Path | str | None = None) -> Sequence[RuleSet]:
    """Load both rule files; called when the code location loads so a bad rule fails early."""
    return (load_file_rules(config_dir), load_media_rules(config_dir))


STALE_METADATA_VAR = "AT_STALE_METADATA_THRESHOLD"  # days
DEFAULT_STALE_METADATA_DAYS = 30.0
MIN_SEEDERS_VAR = "AT_MIN_SEEDERS"
DEFAULT_MIN_SEEDERS = 1


class FilterSettings(dg.ConfigurableResource):
    """Steps 04-06: where the rule files live and how old stored metadata may get.

    `rules_dir`: the folder of file_filtration.yaml / media_filtration.yaml (default
    `config/automatic_transmission/`); `stale_metadata_days`: AT_STALE_METADATA_THRESHOLD (30);
    `min_seeders`: AT_MIN_SEEDERS (1), the fewest seeders a release an indexer reports on may
    have (0 = no minimum).
    """

    rules_dir: str | None = None
    stale_metadata_days: float | None = None
    min_seeders: int | None = None

    def seeders_minimum(self) -> int:
        return int(
            number_setting(self.min_seeders, MIN_SEEDERS_VAR, DEFAULT_MIN_SEEDERS, 0, whole=True)
        )

    def stale_after_days(self) -> float:
        return number_setting(
            self.stale_metadata_days, STALE_METADATA_VAR, DEFAULT_STALE_METADATA_DAYS, 0
        )

    def file_rules(self) -> RuleSet:

        return load_file_rules(self.rules_dir)

    def media_rules(self) -> RuleSet:

        return load_media_rules(self.rules_dir)
