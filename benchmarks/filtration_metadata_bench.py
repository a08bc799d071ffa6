"""Steps 04-06 on 5,000 parsed items against fake TMDB / OMDb / reel-driver servers on 127.0.0.1.

Reports items per second, database round trips and HTTP requests per item for each step, the
second pass over the same titles (stored metadata reused: no HTTP request), and round trips per
batch at two batch sizes (they stay constant as the batch grows).

Run from the repo root: ``uv run python benchmarks/filtration_metadata_bench.py [--items N]``.
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

from automatic_transmission.pipeline.jobs import pipeline_jobs  # noqa: E402
from tests.support.atp import temporary_atp_database  # noqa: E402
from tests.support.database import open_test_server  # noqa: E402
from tests.support.http import FakeHttpServer, Reply, Request, fake_http_server  # noqa: E402
from tests.support.omdb import FakeOmdb  # noqa: E402
from tests.support.reel_driver import FakeReelDriver  # noqa: E402
from tests.support.roundtrips import CountingConnection  # noqa: E402
from tests.support.steps import insert_media, step_counts, step_resources  # noqa: E402
from tests.support.tmdb import INVALID_KEY, FakeTmdb, TmdbTitle, _norm  # noqa: E402

SHOWS = 100
OPENED: list[CountingConnection] = []
_real_connect = psycopg2.connect


def counting_connect(*args: Any, **kwargs: Any) -> Any:
    connection = _real_connect(*args, connection_factory=CountingConnection, **kwargs)
    OPENED.append(connection)
    return connection


def round_trips() -> int:
    return sum(c.round_trips for c in OPENED)


class IndexedTmdb(FakeTmdb):
    """FakeTmdb whose search is a dict lookup (the list scan is too slow for thousands)."""

    def __init__(self, server: FakeHttpServer) -> None:
        super().__init__(server)
        self.index: dict[tuple[bool, str], list[TmdbTitle]] = {}
        for tv in (False, True):
            kind = "tv" if tv else "movie"
            server.route("GET", f"/3/search/{kind}", self._indexed(tv))

    def add(self, title: TmdbTitle) -> TmdbTitle:
        self.index.setdefault((title.tv, _norm(title.title)), []).append(title)
        return super().add(title)

    def _indexed(self, tv: bool) -> Any:
        def respond(request: Request) -> Reply:
            if not self.authorised(request):
                return Reply(401, INVALID_KEY)
            hits = self.index.get((tv, _norm(request.param("query") or "")), [])
            body = [t.search_result() for t in hits]
            return Reply(200, {"page": 1, "results": body, "total_results": len(body)})

        return respond


def film_name(n: int) -> str:
    words = ["Silent", "Red", "River", "Night", "Glass", "Iron", "Last", "Ocean", "Paper", "Wolf"]
    return " ".join(words[int(d)] for d in f"{n:04d}") + f" {n}"


def parsed_rows(items: int, generation: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for i in range(items):
        if i % 5 == 4:  # one in five is TV, spread over SHOWS shows
            show = i % SHOWS
            rows.append({
                "media_type": ("tv_show", "tv_season", "tv_episode_pack")[i % 3],
                "media_title": f"Show Number {show}", "season": 1 + i % 7, "episode": 1 + i % 20,
                "resolution": "720p", "original_title": f"g{generation}.tv.{i}",
            })  # fmt: skip
        else:
            rows.append({
                "media_title": film_name(i), "release_year": 1950 + i % 70,
                "resolution": "720p" if i % 10 == 1 else "1080p",
                "original_title": f"g{generation}.movie.{i}",
            })  # fmt: skip
    return rows


def populate(server: FakeHttpServer, items: int) -> tuple[FakeTmdb, FakeOmdb, FakeReelDriver]:
    tmdb, omdb, model = IndexedTmdb(server), FakeOmdb(server), FakeReelDriver(server, 0.5)
    for i in range(items):
        if i % 5 == 4:
            continue
        imdb_id = f"tt{1000000 + i:07d}"
        tmdb.movie(10_000 + i, film_name(i), f"{1950 + i % 70}-06-01", imdb_id)
        omdb.add(imdb_id, film_name(i))
        model.probabilities[imdb_id] = 0.2 if i % 7 == 0 else 0.6
    for show in range(SHOWS):
        imdb_id = f"tt{2000000 + show:07d}"
        tmdb.show(50_000 + show, f"Show Number {show}", "2010-01-01", imdb_id)
        omdb.add(imdb_id, f"Show Number {show}")
    return tmdb, omdb, model


def run_step(key: str, resources: dict[str, Any], server: FakeHttpServer, label: str) -> None:
    trips, requests = round_trips(), len(server.requests)
    started = time.perf_counter()
    result = pipeline_jobs()[key].execute_in_process(resources=resources, raise_on_error=False)
    elapsed = time.perf_counter() - started
    if not result.success:
        raise SystemExit(f"{key} failed")
    trips, requests = round_trips() - trips, len(server.requests) - requests
    items = max(sum(step_counts(result).values()), 1)
    print(
        f"{label:<34}{items / elapsed:>10.0f}{trips:>9}{trips / items:>10.3f}"
        f"{requests:>9}{requests / items:>10.3f}{elapsed:>8.2f}{items:>7}"
    )


def main() -> int:
    cli = argparse.ArgumentParser(description=__doc__)
    cli.add_argument("--items", type=int, default=5000)
    options = cli.parse_args()
    items = options.items
    with (
        open_test_server() as pg,
        fake_http_server() as server,
        mock.patch("dagstributor_shared.postgres.psycopg2.connect", counting_connect),
    ):
        tmdb, omdb, model = populate(server, items)
        print(
            f"{items} parsed items per pass (4/5 movies with distinct titles, 1/5 TV over {SHOWS} shows)"
        )
        print("fake TMDB, OMDb, reel-driver on 127.0.0.1; TMDB client rate limit off\n")
        header = f"{'step (batch 50)':<34}{'items/s':>10}{'trips':>9}{'trips/it':>10}"
        print(header + f"{'http':>9}{'http/it':>10}{'s':>8}{'items':>7}")
        with temporary_atp_database(pg) as name:
            postgres = pg.resource(name, env_prefix="AT_PGSQL")
            resources = step_resources(
                postgres, tmdb_url=tmdb.base_url, omdb_url=omdb.base_url,
                reel_driver=(model.host, model.port),
            )  # fmt: skip
            for generation, title in ((1, "first pass"), (2, "second pass (same titles)")):
                print(f"-- {title}")
                with pg.connection(name) as connection:
                    insert_media(connection, parsed_rows(items, generation))
                run_step("at_04_file_filtration", resources, server, "04 file_filtration")
                run_step("at_05_metadata_collection", resources, server, "05 metadata")
                run_step("at_06_media_filtration", resources, server, "06 media")
        print("\nround trips for 10 batches, batch size 50 vs 500 (fresh database each):")
        for batch in (50, 500):
            with temporary_atp_database(pg) as name:
                count = 10 * batch
                with pg.connection(name) as connection:
                    insert_media(connection, parsed_rows(count, 3))
                postgres = pg.resource(name, env_prefix="AT_PGSQL")
                resources = step_resources(
                    postgres, tmdb_url=tmdb.base_url, omdb_url=omdb.base_url,
                    reel_driver=(model.host, model.port), batch_size=batch,
                )  # fmt: skip
                for key, label in (
                    ("at_04_file_filtration", "04"),
                    ("at_05_metadata_collection", "05"),
                    ("at_06_media_filtration", "06"),
                ):
                    run_step(key, resources, server, f"{label} {count} items, batch {batch}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
