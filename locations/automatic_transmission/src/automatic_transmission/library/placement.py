"""Placement planning (pure): a row and the files of its download -> target paths in the library.

`plan_placement` decides which files go where under a library root, or why an item is refused;
it touches no file (the work is `files.Library.place`).
"""

from __future__ import annotations

import os
import re
import string
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from automatic_transmission.library.naming import (
    Naming,
    safe_relative,
    slug,
    title_value,
)
from automatic_transmission.model import MediaRow, MediaType
from automatic_transmission.parsing import parse_release

VIDEO_EXTENSIONS = frozenset(
    {".mkv", ".mp4", ".m4v", ".avi", ".mov", ".wmv", ".ts", ".m2ts", ".webm", ".mpg", ".mpeg"}
)
SUBTITLE_EXTENSIONS = frozenset({".srt", ".sub", ".idx", ".ass", ".ssa", ".vtt", ".smi"})
_SAMPLE = re.compile(r"(?:^|[^a-z0-9])sample(?:[^a-z0-9]|$)", re.I)
# A video gets at most this many subtitles (a torrent of 5,000 `.srt` files is not 5,000 of them).
MAX_SUBTITLES_PER_VIDEO = 20
_SUBTITLE_TAG = re.compile(r"[A-Za-z]{2,12}(?:-[A-Za-z]{2,4})?$")


@dataclass(frozen=True)
class SourceFile:
    """A file of a finished download: its path relative to the download folder, its size."""

    path: str
    size: int

    @property
    def name(self) -> str:
        return PurePosixPath(self.path).name

    @property
    def suffix(self) -> str:
        return PurePosixPath(self.path).suffix.lower()

    @property
    def is_video(self) -> bool:
        return self.suffix in VIDEO_EXTENSIONS and not self.is_sample

    @property
    def is_subtitle(self) -> bool:
        return self.suffix in SUBTITLE_EXTENSIONS and not self.is_sample

    @property
    def is_sample(self) -> bool:
        return any(_SAMPLE.search(part) for part in PurePosixPath(self.path).parts[1:]) or bool(
            _SAMPLE.search(PurePosixPath(self.path).stem)
        )


@dataclass(frozen=True)
class Placement:
    """Where a download's files go: `root` (the library root, `parent_path`), `folder` (the item's
    folder under it, `target_path`), `files` (source path relative to the download folder ->
    target path relative to `root`)."""

    root: str
    folder: str
    files: tuple[tuple[str, str], ...]

    @property
    def target_path(self) -> str:
        return str(Path(self.root) / self.folder)


def _first(value: Any) -> int | None:
    if isinstance(value, list):
        return int(value[0]) if value else None
    return int(value) if value is not None else None


def _subtitle_tag(file: SourceFile) -> str:
    """`.en` of `Movie.en.srt`, `.English` of `Subs/2_English.srt`; '' when there is none."""
    token = re.split(r"[._\s]", PurePosixPath(file.path).stem)[-1]
    return f".{token}" if _SUBTITLE_TAG.fullmatch(token) else ""


def plan_placement(
    row: MediaRow,
    files: Sequence[SourceFile],
    naming: Naming,
    roots: Mapping[str, str],
) -> Placement:
    """The target of every video and of the subtitles that belong to it (language-tagged, or
    named after the video; at most MAX_SUBTITLES_PER_VIDEO each) of `row`'s download (`roots`:
    `movie` and `tv` library roots); linear in the number of files. UnsafePath for a hostile name, ValueError for a download that has no
    video or a row that lacks what the template needs."""
    if row.media_title is None:
        raise ValueError("media_title is null")
    values: dict[str, Any] = {
        "title": title_value(row.media_title),
        "slug": slug(row.media_title),
        "year": row.release_year,
        "season": row.season,
        "episode": row.episode,
        "resolution": row.resolution or "",
    }
    videos = sorted((f for f in files if f.is_video), key=lambda f: (-f.size, f.path))
    subtitles = sorted((f for f in files if f.is_subtitle), key=lambda f: f.path)
    if not videos:
        raise ValueError("no video file in the download")

    def render(template: str, **override: Any) -> PurePosixPath:
        merged = {**values, **override}
        needed = {n for _, n, _, _ in string.Formatter().parse(template) if n}
        for name in sorted(needed):
            if merged.get(name.split(":")[0]) is None:
                raise ValueError(f"{'release_year' if name == 'year' else name} is null")
        return safe_relative(template.format(**merged))

    def episode_stem(name: str) -> PurePosixPath | None:
        """A pack's file named from its own season and episode; None without an episode."""
        parsed = parse_release(name)
        episode = _first(parsed.episode)
        if episode is None:
            return None
        season = _first(parsed.season) if parsed.season is not None else row.season
        return render(naming.episode, season=season, episode=episode)

    single: PurePosixPath | None = None  # the one stem of a movie or a single episode
    chosen: list[tuple[SourceFile, PurePosixPath]] = []
    if not row.media_type.is_tv:
        root, single = roots["movie"], render(naming.movie)
        chosen.append((videos[0], single))
    elif row.media_type is MediaType.TV_SHOW:
        root, single = roots["tv"], render(naming.episode)
        chosen.append((videos[0], single))
    else:  # season and multi-episode packs merge into the season folder
        root = roots["tv"]
        for video in sorted(videos, key=lambda f: f.path):
            stem = episode_stem(video.name)
            if stem is None:  # no episode number: the file keeps its own name in the folder
                season_folder = render(naming.episode, episode=1).parent
                stem = season_folder / safe_relative(video.name).stem
            chosen.append((video, stem))

    mapping = {video.path: f"{stem}{video.suffix}" for video, stem in chosen}
    own_stems = {PurePosixPath(video.path).stem for video, _ in chosen}
    per_video: Counter[PurePosixPath] = Counter()
    same_name: Counter[str] = Counter()  # target -> how many already want it (linear numbering)
    # Those named after a video first, then the language-tagged ones, each by path.
    subtitles.sort(key=lambda f: (PurePosixPath(f.path).stem not in own_stems, f.path))
    for subtitle in subtitles:
        own = PurePosixPath(subtitle.path).stem in own_stems
        tag = "" if own else _subtitle_tag(subtitle)
        if not tag and not own:
            continue  # neither language-tagged nor named after a video: not this item's
        base = single if single is not None else episode_stem(subtitle.name)
        if base is None or per_video[base] >= MAX_SUBTITLES_PER_VIDEO:
            continue
        per_video[base] += 1
        target = f"{base}{tag}{subtitle.suffix}"
        same_name[target] += 1
        if same_name[target] > 1:
            target = f"{base}{tag}.{same_name[target]}{subtitle.suffix}"
        mapping[subtitle.path] = target
    folder = os.path.commonpath(sorted({str(PurePosixPath(t).parent) for t in mapping.values()}))
    return Placement(root=root, folder=folder, files=tuple(sorted(mapping.items())))
