"""Upgrades in the library: which files of a replaced release to remove (pure), and removing them.

A file is the old release's only when it sits in the old row's folder (`target_path`, under its
`parent_path`) and carries exactly the name `plan_placement` gives the old row for that file: the
pipeline placed it. Anything else in the folder (a user's file, another release's) stays, and so
does every file the new release was just placed as (same name: it was replaced atomically).
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path, PurePosixPath

from automatic_transmission.library.files import resolve_inside
from automatic_transmission.library.naming import Naming, UnsafePath
from automatic_transmission.library.placement import Placement, SourceFile, plan_placement
from automatic_transmission.model import UPGRADED_PREFIX, MediaRow, MediaType
from automatic_transmission.parsing import parse_release


def upgraded_reason(new_hash: str) -> str:
    return f"{UPGRADED_PREFIX} {new_hash}"


def replaced_files(
    old: MediaRow,
    in_folder: Sequence[SourceFile],
    new: Placement,
    naming: Naming,
    roots: Mapping[str, str],
) -> list[str]:
    """The paths (relative to the old root) to remove once `new` is in place: of `in_folder`
    (the files now in the old row's folder, relative to its root), each video and subtitle
    whose name is the one `plan_placement` gives the old row, minus what `new` placed there."""
    if not old.parent_path or not old.target_path or old.media_title is None:
        return []
    kept = {str(Path(new.root) / target) for _, target in new.files}
    videos = [f for f in in_folder if f.is_video]
    if old.media_type.is_tv and old.media_type is not MediaType.TV_SHOW:
        # a pack's file without an episode number keeps its own name: not provably the pack's
        videos = [f for f in videos if parse_release(f.name).episode is not None]
    subtitles = [f for f in in_folder if f.is_subtitle]
    found: set[str] = set()
    for video in videos:
        try:
            plan = plan_placement(old, [video, *subtitles], naming, roots)
        except (ValueError, UnsafePath):
            continue
        if plan.root != old.parent_path or plan.target_path != old.target_path:
            continue  # the old row's names lead elsewhere now: nothing here is provably its
        found.update(source for source, target in plan.files if source == target)
    return sorted(p for p in found if str(Path(old.parent_path) / p) not in kept)


def folder_files(root: str, folder: str) -> list[SourceFile]:
    """The files directly in `folder` (absolute, under `root`), relative to `root`."""
    base = Path(folder)
    if not base.is_dir():
        return []
    relative = PurePosixPath(os.path.relpath(base, root))
    return [
        SourceFile(str(relative / entry.name), entry.stat().st_size)
        for entry in os.scandir(base)
        if entry.is_file(follow_symlinks=False)
    ]


def remove_replaced(root: str, paths: Collection[str]) -> int:
    """Remove these files (relative to `root`, checked to stay inside it); returns how many."""
    removed = 0
    for path in sorted(paths):
        target = resolve_inside(Path(root), path)
        try:
            target.unlink()
            removed += 1
        except FileNotFoundError:
            pass
    return removed
