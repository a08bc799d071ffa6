"""Reading a YAML configuration file so that nothing in it changes behaviour silently: a key
given twice, an empty file and a byte that is not UTF-8 are load errors naming the file (and the
line), in the caller's error type; and validating its parts with pydantic models, the problems
worded as the file's own keys."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)


class _UniqueKeyLoader(yaml.SafeLoader):
    """safe_load that refuses a key given twice (PyYAML keeps the last one silently, so a pasted
    second `movie:` block would quietly replace the first)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: Path, error: type[Exception], what: str) -> Any:
    """The document of the YAML file at `path`; `error(message)` naming the file when it cannot
    be read, is not UTF-8, is not YAML, repeats a key or holds nothing (`what` names what the
    file must hold, for that message)."""
    try:
        data = path.read_bytes()
    except OSError as problem:
        raise error(f"{path}: cannot read the file ({problem.strerror})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as problem:
        line = data[: problem.start].count(b"\n") + 1
        raise error(
            f"{path}: line {line}: byte 0x{data[problem.start]:02x} is not UTF-8 "
            "(save the file as UTF-8)"
        ) from None
    try:
        document = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as problem:
        raise error(f"{path}: not valid YAML: {problem}") from None
    if document is None or document == {}:
        raise error(f"{path}: the file is empty; it must hold {what}")
    return document


def validated(
    model: type[Model],
    raw: Any,
    where: str,
    error: type[Exception],
    messages: Mapping[str, str],
) -> Model:
    """`raw` validated by the pydantic `model`, or `error("<where>: <problem>")` in the file's
    own words: `messages` maps the first problem to a template, tried in this order: the field
    and the pydantic error type (`"min finite_number"`), the field (`"enabled"`; `"values[]"` for
    an element of a list field), the error type (`"extra_forbidden"`, `"model_type"`). Templates
    may use {field}, {value} (the input as given), {type} (its Python type) and {keys} (the
    unknown keys). A validator's own ValueError text is used when no template matches."""
    try:
        return model.model_validate(raw)
    except ValidationError as caught:
        raise error(f"{where}: {_problem(caught, messages)}") from None


def _problem(caught: ValidationError, messages: Mapping[str, str]) -> str:
    errors = caught.errors()
    unknown = [str(e["loc"][-1]) for e in errors if e["type"] == "extra_forbidden"]
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = first["loc"]
    field = str(loc[0]) if loc else ""
    name = f"{field}[]" if len(loc) > 1 and first["type"] != "extra_forbidden" else field
    value = None if first["type"] == "missing" else first["input"]
    for key in (f"{name} {first['type']}", name, first["type"]):
        if key in messages:
            return messages[key].format(
                field=field, value=value, type=type(value).__name__, keys=", ".join(sorted(unknown))
            )
    cause = first.get("ctx", {}).get("error")
    return str(cause) if cause is not None else f"{field} {first['msg']}".strip()
