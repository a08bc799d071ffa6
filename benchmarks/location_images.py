"""Image contents and cold start per code location, measured on the environment its image installs
(`uv sync --frozen --no-dev --no-editable --package <location>`, built in a temporary folder).

Prints, per location: package count, installed size, the packages, and the seconds from
`dagster code-server start` to a SERVING gRPC health check (median of --rounds cold starts).

    uv run python benchmarks/location_images.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

if str(Path(__file__).resolve().parents[1]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.location_env import LOCATIONS, build, clean_environ
from tests.support.processes import (
    LOOPBACK,
    REPO_ROOT,
    free_port,
    grpc_serving,
    start,
    stop_all,
    wait_for,
)


def cold_start(env_bin: str, location: str, workdir: Path) -> float:
    port = free_port()
    command = [
        env_bin, "code-server", "start", "-m", f"{location}.definitions",
        "--location-name", location, "-h", LOOPBACK, "-p", str(port),
    ]  # fmt: skip
    environ = clean_environ(
        DAGSTRIBUTOR_CONFIG_DIR=str(REPO_ROOT / "config"),
        DAGSTER_HOME=str(workdir),
        ENVIRONMENT="prod",
    )
    began = time.monotonic()
    item = start(f"{location}-{port}", command, environ, workdir)
    try:
        wait_for(lambda: item.alive() and grpc_serving(port), 150, location, interval=0.05)
        return time.monotonic() - began
    finally:
        stop_all([item], 10.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for location in LOCATIONS:
            began = time.monotonic()
            env = build(location, Path(tmp) / location)
            built = time.monotonic() - began
            packages = env.packages()
            size = env.size_bytes() / 2**20
            starts = [
                cold_start(env.script("dagster"), location, Path(tmp)) for _ in range(args.rounds)
            ]
            print(f"== {location}: {len(packages)} packages, {size:.0f} MiB installed "
                  f"(venv built in {built:.1f} s)")  # fmt: skip
            print(f"   code server cold start: median {statistics.median(starts):.1f} s "
                  f"(runs: {', '.join(f'{s:.1f}' for s in starts)})")  # fmt: skip
            print(
                "   " + ", ".join(f"{name} {version}" for name, version in sorted(packages.items()))
            )


if __name__ == "__main__":
    main()
