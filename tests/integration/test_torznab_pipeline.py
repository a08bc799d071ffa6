"""`at_full_pipeline_job` fed by a Prowlarr-shaped Torznab indexer on 127.0.0.1 only: a seeded
release naming no hash (its `.torrent`, behind a proxy link carrying the API key, is fetched and
hashed in step 01 and handed to a real transmission-daemon in step 07) goes to the library; TMDB is
asked by the indexer's ids, never searched; a release nobody seeds is rejected by AT_MIN_SEEDERS;
and the key is in no row but the downloading one's `original_link`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from automatic_transmission.clients.feeds import FeedsResource
from automatic_transmission.clients.torznab import TorznabResource
from automatic_transmission.pipeline.jobs import FULL_PIPELINE_JOB_NAME
from dagstributor_shared.postgres import PostgresResource
from tests.support.http import FakeHttpServer
from tests.support.omdb import FakeOmdb
from tests.support.steps import media_rows, rows_by_key, run_step, step_failure
from tests.support.tmdb import FakeTmdb
from tests.support.torznab import Release, TorznabIndexer
from tests.support.transmission import Daemon, download_resources
from tests.support.webseed import WebSeed, write_payload

NAME = "The.Matrix.1999.1080p.BluRay.x264-GRP"
MOVIE_FILE = "movies/The Matrix (1999)/The Matrix (1999).mkv"
KEY = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"


def test_a_release_from_an_indexer_reaches_the_library_and_its_key_stays_in_original_link(
    postgres: PostgresResource,
    atp_connection: Any,
    http_server: FakeHttpServer,
    transmission: Daemon,
    seed: WebSeed,
    tmp_path: Path,
) -> None:
    write_payload(seed.root / NAME / f"{NAME}.mkv", 300_000, seed=7)
    seeded = seed.make_torrent(seed.root / NAME)
    torrent = (seed.torrents_dir / f"{seeded.hash}.torrent").read_bytes()
    wanted = Release(
        NAME, imdb="tt0133093", tmdb=603, seeders=50, infohash=False, magneturl=False,
        torrent=torrent, hash=seeded.hash, minimum_ratio=1.0, minimum_seed_time=3600,
    )  # fmt: skip
    unseeded = Release("The.Matrix.1999.1080p.WEB-DL.x264-OTHER", imdb="tt0133093", seeders=0)
    indexer = TorznabIndexer(http_server, "prowlarr", KEY, releases=[wanted, unseeded])
    tmdb, omdb = FakeTmdb(http_server), FakeOmdb(http_server)
    tmdb.movie(603, "The Matrix", "1999-03-30", "tt0133093", genres=("Action",))
    omdb.add("tt0133093", "The Matrix", rating="8.7", votes="2,104,221")
    library = tmp_path / "library"

    def run() -> Any:
        result = run_step(
            FULL_PIPELINE_JOB_NAME,
            postgres,
            feeds=FeedsResource(sources="", urls="", timeout_s=5, retries=0),
            torznab=TorznabResource(urls=indexer.url, timeout_s=5, retries=0),
            tmdb_url=tmdb.base_url,
            omdb_url=omdb.base_url,
            download=download_resources(transmission, library),
        )
        assert result.success, step_failure(result)
        return result

    run()
    deadline = time.monotonic() + 90
    # Filed in the library; the tracker's minimums (ratio 1, an hour) keep it seeding, so step 10
    # leaves it `transferred` (issue 18) instead of removing it.
    while media_rows(atp_connection)[wanted.hash]["pipeline_status"] != "transferred":
        assert time.monotonic() < deadline, ("not filed", media_rows(atp_connection)[wanted.hash])
        time.sleep(0.5)
        run()

    movie_file = library / MOVIE_FILE
    assert movie_file.read_bytes() == (seeded.path / f"{NAME}.mkv").read_bytes()
    rows = rows_by_key(atp_connection, "SELECT * FROM atp.media")
    assert rows[unseeded.hash]["rejection_reason"] == "seeders 0 is below AT_MIN_SEEDERS 1"
    done = rows[wanted.hash]
    assert seeded.hash in transmission.torrents()  # still seeding
    assert (done["imdb_id"], done["tmdb_id"], done["seeders"]) == ("tt0133093", 603, 50)
    assert not [c for c in tmdb.calls() if "/search/" in c.path]  # found by its ids
    # The proxy link was fetched by step 01 (for the hash) and by Transmission (step 07).
    assert len(indexer.download_calls()) == 2
    assert KEY in str(done["original_link"])
    for row in rows.values():
        assert not any(KEY in str(v) for k, v in row.items() if k != "original_link")
