"""The repository's rule files (`config/automatic_transmission/*.yaml`) with some top-level keys
changed, written into a folder of the test's: the tests change one key and keep the rest real."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def rewritten(file_name: str, folder: Path, **changes: Any) -> Path:
    """`folder` holding the repository's `file_name` with `changes` (a None value deletes the
    key); returns `folder` (what a `rules_dir` setting takes)."""
    import yaml

    from automatic_transmission.settings import config_dir

    document = yaml.safe_load((config_dir() / file_name).read_text())
    for key, value in changes.items():
        if value is None:
            document.pop(key, None)
        else:
            document[key] = value
    folder.mkdir(parents=True, exist_ok=True)
    (folder / file_name).write_text(yaml.safe_dump(document))
    return folder
