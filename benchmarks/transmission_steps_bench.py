"""Steps 07, 08 and 10 with 100 and 1,000 torrents in a real transmission-daemon and as many
`atp.media` rows: RPC calls and database round trips per run. Neither may grow with the number
of torrents: each run makes one `torrent-get`, and its database round trips depend on the number
of batches only (shown with AT_BATCH_SIZE = 50 and with one batch holding every row).

    uv run python benchmarks/transmission_steps_bench.py [--sizes 100,1000]

Setup per size: N paused torrents (made with torf, added as metainfo, so nothing downloads) with
N `downloading` rows; 10 `media_accepted` rows (step 07 adds them, by magnet); 10 `transferred`
rows whose torrents step 10 removes. Counts: RPC calls by method (session-get included), round
trips of every connection the step opens (tests/support/roundtrips.py).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from unittest import mock

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import psycopg2  # noqa: E402
import transmission_rpc  # noqa: E402
from psycopg2.extras import execute_values  # noqa: E402

from automatic_transmission.pipeline.jobs import pipeline_jobs  # noqa: E402
from automatic_transmission.settings import PipelineSettings  # noqa: E402
from tests.support.atp import temporary_atp_database  # noqa: E402
from tests.support.database import open_test_server  # noqa: E402
from tests.support.roundtrips import CountingConnection  # noqa: E402
from tests.support.transmission import Daemon, download_resources, transmission_daemon  # noqa: E402

OPENED: list[CountingConnection] = []
RPC_CALLS: Counter[str] = Counter()
_real_connect = psycopg2.connect
_real_request = transmission_rpc.Client._request


def counting_connect(*args: Any, **kwargs: Any) -> Any:
    connection = _real_connect(*args, connection_factory=CountingConnection, **kwargs)
    OPENED.append(connection)
    return connection


def counting_request(self: Any, method: Any, *args: Any, **kwargs: Any) -> Any:
    RPC_CALLS[str(getattr(method, "value", method))] += 1
    return _real_request(self, method, *args, **kwargs)


def make_torrents(folder: Path, count: int, start: int) -> list[tuple[str, bytes]]:
    """`count` tiny single-file torrents: (info-hash, metainfo bytes)."""
    import torf

    made = []
    for n in range(start, start + count):
        path = folder / f"Bench.Item.{n:05d}.2020.1080p.mkv"
        path.write_bytes(n.to_bytes(4, "big") * 64)
        torrent = torf.Torrent(path=path, created_by=None, creation_date=None)
        torrent.piece_size = 16 * 1024
        torrent.generate()
        made.append((torrent.infohash, torrent.dump()))
    return made


def insert_rows(connection: Any, rows: Sequence[tuple[str, str, str | None]]) -> None:
    with connection.cursor() as cursor:
        execute_values(
            cursor,
            "INSERT INTO atp.media (hash, media_type, pipeline_status, rejection_status,"
            " original_title, original_link, media_title, release_year)"
            " VALUES %s",
            [
                (h, "movie", status, "accepted", f"Bench Item {h[:8]}", link, "Bench", 2020)
                for h, status, link in rows
            ],
            page_size=len(rows),
        )
    connection.commit()


def measure(job: str, resources: dict[str, Any]) -> tuple[int, dict[str, int], float]:
    OPENED.clear()
    RPC_CALLS.clear()
    began = time.perf_counter()
    result = pipeline_jobs()[job].execute_in_process(resources=resources, raise_on_error=False)
    elapsed = time.perf_counter() - began
    if not result.success:
        raise RuntimeError(f"{job} failed")
    return sum(c.round_trips for c in OPENED), dict(RPC_CALLS), elapsed


def bench_size(pg: Any, daemon: Daemon, folder: Path, size: int, batch_size: int) -> None:
    rpc = daemon.rpc()
    for torrent in rpc.get_torrents(arguments=["id"]):
        rpc.remove_torrent(torrent.id)
    seeded = make_torrents(folder, size + 10, 0)
    for _, metainfo in seeded:
        rpc.add_torrent(metainfo, paused=True)
    downloading, transferred = seeded[:size], seeded[size:]
    accepted = [f"{n:040x}" for n in range(1, 11)]
    with temporary_atp_database(pg) as database:
        with pg.connection(database) as connection:
            insert_rows(
                connection,
                [(h, "downloading", None) for h, _ in downloading]
                + [(h, "transferred", None) for h, _ in transferred]
                + [(h, "media_accepted", None) for h in accepted],
            )
        resources = {
            "postgres": pg.resource(database, env_prefix="AT_PGSQL"),
            "pipeline_settings": PipelineSettings(batch_size=batch_size),
            **download_resources(daemon, folder / "library", hung_delay_s=86400.0 * 30),
        }
        for key in ("at_07_initiation", "at_08_download_check", "at_10_cleanup"):
            trips, calls, elapsed = measure(key, resources)
            shown = ", ".join(f"{m} {n}" for m, n in sorted(calls.items()))
            print(
                f"  {key:<22} torrents {size + 10:>5}  batch {batch_size:>5}  "
                f"round trips {trips:>3}  RPC calls {sum(calls.values()):>3} ({shown})  "
                f"{elapsed:5.2f} s"
            )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100,1000")
    options = parser.parse_args()
    sizes = [int(s) for s in options.sizes.split(",")]
    with (
        mock.patch("dagstributor_shared.postgres.psycopg2.connect", counting_connect),
        mock.patch.object(transmission_rpc.Client, "_request", counting_request),
        tempfile.TemporaryDirectory() as folder,
        open_test_server() as pg,
        transmission_daemon(Path(folder) / "daemon") as daemon,
    ):
        for batch_size in (50, 10_000):
            for size in sizes:
                seeds = Path(folder) / f"seed-{size}-{batch_size}"
                seeds.mkdir()
                bench_size(pg, daemon, seeds, size, batch_size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
