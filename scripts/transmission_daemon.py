"""A private transmission-daemon on 127.0.0.1: its settings file and command line.

The one recipe used by `scripts/local_stack.py` and by the tests (`tests/support/transmission.py`):
RPC and peers bound to loopback, RPC behind a user name and password, no DHT, PEX, LPD, uTP or
port forwarding (nothing reaches beyond the machine), downloads in `download_dir` with unfinished
files in `incomplete_dir` (as a real install does — step 08 must cope with that window).
"""

from __future__ import annotations

import json
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.processes import free_ports

BINARY = "transmission-daemon"
INSTALL_HINT = (
    "install Debian's transmission-daemon (apt-get install transmission-daemon) "
    "or point TRANSMISSION_HOST/PORT/USERNAME/PASSWORD at a running one"
)


def binary() -> str | None:
    """The daemon's executable, or None when it is not installed."""
    return shutil.which(BINARY)


def new_password() -> str:
    return secrets.token_urlsafe(18)


@dataclass(frozen=True)
class DaemonConfig:
    config_dir: Path
    download_dir: Path
    incomplete_dir: Path
    rpc_port: int
    peer_port: int
    username: str
    password: str
    host: str = "127.0.0.1"

    def settings(self) -> dict[str, Any]:
        """transmission-daemon's settings.json (it hashes the plain password on its first save)."""
        return {
            "rpc-enabled": True,
            "rpc-bind-address": self.host,
            "rpc-port": self.rpc_port,
            "rpc-authentication-required": True,
            "rpc-username": self.username,
            "rpc-password": self.password,
            "rpc-whitelist-enabled": True,
            "rpc-whitelist": "127.0.0.1",
            "rpc-host-whitelist-enabled": False,
            "bind-address-ipv4": self.host,
            "bind-address-ipv6": "::1",
            "peer-port": self.peer_port,
            "peer-port-random-on-start": False,
            "port-forwarding-enabled": False,
            "dht-enabled": False,
            "pex-enabled": False,
            "lpd-enabled": False,
            "utp-enabled": False,
            "blocklist-enabled": False,
            "download-dir": str(self.download_dir),
            "incomplete-dir": str(self.incomplete_dir),
            "incomplete-dir-enabled": True,
            "start-added-torrents": True,
            "rename-partial-files": True,
            "umask": 2,
            "message-level": 2,
            "download-queue-enabled": False,
            "seed-queue-enabled": False,
            "queue-stalled-enabled": False,
            "ratio-limit-enabled": False,
            "idle-seeding-limit-enabled": False,
        }

    def prepare(self) -> None:
        """Create the folders and write settings.json (the daemon reads it at start)."""
        for folder in (self.config_dir, self.download_dir, self.incomplete_dir):
            folder.mkdir(parents=True, exist_ok=True)
        (self.config_dir / "settings.json").write_text(json.dumps(self.settings(), indent=2))

    def command(self, executable: str) -> list[str]:
        """Foreground (-f), config dir (-g); logs go to stderr."""
        return [executable, "-f", "-g", str(self.config_dir)]


def private_config(base: Path, username: str, password: str) -> DaemonConfig:
    """The one layout of a private daemon: settings in `base/transmission`, downloads in
    `base/downloads`, unfinished files in `base/incomplete`, RPC and peers on free loopback
    ports; its folders and settings file written, ready to start."""
    rpc_port, peer_port = free_ports(2)
    config = DaemonConfig(
        config_dir=base / "transmission",
        download_dir=base / "downloads",
        incomplete_dir=base / "incomplete",
        rpc_port=rpc_port,
        peer_port=peer_port,
        username=username,
        password=password,
    )
    config.prepare()
    return config
