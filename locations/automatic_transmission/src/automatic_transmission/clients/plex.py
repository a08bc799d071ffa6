"""Plex: after step 09 placed files, scan just the folders that changed (optional, via plexapi).

PLEX_URL (e.g. http://plex:32400) and PLEX_TOKEN; without PLEX_URL nothing happens. Each changed
folder is scanned by a partial refresh of the library section whose location holds it
(`/library/sections/<key>/refresh?path=<folder>`), once per folder. Plex being down, slow or
refusing the token is logged and never raised: the rows stay `transferred` and Plex finds the
files on its own next scan. The token is never logged.

Step 09 asks `PlexResource.refresher()` to `refresh_folders` the target folders of the rows it
moved to `transferred` in its run (one partial scan per folder, after all batches).
"""

from __future__ import annotations

import logging
import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from automatic_transmission.settings import setting
from dagstributor_shared.scrub import register, scrub

PLEX_URL_VAR = "PLEX_URL"
PLEX_TOKEN_VAR = "PLEX_TOKEN"
DEFAULT_TIMEOUT_S = 10.0
FILE_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,5}")  # `.mkv`, `.srt`; not `. Strangelove (1964)`

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    locations: tuple[str, ...]


@dataclass
class RefreshReport:
    scanned: list[tuple[str, str]] = field(default_factory=list)  # (section title, folder)
    unmatched: list[str] = field(default_factory=list)  # folders no section holds
    error: str | None = None  # why Plex could not be asked (logged, never raised)


def changed_folders(paths: Iterable[str]) -> list[str]:
    """The folders to scan: a file's folder, or the path itself when it has no file extension
    (a season or movie folder, also `Dr. Strangelove (1964)`); each once, sorted."""
    folders = set()
    for path in paths:
        clean = posixpath.normpath(path.rstrip("/")) if path else ""
        if not clean or clean == ".":
            continue
        is_file = FILE_EXTENSION.fullmatch(posixpath.splitext(clean)[1]) is not None
        folders.add(posixpath.dirname(clean) if is_file else clean)
    return sorted(folders)


def section_for(folder: str, sections: Sequence[Section]) -> Section | None:
    """The section with the longest location that holds `folder` (path-wise, not by prefix text)."""
    best: tuple[int, Section] | None = None
    for section in sections:
        for location in section.locations:
            root = location.rstrip("/") or "/"
            inside = folder == root or folder.startswith(root.rstrip("/") + "/")
            if inside and (best is None or len(root) > best[0]):
                best = (len(root), section)
    return best[1] if best else None


class PlexRefresher:
    """One Plex server; `refresh` never raises."""

    def __init__(
        self,
        url: str,
        token: str | None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        log: logging.Logger | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self._token = token
        register(token)  # like every client's secret: scrubbed from every text of this process
        self.timeout_s = timeout_s
        self.log = log or logger

    def __repr__(self) -> str:
        return f"PlexRefresher({self.url})"

    def _server(self) -> Any:
        from plexapi.server import PlexServer

        return PlexServer(self.url, self._token, timeout=self.timeout_s)

    def refresh(self, paths: Iterable[str]) -> RefreshReport:
        """Partial scans of the sections holding these paths' folders."""
        return self.refresh_folders(changed_folders(paths))

    def refresh_folders(self, folders: Sequence[str]) -> RefreshReport:
        """Partial scans of the sections holding these folders (each scanned as given)."""
        report = RefreshReport()
        if not folders:
            return report
        try:
            plex_sections = self._server().library.sections()
            by_key = {str(s.key): s for s in plex_sections}
            sections = [
                Section(str(s.key), str(s.title), tuple(s.locations)) for s in plex_sections
            ]
            for folder in folders:
                section = section_for(folder, sections)
                if section is None:
                    report.unmatched.append(folder)
                    self.log.warning(f"Plex: no library section holds {folder}; not scanned")
                    continue
                by_key[section.key].update(path=folder)
                report.scanned.append((section.title, folder))
                self.log.info(f"Plex: scanning {folder} in section {section.title!r}")
        except Exception as error:  # Plex down, slow or refusing: never fail the step
            report.error = scrub(f"{type(error).__name__}: {error}")
            self.log.warning(f"Plex at {self.url} not refreshed: {report.error}")
        return report


def refresher_from_environment(
    environ: Mapping[str, str] | None = None,
    *,
    url: str | None = None,
    token: str | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    log: logging.Logger | None = None,
) -> PlexRefresher | None:
    """The refresher of PLEX_URL / PLEX_TOKEN (explicit values first); None when no URL is set."""
    plex_url = str(setting(url, PLEX_URL_VAR, "", environ)).strip()
    if not plex_url:
        return None
    plex_token = setting(token, PLEX_TOKEN_VAR, None, environ)
    return PlexRefresher(plex_url, str(plex_token) if plex_token else None, timeout_s, log)


def refresh_plex(
    paths: Iterable[str],
    *,
    environ: Mapping[str, str] | None = None,
    log: logging.Logger | None = None,
) -> RefreshReport | None:
    """What step 09 calls after placing files: None when Plex is not configured."""
    refresher = refresher_from_environment(environ, log=log)
    return refresher.refresh(paths) if refresher is not None else None


class PlexResource(dg.ConfigurableResource):
    """Plex for step 09: PLEX_URL and PLEX_TOKEN read when a run starts (both optional; without
    PLEX_URL there is no refresher). Explicit fields win (tests)."""

    url: str | None = None
    token: str | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S

    def refresher(self, log: logging.Logger | None = None) -> PlexRefresher | None:
        return refresher_from_environment(
            url=self.url, token=self.token, timeout_s=self.timeout_s, log=log
        )
