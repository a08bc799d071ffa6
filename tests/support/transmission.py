"""A real transmission-daemon for the tests: 127.0.0.1, a temporary config dir, free ports, RPC
behind a password, no DHT/PEX/LPD/uTP/port forwarding (`scripts/transmission_daemon.py`), stopped
(with escalation) afterwards.

One daemon serves a whole test session (per pytest-xdist worker): starting and stopping one costs
about 2 s. `Daemon.reset` gives each test a clean daemon: every torrent removed with its data, and
download folders of the test's own, so nothing one test did is seen by the next."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts.transmission_daemon import (
    INSTALL_HINT,
    DaemonConfig,
    binary,
    new_password,
    private_config,
)
from tests.support.processes import Started, start, stop_all, wait_for

START_TIMEOUT_S = 20.0
RESET_TIMEOUT_S = 20.0


@dataclass
class Daemon:
    config: DaemonConfig
    process: Started
    # Where finished and unfinished downloads go now (`reset` moves them per test).
    folders: tuple[Path, Path] | None = field(default=None)

    @property
    def host(self) -> str:
        return self.config.host

    @property
    def port(self) -> int:
        return self.config.rpc_port

    @property
    def download_dir(self) -> Path:
        return self.folders[0] if self.folders else self.config.download_dir

    def reset(self, base: Path) -> None:
        """A clean daemon for the next test: no torrent (each removed with its data) and the
        downloads in `base/downloads`, unfinished files in `base/incomplete`."""
        self.clear()
        download_dir, incomplete_dir = base / "downloads", base / "incomplete"
        for folder in (download_dir, incomplete_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self.rpc().set_session(download_dir=str(download_dir), incomplete_dir=str(incomplete_dir))
        self.folders = (download_dir, incomplete_dir)

    def clear(self) -> None:
        """Remove every torrent with its data; return once the daemon holds none."""
        self.process.check_alive()
        rpc = self.rpc()
        held = [t.hash_string for t in rpc.get_torrents(arguments=["hashString"])]
        if held:
            rpc.remove_torrent(held, delete_data=True)
        wait_for(lambda: not self.torrents(), RESET_TIMEOUT_S, "torrents removed", interval=0.05)

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
    min_free_space_gb: float = 0.001,
    seeding_dir: Path | None = None,
    **transmission: Any,
) -> dict[str, Any]:
    """The resources of steps 02 and 07-10: the daemon (or, without one, an address where
    nothing listens), the library under `library_root` (downloads are the daemon's), cleanup
    delays in seconds, the safety rules of the repository with the test floors
    (`safety_rules_for_tests`) and a small free-space reserve, and the optional `notifier` and `plex`
    (configured by the environment: AT_NOTIFY_URLS, PLEX_URL); seeding.yaml from `seeding_dir`
    (default the repository's)."""
    from automatic_transmission.clients.transmission import TransmissionResource
    from automatic_transmission.library.files import LibrarySettings
    from automatic_transmission.pipeline.resources import optional_resources
    from automatic_transmission.pipeline.steps.cleanup import CleanupSettings
    from automatic_transmission.safety import SafetySettings
    from automatic_transmission.seeding import SeedingSettings

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
        "safety_settings": SafetySettings(
            rules_dir=str(safety_rules_for_tests(library_root.parent / "safety-rules")),
            min_free_space_gb=min_free_space_gb,
        ),
        "seeding_settings": SeedingSettings(rules_dir=str(seeding_dir) if seeding_dir else None),
    }


# Video size floors of the tests (MB): a test movie of 200 KB passes, a 20 KB sample does not.
TEST_FLOORS_MB = {"movie": {"default": 0.1}, "tv": {"default": 0.0005}}


def safety_rules_for_tests(folder: Path, floors: dict[str, dict[str, float]] | None = None) -> Path:
    """A folder holding the repository's safety.yaml with the tests' size floors (the test
    torrents are kilobytes, not the gigabytes of real releases)."""
    from automatic_transmission.safety import SAFETY_FILE
    from tests.support.rule_files import rewritten

    return rewritten(SAFETY_FILE, folder, min_video_mb=floors or TEST_FLOORS_MB)


@contextmanager
def transmission_daemon(base: Path) -> Iterator[Daemon]:
    """Start a private daemon with its folders under `base`; stop it on the way out."""
    executable = binary()
    if executable is None:
        raise RuntimeError(f"transmission-daemon is not installed: {INSTALL_HINT}")
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
