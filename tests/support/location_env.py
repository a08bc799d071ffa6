"""One code location alone in a fresh virtual environment, installed from uv.lock exactly as its
image installs it (`uv sync --frozen --no-dev --no-editable --package <location>`): no other
location, no dev tools. Used by tests/deploy/test_location_independence.py and
benchmarks/location_images.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.support.processes import REPO_ROOT

LOCATIONS = ("automatic_transmission", "wiring_schema_tics")
SYNC_TIMEOUT = 600


def uv() -> str:
    found = shutil.which("uv") or shutil.which("uv", path=str(Path.home() / ".local/bin"))
    assert found, "uv is not on PATH"
    return found


@dataclass(frozen=True)
class LocationEnv:
    location: str
    path: Path

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def script(self, name: str) -> str:
        return str(self.path / "bin" / name)

    def packages(self) -> dict[str, str]:
        """Distribution name -> version of everything installed."""
        result = subprocess.run(
            [uv(), "pip", "list", "--python", str(self.python), "--format", "json"],
            capture_output=True, text=True, check=True, timeout=60,
        )  # fmt: skip
        return {p["name"]: p["version"] for p in json.loads(result.stdout)}

    def size_bytes(self) -> int:
        return sum(p.lstat().st_size for p in self.path.rglob("*") if p.is_file() or p.is_symlink())


def clean_environ(**extra: str) -> dict[str, str]:
    """What an image's process sees: no virtual env, no checkout variables, no pod signal."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "XDG_RUNTIME_DIR", "UV_CACHE_DIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    return {**env, **extra}


def build(location: str, target: Path) -> LocationEnv:
    """The location's environment at `target` (uv's cache makes a rebuild take seconds)."""
    env = clean_environ(UV_PROJECT_ENVIRONMENT=str(target), UV_COMPILE_BYTECODE="0")
    result = subprocess.run(
        [uv(), "sync", "--frozen", "--no-dev", "--no-editable", "--quiet",
         "--package", location.replace("_", "-")],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=SYNC_TIMEOUT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return LocationEnv(location, target)
