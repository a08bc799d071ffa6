"""Step 01 rss_ingest at scale: wall time and database round trips for big feeds.

Serves feeds of 1,000 and 10,000 items from 127.0.0.1, ingests each into an empty `atp.media`
and then again into the full table (same feed: every hash known), on a real PostgreSQL (the
embedded test server, or the one WST_PGSQL_* names). The round trips must be the same for
every size. A TV feed (titles classified by the parser) shows the cost of classification.

Run from the repo root: ``uv run python benchmarks/ingest_bench.py``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from automatic_transmission.clients.feeds import FeedClient, FeedItem  # noqa: E402
from automatic_transmission.model import RssSource  # noqa: E402
from automatic_transmission.pipeline.runner import StepResult  # noqa: E402
from automatic_transmission.pipeline.steps.rss_ingest import FeedSource, ingest  # noqa: E402
from automatic_transmission.store import MediaStore  # noqa: E402
from tests.support.atp import temporary_atp_database  # noqa: E402
from tests.support.database import PgTestServer, open_test_server  # noqa: E402
from tests.support.feeds import big_yts_feed, episode_feed, episode_item, info_hash  # noqa: E402
from tests.support.http import FakeHttpServer, Reply, fake_http_server  # noqa: E402
from tests.support.roundtrips import connect_counting  # noqa: E402


class QuietLog:
    def info(self, msg: str) -> None:
        pass

    def warning(self, msg: str) -> None:
        print(f"  warning: {msg}")


def tv_feed(count: int) -> str:
    return episode_feed(
        episode_item(
            f"Show Number {i % 50} S{1 + i // 1000:02d}E{i % 100:02d} 1080p WEB h264-GRP",
            info_hash(f"tv-{i}"),
            n=i,
        )
        for i in range(count)
    )


def run_once(
    server: PgTestServer, database: str, source: FeedSource, read: Callable[[str], list[FeedItem]]
) -> tuple[float, int, StepResult]:
    connection = connect_counting(server.connection_settings(database))
    try:
        store = MediaStore(connection)
        start = time.perf_counter()
        result = ingest([source], read, store, QuietLog())
        elapsed = time.perf_counter() - start
        return elapsed, connection.round_trips, result
    finally:
        connection.close()


def bench(
    server: PgTestServer, http: FakeHttpServer, label: RssSource, name: str, xml: str
) -> list[str]:
    path = f"/{name}"
    http.route("GET", path, Reply(200, xml, {"Content-Type": "application/rss+xml"}))
    source = FeedSource(label, f"{http.url}{path}")
    client = FeedClient(timeout_s=60, retries=0)
    read_times: list[float] = []

    def timed_read(url: str) -> list[FeedItem]:
        start = time.perf_counter()
        items = client.read(url)
        read_times.append(time.perf_counter() - start)
        return items

    lines = []
    with temporary_atp_database(server) as database:
        for table in ("empty", "full"):
            elapsed, trips, result = run_once(server, database, source, timed_read)
            assert result.sources is not None
            tally = result.sources.rows[0].figures
            lines.append(
                f"{name:<10} {tally['entries']:>6} items  {table:<5} table  "
                f"wall {elapsed:6.2f} s (feed fetch+parse {read_times[-1]:5.2f} s, "
                f"rest {elapsed - read_times[-1]:5.2f} s)  round trips {trips:>2}  "
                f"inserted {tally['inserted']:>6}  known {tally['already known']:>6}"
            )
            print(lines[-1], flush=True)
    return lines


def main() -> None:
    print(f"{'feed':<10} {'size':>6}")
    with open_test_server() as server, fake_http_server() as http:
        bench(server, http, RssSource.YTS_MX, "yts-1k", big_yts_feed(1_000))
        bench(server, http, RssSource.YTS_MX, "yts-10k", big_yts_feed(10_000))
        bench(server, http, RssSource.EPISODEFEED, "tv-1k", tv_feed(1_000))
        bench(server, http, RssSource.EPISODEFEED, "tv-10k", tv_feed(10_000))


if __name__ == "__main__":
    main()
