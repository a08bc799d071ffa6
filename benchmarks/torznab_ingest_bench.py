"""Step 01 with a Torznab indexer at scale: wall time, database round trips, `.torrent` fetches.

A Prowlarr-shaped indexer on 127.0.0.1 lists N releases with an `infohash` and, beside them, up
to MAX_TORRENT_FETCHES_PER_FEED releases that name no hash (their `.torrent` is fetched and
hashed). Each size is ingested into an empty `atp.media`, then again into the full table: the
second run must fetch no `.torrent` and the round trips must not grow with N.

Run from the repo root: ``uv run python benchmarks/torznab_ingest_bench.py``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from automatic_transmission.clients.feeds import FeedItem  # noqa: E402
from automatic_transmission.clients.torznab import TorznabClient  # noqa: E402
from automatic_transmission.pipeline.steps.rss_ingest import (  # noqa: E402
    MAX_TORRENT_FETCHES_PER_FEED,
    configured_feeds,
    ingest,
)
from automatic_transmission.store import MediaStore  # noqa: E402
from tests.support.atp import temporary_atp_database  # noqa: E402
from tests.support.database import PgTestServer, open_test_server  # noqa: E402
from tests.support.http import FakeHttpServer, fake_http_server  # noqa: E402
from tests.support.roundtrips import connect_counting  # noqa: E402
from tests.support.torznab import Release, TorznabIndexer  # noqa: E402


class QuietLog:
    def info(self, msg: str) -> None:
        pass

    def warning(self, msg: str) -> None:
        print(f"  warning: {msg}")


def no_rss(url: str) -> list[FeedItem]:
    raise AssertionError(url)


def bench(server: PgTestServer, http: FakeHttpServer, count: int, indexer_id: str) -> None:
    releases = [Release(f"Film.Number.{i}.2020.1080p.BluRay.x264-GRP") for i in range(count)]
    releases += [
        Release(f"Hashless.{i}.2021.1080p.WEB-DL", infohash=False, magneturl=False)
        for i in range(MAX_TORRENT_FETCHES_PER_FEED)
    ]
    indexer = TorznabIndexer(http, "prowlarr", indexer_id=indexer_id, releases=releases)
    sources = configured_feeds("", "", [indexer.url])
    client = TorznabClient(timeout_s=60, retries=0)
    with temporary_atp_database(server) as database:
        for table in ("empty", "full"):
            fetched = len(indexer.download_calls())
            connection = connect_counting(server.connection_settings(database))
            try:
                start = time.perf_counter()
                result = ingest(sources, no_rss, MediaStore(connection), QuietLog(), client)
                elapsed = time.perf_counter() - start
            finally:
                connection.close()
            assert result.sources is not None
            tally = result.sources.rows[0].figures
            print(
                f"{len(releases):>6} items  {table:<5} table  wall {elapsed:6.2f} s  "
                f"round trips {connection.round_trips:>2}  .torrent fetches "
                f"{len(indexer.download_calls()) - fetched:>3}  inserted {tally['inserted']:>6}  "
                f"known {tally['already known']:>6}",
                flush=True,
            )
    client.close()


def main() -> None:
    with open_test_server() as server, fake_http_server() as http:
        bench(server, http, 100, "1")
        bench(server, http, 1_000, "2")
        bench(server, http, 5_000, "3")


if __name__ == "__main__":
    main()
