"""File paths as release names: the file name is parsed, its folders fill what it lacks.

"/media/tv/Show Name/Season 02/Show.Name.S02E04.720p.mkv" and
"Movies/Film (2014)/Film (2014) - 1080p.mkv" are paths, not names: the folder words are not
title. A name is read as a path when a slash or backslash stands between two non-blank
characters outside brackets (" / " between a title and its translation is no path, nor is
"[Naruto/NARUTO]") and the name is path-shaped: a backslash, a leading "/" or drive letter,
or a last part ending in a file extension.
"""

from __future__ import annotations

import re

__all__ = ["split_path"]

_EXTENSION = re.compile(r"\.[A-Za-z][A-Za-z0-9]{1,3}$")
_ROOTED = re.compile(r"^(?:[A-Za-z]:)?[\\/]")
_DRIVE = re.compile(r"[A-Za-z]:")
_OPEN = "[(【{"
_CLOSE = "])】}"


def split_path(name: str) -> tuple[list[str], str]:
    """The folders (outermost first) and the file name of ``name``; ``([], name)`` when the
    name is not a path."""
    parts: list[str] = []
    depth, start = 0, 0
    for index, char in enumerate(name):
        if char in _OPEN:
            depth += 1
        elif char in _CLOSE:
            depth = max(0, depth - 1)
        elif char in "/\\" and depth == 0 and _between_words(name, index):
            parts.append(name[start:index])
            start = index + 1
    if not parts:
        return [], name
    last = name[start:]
    if not last.strip():
        return [], name
    if "\\" not in name and not _ROOTED.match(name) and not _EXTENSION.search(last):
        return [], name
    return [p for p in parts if p.strip() and not _DRIVE.fullmatch(p)], last


def _between_words(name: str, index: int) -> bool:
    """A slash with no space on either side (the start of the name counts as a word edge)."""
    before = name[index - 1] if index > 0 else "x"
    after = name[index + 1] if index + 1 < len(name) else " "
    return not before.isspace() and not after.isspace()
