"""Step 06's item decision with 10,000 releases of 2,000 items: database round trips per batch
and time. The round trips of a batch must not grow with its rows or its items: one select, one
query for every release of the batch's items (held, being fetched, waiting), one write per shape.

    uv run python benchmarks/items_bench.py [--releases 10000] [--items 2000]

Setup: `items` episodes (40 shows, 50 episodes each ...) with `releases / items` waiting
releases each, of mixed qualities (720p HDTV to 2160p WEB), and one held 720p release for every
tenth episode; TV is taken without the model, so the figures are the item decision's own. Run
with AT_BATCH_SIZE 50 and 500, each on a fresh database.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any
from unittest import mock

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import psycopg2  # noqa: E402
import psycopg2.extensions  # noqa: E402

from tests.support.atp import temporary_atp_database  # noqa: E402
from tests.support.database import open_test_server  # noqa: E402
from tests.support.roundtrips import CountingConnection  # noqa: E402
from tests.support.steps import insert_media, run_step, step_metadata  # noqa: E402

OPENED: list[CountingConnection] = []
_real_connect = psycopg2.connect
QUALITIES = (
    ("720p", "HDTV"), ("1080p", "WEBRip"), ("1080p", "WEB"), ("720p", "WEB"), ("2160p", "WEB"),
    ("1080p", "HDTV"),
)  # fmt: skip
SHOWS = 40


def counting_connect(*args: Any, connection_factory: Any = None, **kwargs: Any) -> Any:
    """The pipeline's connection (its own factory kept) that also counts its round trips."""
    base = connection_factory or psycopg2.extensions.connection
    factory = type(f"Counting{base.__name__}", (CountingConnection, base), {})
    connection = _real_connect(*args, connection_factory=factory, **kwargs)
    OPENED.append(connection)
    return connection


def releases(count: int, items: int) -> list[dict[str, Any]]:
    rows = []
    per_show = max(1, items // SHOWS)
    for n in range(count):
        item = n % items
        resolution, source = QUALITIES[(n // items) % len(QUALITIES)]
        show, episode = divmod(item, per_show)
        rows.append(
            {
                "media_type": "tv_show", "pipeline_status": "metadata_collected",
                "media_title": f"Show {show}", "tmdb_id": 1000 + show, "season": 1,
                "episode": episode + 1, "resolution": resolution, "upload_type": source,
                "original_title": f"Show.{show}.S01E{episode + 1:03d}.{resolution}.{source}.{n}",
            }
        )  # fmt: skip
    for item in range(0, items, 10):
        show, episode = divmod(item, per_show)
        rows.append(
            {
                "media_type": "tv_show", "pipeline_status": "complete", "media_title": f"Show {show}",
                "tmdb_id": 1000 + show, "season": 1, "episode": episode + 1,
                "resolution": "720p", "upload_type": "WEB",
                "original_title": f"Show.{show}.S01E{episode + 1:03d}.720p.WEB.held",
            }
        )  # fmt: skip
    return rows


def main() -> int:
    cli = argparse.ArgumentParser(description=__doc__)
    cli.add_argument("--releases", type=int, default=10_000)
    cli.add_argument("--items", type=int, default=2_000)
    options = cli.parse_args()
    print(
        f"{options.releases} waiting releases of {options.items} episodes "
        f"(+ {len(range(0, options.items, 10))} held); step 06 alone\n"
    )
    print(
        f"{'batch':>6}{'batches':>9}{'trips':>8}{'trips/batch':>13}{'accepted':>10}"
        f"{'passed over':>13}{'s':>8}{'releases/s':>12}"
    )
    with (
        open_test_server() as pg,
        mock.patch("dagstributor_shared.postgres.psycopg2.connect", counting_connect),
    ):
        for batch in (50, 500):
            with temporary_atp_database(pg) as name:
                with pg.connection(name) as connection:
                    insert_media(connection, releases(options.releases, options.items))
                    with connection.cursor() as cursor:
                        cursor.execute("ANALYZE atp.media")
                    connection.commit()
                postgres = pg.resource(name, env_prefix="AT_PGSQL")
                OPENED.clear()
                started = time.perf_counter()
                result = run_step("at_06_media_filtration", postgres, batch_size=batch)
                seconds = time.perf_counter() - started
                assert result.success, "step 06 failed"
                metadata = step_metadata(result)
                trips = sum(c.round_trips for c in OPENED)
                batches = int(metadata["batches"]) if "batches" in metadata else 0
                passed = int(metadata["not the release to take"])
                accepted = int(metadata["advanced"]) if "advanced" in metadata else 0
                per_batch = trips / batches if batches else float("nan")
                print(
                    f"{batch:>6}{batches:>9}{trips:>8}{per_batch:>13.1f}{accepted:>10}"
                    f"{passed:>13}{seconds:>8.1f}{options.releases / seconds:>12.0f}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
