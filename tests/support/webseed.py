"""A BitTorrent web seed on 127.0.0.1 (BEP 19): files served with HTTP byte ranges, plus the test
torrents (made with `torf`) whose url-list points at it and whose `.torrent` files it serves.

Python's plain `http.server` ignores `Range`, which Transmission needs; this one answers 206 with
the asked range. A seed can be slowed (`rate`, bytes per second) or taken away (`gone`), to make
a download that moves slowly or not at all.
"""

from __future__ import annotations

import re
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from tests.support.http import LocalHttpServer, serving

SEED_PREFIX = "/seed/"
TORRENT_PREFIX = "/torrents/"
_RANGE = re.compile(r"bytes=(\d+)-(\d*)$")


@dataclass(frozen=True)
class SeededTorrent:
    """A torrent of local files: its info-hash, its name (Transmission's top-level name) and
    the URL of its `.torrent` file on the web seed server."""

    hash: str
    name: str
    url: str
    path: Path  # the seeded file or folder


class WebSeed(LocalHttpServer):
    """Serves `root` under /seed/ (byte ranges) and `.torrent` files under /torrents/."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.torrents_dir = root.parent / f"{root.name}-torrents"
        self.torrents_dir.mkdir(parents=True, exist_ok=True)
        self.rate: float | None = None  # bytes per second; None = as fast as it goes
        self.gone = False  # True: every seed request fails (the seed vanished)
        self.requests = 0
        self.torrent_fetches = 0  # `.torrent` files served
        super().__init__(self._handler_class())

    def make_torrent(self, path: Path, piece_size: int = 16 * 1024) -> SeededTorrent:
        """A torrent of `path` (a file or a folder under `root`) seeded from here: no trackers,
        url-list = this server, its `.torrent` file served under /torrents/<name>.torrent."""
        import torf

        relative = path.relative_to(self.root)
        torrent = torf.Torrent(
            path=path,
            webseeds=[f"{self.url}{SEED_PREFIX}{quote(str(relative.parent))}/".replace("/./", "/")],
            private=False,
            created_by=None,
            creation_date=None,
        )
        torrent.piece_size = piece_size
        torrent.generate()
        file_name = f"{torrent.infohash}.torrent"
        torrent.write(self.torrents_dir / file_name, overwrite=True)
        return SeededTorrent(
            hash=torrent.infohash,
            name=str(torrent.name),
            url=f"{self.url}{TORRENT_PREFIX}{file_name}",
            path=path,
        )

    def make_renamed_torrent(self, file: Path, name: str) -> SeededTorrent:
        """A single-file torrent of `file` (under `root`) whose name is `name`, seeded from the
        file's own URL (BEP 19: a url-list entry without a trailing `/` is the file itself), so
        the name can be one this filesystem cannot hold (e.g. longer than 255 bytes)."""
        import torf

        relative = quote(str(file.relative_to(self.root)))
        torrent = torf.Torrent(
            path=file,
            webseeds=[f"{self.url}{SEED_PREFIX}{relative}"],
            private=False,
            created_by=None,
            creation_date=None,
        )
        torrent.piece_size = 16 * 1024
        torrent.generate()
        torrent.name = name
        file_name = f"{torrent.infohash}.torrent"
        torrent.write(self.torrents_dir / file_name, overwrite=True)
        return SeededTorrent(torrent.infohash, name, f"{self.url}{TORRENT_PREFIX}{file_name}", file)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        seed = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                path = unquote(urlsplit(self.path).path)
                if path.startswith(TORRENT_PREFIX):
                    seed.torrent_fetches += 1
                    self._send_file(seed.torrents_dir / path[len(TORRENT_PREFIX) :], whole=True)
                elif path.startswith(SEED_PREFIX):
                    seed.requests += 1
                    if seed.gone:
                        self._fail(404)
                        return
                    self._send_file(seed.root / path[len(SEED_PREFIX) :], whole=False)
                else:
                    self._fail(404)

            def _fail(self, status: int) -> None:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _send_file(self, file: Path, whole: bool) -> None:
                resolved = file.resolve()
                base = (seed.torrents_dir if whole else seed.root).resolve()
                if not resolved.is_file() or base not in resolved.parents:
                    self._fail(404)
                    return
                size = resolved.stat().st_size
                start, end = 0, size - 1
                match = _RANGE.match(self.headers.get("Range", "")) if not whole else None
                if match:
                    start = int(match.group(1))
                    end = min(int(match.group(2)) if match.group(2) else size - 1, size - 1)
                    if start > end:
                        self._fail(416)
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(end - start + 1))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                with resolved.open("rb") as source:
                    source.seek(start)
                    left = end - start + 1
                    while left > 0:
                        chunk = source.read(min(left, 16 * 1024))
                        if not chunk:
                            break
                        if seed.rate:
                            time.sleep(len(chunk) / seed.rate)
                        try:
                            self.wfile.write(chunk)
                        except (BrokenPipeError, ConnectionResetError):
                            return
                        left -= len(chunk)

        return Handler


def web_seed(root: Path) -> AbstractContextManager[WebSeed]:
    return serving(WebSeed(root))


def write_payload(path: Path, size: int, seed: int = 0) -> Path:
    """A file of `size` pseudo-random bytes (different per `seed`), creating its folders."""
    import random

    path.parent.mkdir(parents=True, exist_ok=True)
    generator = random.Random(seed)
    block = generator.randbytes(min(size, 1 << 20))
    with path.open("wb") as out:
        left = size
        while left > 0:  # repeated 1 MiB blocks, each starting with a fresh prefix
            chunk = generator.randbytes(16) + block[16 : min(left, len(block))]
            out.write(chunk[:left])
            left -= len(chunk[:left])
    return path
