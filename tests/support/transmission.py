"""A real transmission-daemon for one test: 127.0.0.1, a temporary config dir, free ports, RPC
behind a password, no DHT/PEX/LPD/uTP/port forwarding (`scripts/transmission_daemon.py`), stopped
(with escalation) afterwards."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.transmission_daemon import DaemonConfig, binary, new_password, private_config
from tests.support.processes import Started, start, stop_all, wait_for

START_TIMEOUT_S = 20.0


@dataclass
class Daemon:
    config: DaemonConfig
    process: Started

    @property
    def host(self) -> str:
        return self.config.host

    @property
    def port(self) -> int:
        return self.config.rpc_port

    @property
    def download_dir(self) -> Path:
        return self.config.download_dir

    def resource(self, **overrides: Any) -> Any:
        """The pipeline's TransmissionResource pointed at this daemon."""
        from automatic_transmission.clients.transmission import TransmissionResource

        values: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "username": self.config.username,
            "password": self.config.password,
            "timeout_s": 10.0,
            **overrides,
        }
        return TransmissionResource(**values)

    def rpc(self) -> Any:
        """A plain transmission_rpc.Client, for tests to arrange and inspect the daemon."""
        import transmission_rpc

        return transmission_rpc.Client(
            host=self.host,
            port=self.port,
            username=self.config.username,
            password=self.config.password,
            timeout=10,
        )

    def torrents(self) -> dict[str, Any]:
        """Hash -> transmission_rpc.Torrent for every torrent the daemon holds."""
        return {t.hash_string: t for t in self.rpc().get_torrents()}

    def wait_until(self, hash: str, condition: str, timeout: float = 30.0) -> Any:
        """Wait until the torrent is `seeding` (done with its data) or `gone`."""

        def reached() -> Any:
            torrent = self.torrents().get(hash)
            if condition == "gone":
                return torrent is None
            return torrent is not None and torrent.status == condition

        return wait_for(reached, timeout, f"torrent {hash[:8]} {condition}", interval=0.1)


def download_resources(
    daemon: Daemon | None,
    library_root: Path,
    *,
    copy_only: bool = False,
    hung_delay_s: float = 3600.0,
    transferred_delay_s: float = 0.0,
    frozen_delay_s: float | None = None,
    target_active_items: int = 10,
    **transmission: Any,
) -> dict[str, Any]:
    """The resources of steps 02 and 07-10: the daemon (or, without one, an address where
    nothing listens), the library under `library_root` (downloads are the daemon's), cleanup
    delays in seconds, and the optional `notifier` and `plex` (configured by the environment:
    AT_NOTIFY_URLS, PLEX_URL)."""
    from automatic_transmission.clients.transmission import TransmissionResource
    from automatic_transmission.library.files import LibrarySettings
    from automatic_transmission.pipeline.resources import optional_resources
    from automatic_transmission.pipeline.steps.cleanup import CleanupSettings

    day = 86400.0
    for folder in ("movies", "tv"):
        (library_root / folder).mkdir(parents=True, exist_ok=True)
    download_dir = daemon.download_dir if daemon else library_root / "downloads"
    return {
        **optional_resources(),
        "transmission": (
            daemon.resource(**transmission)
            if daemon
            else TransmissionResource(host="127.0.0.1", port=9, timeout_s=2.0, **transmission)
        ),
        "library": LibrarySettings(
            download_dir=str(download_dir),
            movie_dir=str(library_root / "movies"),
            tv_show_dir=str(library_root / "tv"),
            copy_only=copy_only,
        ),
        "cleanup_settings": CleanupSettings(
            target_active_items=target_active_items,
            hung_delay_days=hung_delay_s / day,
            transferred_delay_days=transferred_delay_s / day,
            frozen_delay_days=None if frozen_delay_s is None else frozen_delay_s / day,
        ),
    }


@contextmanager
def transmission_daemon(base: Path) -> Iterator[Daemon]:
    """Start a private daemon with its folders under `base`; stop it on the way out."""
    executable = binary()
    if executable is None:
        raise RuntimeError("transmission-daemon is not installed (.ci/run installs it)")
    config = private_config(base, username="pipeline", password=new_password())
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(config.config_dir)}
    process = start("transmission-daemon", config.command(executable), env, base)
    daemon = Daemon(config, process)
    try:
        wait_for(lambda: _answers(daemon), START_TIMEOUT_S, "transmission-daemon RPC", 0.1)
        yield daemon
    finally:
        stop_all([process], grace=10.0)


def _answers(daemon: Daemon) -> bool:
    daemon.process.check_alive()
    try:
        daemon.rpc()
    except Exception:
        return False
    return True
