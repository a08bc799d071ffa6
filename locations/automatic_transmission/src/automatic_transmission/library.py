"""The library: naming templates, safe paths, and placing files by hardlink or copy.

`plan_placement` (pure) turns a row and the files of its download into target paths under a
library root, or a reason to refuse. `Library.place` does the file work: every file goes in
through a temporary name in its target folder and an atomic rename, so a crash never leaves a
half-written item under its real name; a hardlink when source and library share a filesystem,
else a copy that is flushed to disk before the rename. Any name that is absolute, has a `..`
part, or resolves through a link to outside its root is refused before anything is written.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from automatic_transmission.filters import rules_dir
from automatic_transmission.model import MediaRow, MediaType
from automatic_transmission.parsing import parse_release
from dagstributor_shared.config_files import read_yaml

NAMING_FILE = "naming.yaml"
TEMPLATE_KINDS = ("movie", "episode")
TEMPLATE_FIELDS = frozenset({"title", "year", "season", "episode", "resolution", "slug"})
VIDEO_EXTENSIONS = frozenset(
    {".mkv", ".mp4", ".m4v", ".avi", ".mov", ".wmv", ".ts", ".m2ts", ".webm", ".mpg", ".mpeg"}
)
SUBTITLE_EXTENSIONS = frozenset({".srt", ".sub", ".idx", ".ass", ".ssa", ".vtt", ".smi"})
MODE = 0o775
PARTIAL_SUFFIX = ".partial"
_SAMPLE = re.compile(r"(?:^|[^a-z0-9])sample(?:[^a-z0-9]|$)", re.I)
_UNSAFE_CHARS = re.compile(r"[\x00-\x1f\x7f]")
_SLUG_SEPARATORS = re.compile(r"[^0-9a-z]+")
_SUBTITLE_TAG = re.compile(r"[A-Za-z]{2,12}(?:-[A-Za-z]{2,4})?$")


class UnsafePath(ValueError):
    """A name that would leave its root (absolute, `..`, a link to outside): refused."""


class NamingError(ValueError):
    """The naming file or preset is unusable (a configuration error)."""


# --- naming ------------------------------------------------------------------------------------


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
    path = rules_dir(naming_dir) / NAMING_FILE
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
    path = rules_dir(naming_dir) / NAMING_FILE
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


def _title_value(title: str) -> str:
    """A title as one path part: a slash inside a title (`Face/Off`) becomes a dash, but a
    title that is itself a path trick (absolute, `..`) is refused."""
    if title.startswith("/") or any(p in (".", "..") for p in title.split("/")):
        raise UnsafePath(f"title {title!r} refused: it is a path")
    return title.replace("/", "-").replace("\\", "-").strip()


# --- planning (pure) -------------------------------------------------------------------------


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
    """The target of every video and subtitle file of `row`'s download (`roots`: `movie` and
    `tv` library roots). UnsafePath for a hostile name, ValueError for a download that has no
    video or a row that lacks what the template needs."""
    if row.media_title is None:
        raise ValueError("media_title is null")
    values: dict[str, Any] = {
        "title": _title_value(row.media_title),
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
    taken = set(mapping.values())
    for subtitle in subtitles:
        base = single if single is not None else episode_stem(subtitle.name)
        if base is None:
            continue
        tag = _subtitle_tag(subtitle)
        target, n = f"{base}{tag}{subtitle.suffix}", 2
        while target in taken:
            target, n = f"{base}{tag}.{n}{subtitle.suffix}", n + 1
        taken.add(target)
        mapping[subtitle.path] = target
    folder = os.path.commonpath(sorted({str(PurePosixPath(t).parent) for t in mapping.values()}))
    return Placement(root=root, folder=folder, files=tuple(sorted(mapping.items())))


# --- the file work ---------------------------------------------------------------------------


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def resolve_inside(root: Path, relative: str) -> Path:
    """`root / relative` after checking the name and that what exists of it resolves (links
    followed) inside `root`; UnsafePath otherwise."""
    real_root = root.resolve()
    candidate = real_root / safe_relative(relative)
    probe = candidate
    while not os.path.lexists(probe) and probe != real_root:
        probe = probe.parent
    if not _inside(probe.resolve(), real_root):
        raise UnsafePath(f"{relative!r} resolves through a link to outside {root}")
    return candidate


def list_download(download_dir: Path, original_path: str) -> list[SourceFile]:
    """The files of a finished download (a file or a folder named `original_path`), paths
    relative to `download_dir`. UnsafePath when the name or a link inside leaves the folder;
    FileNotFoundError when it is not there."""
    top = resolve_inside(download_dir, original_path)
    if not top.exists():
        raise FileNotFoundError(f"{original_path!r} not found in {download_dir}")
    real_root = download_dir.resolve()
    if top.is_file():
        return [SourceFile(original_path, top.stat().st_size)]
    found = []
    for folder, dirs, names in os.walk(top):
        for name in [*names, *(d for d in dirs if os.path.islink(os.path.join(folder, d)))]:
            full = Path(folder) / name
            if not _inside(full.resolve(), real_root):
                raise UnsafePath(f"{full.relative_to(real_root)} links to outside the downloads")
            if full.is_file():
                found.append(SourceFile(str(full.relative_to(real_root)), full.stat().st_size))
    return found


@dataclass(frozen=True)
class Library:
    download_dir: str
    movie_dir: str
    tv_show_dir: str
    naming: Naming
    uid: int | None = None
    gid: int | None = None
    copy_only: bool = False

    @property
    def roots(self) -> dict[str, str]:
        return {"movie": self.movie_dir, "tv": self.tv_show_dir}

    def place(self, placement: Placement) -> int:
        """Put every file of `placement` in the library; returns the number of files copied
        (0 when all were hardlinked). Every target is checked before the first is written."""
        root = Path(placement.root)
        targets = [
            (Path(self.download_dir) / source, resolve_inside(root, target))
            for source, target in placement.files
        ]
        copied = 0
        for source, target in targets:
            self._make_folders(root.resolve(), target.parent)
            copied += self._put(source, target)
        return copied

    def _own(self, path: Path | int) -> None:
        os.chmod(path, MODE)
        if self.uid is not None or self.gid is not None:
            os.chown(
                path, -1 if self.uid is None else self.uid, -1 if self.gid is None else self.gid
            )

    def _make_folders(self, root: Path, folder: Path) -> None:
        missing = []
        probe = folder
        while not probe.exists() and probe != root:
            missing.append(probe)
            probe = probe.parent
        for path in reversed(missing):
            path.mkdir(exist_ok=True)
            self._own(path)
        if not _inside(folder.resolve(), root):  # a link raced in meanwhile
            raise UnsafePath(f"{folder} resolves to outside {root}")

    def _put(self, source: Path, target: Path) -> int:
        """Hardlink or copy `source` to a temporary name beside `target`, then rename it over
        `target`; returns 1 when it copied. A leftover temporary file of an interrupted run is
        replaced."""
        partial = target.with_name(f".{target.name}{PARTIAL_SUFFIX}")
        partial.unlink(missing_ok=True)
        copied = 0
        linked = False
        if not self.copy_only:
            try:
                os.link(source, partial)
                linked = True
            except OSError as error:
                if error.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                    raise
        if not linked:
            copy_file(source, partial)
            copied = 1
        self._own(partial)
        os.replace(partial, target)
        _sync_folder(target.parent)
        return copied


COPY_CHUNK = 1 << 30


def copy_file(source: Path, target: Path) -> None:
    """A copy inside the kernel (copy_file_range, as `cp` does; shutil's sendfile path where
    that is not supported), flushed to disk before it returns."""
    with source.open("rb") as reader, target.open("wb") as writer:
        try:
            while os.copy_file_range(reader.fileno(), writer.fileno(), COPY_CHUNK):
                pass
        except OSError as error:
            if error.errno not in (errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL):
                raise
            reader.seek(0)
            writer.seek(0)
            writer.truncate()
            shutil.copyfileobj(reader, writer, COPY_CHUNK // 64)
        writer.flush()
        os.fsync(writer.fileno())


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
