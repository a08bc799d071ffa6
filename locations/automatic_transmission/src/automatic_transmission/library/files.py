"""The file work of the library: listing a download, and placing files by hardlink or copy.

Every file goes in through a temporary name in its target folder and an atomic rename, so a crash
never leaves a half-written item under its real name; a hardlink when source and library share a
filesystem, else a copy that is flushed to disk before the rename. Any name that is absolute, has a
`..` part, or resolves through a link to outside its root is refused before anything is written.
"""

from __future__ import annotations

import errno
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from automatic_transmission.library.naming import Naming, UnsafePath, load_naming, safe_relative
from automatic_transmission.library.placement import Placement, SourceFile
from automatic_transmission.settings import owner_id, required_setting, setting, unset_settings

MODE = 0o775
PARTIAL_SUFFIX = ".partial"


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
        (0 when all were hardlinked or already there). Every target is checked before the first
        is written. A full library raises NoSpace (what the rest needs, what is free)."""
        root = Path(placement.root)
        targets = [
            (Path(self.download_dir) / source, resolve_inside(root, target))
            for source, target in placement.files
        ]
        copied = 0
        for n, (source, target) in enumerate(targets):
            try:
                self._make_folders(root.resolve(), target.parent)
                copied += self._put(source, target)
            except OSError as error:
                if error.errno != errno.ENOSPC:
                    raise
                need = sum(s.stat().st_size for s, _ in targets[n:])
                raise NoSpace(root, need, shutil.disk_usage(root).free) from error
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
        `target`; returns 1 when it copied. A target that already is this file (the same inode,
        or the same size and bytes: a run that placed it and died before recording) is kept
        as it is. A leftover temporary file of an interrupted run is replaced, and the
        temporary file is removed on every failure (ENOSPC included), so it never eats space."""
        if identical(source, target):
            return 0
        partial = target.with_name(f".{target.name}{PARTIAL_SUFFIX}")
        partial.unlink(missing_ok=True)
        try:
            copied = self._link_or_copy(source, partial)
            self._own(partial)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)  # gone after the rename; a failure's leftover
        _sync_folder(target.parent)
        return copied

    def _link_or_copy(self, source: Path, partial: Path) -> int:
        if not self.copy_only:
            try:
                os.link(source, partial)
                return 0
            except OSError as error:
                if error.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                    raise
        copy_file(source, partial)
        return 1


class NoSpace(OSError):
    """The library's filesystem is full: the item waits, saying what it needs and what is free."""

    def __init__(self, root: Path, need: int, free: int) -> None:
        super().__init__(errno.ENOSPC, f"no space left in {root}: need {need} B, free {free} B")
        self.need, self.free = need, free

    def __str__(self) -> str:
        return str(self.strerror)


COMPARE_CHUNK = 1 << 20


def identical(source: Path, target: Path) -> bool:
    """`target` exists and holds `source`'s bytes: the same inode, or the same size and content
    (read side by side, stopping at the first difference)."""
    try:
        a, b = source.stat(), target.stat()
    except FileNotFoundError:
        return False
    if (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino):
        return True
    if a.st_size != b.st_size:
        return False
    with source.open("rb") as left, target.open("rb") as right:
        while chunk := left.read(COMPARE_CHUNK):
            if chunk != right.read(len(chunk)):
                return False
    return True


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


DOWNLOAD_DIR_VAR = "AT_DOWNLOAD_DIR"
MOVIE_DIR_VAR = "AT_MOVIE_DIR"
TV_SHOW_DIR_VAR = "AT_TV_SHOW_DIR"
UID_VAR = "AT_UID"
GID_VAR = "AT_GID"
NAMING_VAR = "AT_LIBRARY_NAMING"
DEFAULT_NAMING = "plex"


class LibrarySettings(dg.ConfigurableResource):
    """Step 09: where finished downloads are (AT_DOWNLOAD_DIR, as this process sees
    Transmission's download dir), the library roots (AT_MOVIE_DIR, AT_TV_SHOW_DIR), the numeric
    owner of placed files (AT_UID, AT_GID; unset = leave it), the naming preset of
    config/automatic_transmission/naming.yaml (AT_LIBRARY_NAMING, default plex). `copy_only`
    (tests, benchmarks) copies even when a hardlink would do."""

    download_dir: str | None = None
    movie_dir: str | None = None
    tv_show_dir: str | None = None
    uid: int | None = None
    gid: int | None = None
    naming: str | None = None
    naming_dir: str | None = None
    copy_only: bool = False

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if not self.missing_settings():  # missing ones: the step op's check names them all
            self.library()  # a bad preset or owner fails the run at its start

    def missing_settings(self) -> list[str]:
        return unset_settings({DOWNLOAD_DIR_VAR: self.download_dir, MOVIE_DIR_VAR: self.movie_dir,
                               TV_SHOW_DIR_VAR: self.tv_show_dir})  # fmt: skip

    def library(self) -> Library:

        owner = [owner_id(value, var) for value, var in ((self.uid, UID_VAR), (self.gid, GID_VAR))]
        return Library(
            download_dir=required_setting(self.download_dir, DOWNLOAD_DIR_VAR),
            movie_dir=required_setting(self.movie_dir, MOVIE_DIR_VAR),
            tv_show_dir=required_setting(self.tv_show_dir, TV_SHOW_DIR_VAR),
            naming=load_naming(
                str(setting(self.naming, NAMING_VAR, DEFAULT_NAMING)), self.naming_dir
            ),
            uid=owner[0],
            gid=owner[1],
            copy_only=self.copy_only,
        )
