"""Reading a YAML configuration file so that nothing in it changes behaviour silently: a key
given twice, an empty file and a byte that is not UTF-8 are load errors naming the file (and the
line), in the caller's error type."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


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
