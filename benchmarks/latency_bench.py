"""Latency from a feed update to the file in the library, for a small web-seeded movie, with the
sensors on and off (production schedules of config/schedules/prod.yaml).

    uv run python benchmarks/latency_bench.py [--size-mb 2]

Method: each mode runs the real steps once, in process, against real parts (embedded PostgreSQL,
a feed, TMDB and OMDb on 127.0.0.1, a transmission-daemon downloading from a local web seed),
and measures every run and the download itself. The waits between runs are simulated, so an hour
of feed-update moments (one per second) can be compared without waiting for an hour of crons:
- sensors off: every step waits for its next cron slot (01, 03, 04, 05, 06, 07, 08, 09);
- sensors on: step 01 still waits for its slot (a feed cannot call us); the chain sensor starts
  03-06 and then 07, and the download sensor 08-09, each at its next sensor tick (Dagster
  evaluates a sensor every `minimum_interval_seconds`, 30). What each sensor asks for is decided
  by the real sensors evaluated on the real runs (Dagster's sensor testing API).
Run start-up (a new process or pod per run in production) is not included in either mode.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import dagster as dg  # noqa: E402
import yaml  # noqa: E402
from croniter import croniter  # noqa: E402

from automatic_transmission.clients.feeds import FeedsResource  # noqa: E402
from automatic_transmission.pipeline.jobs import (  # noqa: E402
    DOWNLOADED_TO_LIBRARY_JOB_NAME,
    PARSE_TO_ACCEPT_JOB_NAME,
    chain_jobs,
    pipeline_jobs,
)
from automatic_transmission.pipeline.sensors import (  # noqa: E402
    CHAIN_SENSOR_KEY,
    DOWNLOAD_SENSOR_KEY,
    build_sensors,
)
from dagstributor_shared.environment import Environment  # noqa: E402
from dagstributor_shared.schedules import find_config_dir  # noqa: E402
from tests.support.atp import temporary_atp_database  # noqa: E402
from tests.support.database import open_test_server  # noqa: E402
from tests.support.feeds import yts_feed, yts_item  # noqa: E402
from tests.support.http import FakeHttpServer, Reply, fake_http_server  # noqa: E402
from tests.support.omdb import FakeOmdb  # noqa: E402
from tests.support.steps import step_resources  # noqa: E402
from tests.support.tmdb import FakeTmdb  # noqa: E402
from tests.support.transmission import Daemon, download_resources, transmission_daemon  # noqa: E402
from tests.support.webseed import SeededTorrent, web_seed, write_payload  # noqa: E402

FEED_PATH = "/feeds/yts"
NAME = "The.Matrix.1999.1080p"
PLACED = "movies/The Matrix (1999)/The Matrix (1999).mkv"
SENSOR_TICK_S = 30.0
EPOCH = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)  # a Monday 00:00; offsets cover one hour from it


def prod_crons() -> dict[int, str]:
    document = yaml.safe_load((find_config_dir() / "schedules/prod.yaml").read_text())
    return {n: document[key]["cron_schedule"] for n in range(1, 11) for key in document
            if key.startswith(f"at_{n:02d}_")}  # fmt: skip


def next_slot(cron: str, t: float) -> float:
    """Seconds after EPOCH of the first cron slot at or after `t`."""
    start = EPOCH + dt.timedelta(seconds=t)
    if croniter.match(cron, start) and start.second == 0 and start.microsecond == 0:
        return t
    return (croniter(cron, start).get_next(dt.datetime) - EPOCH).total_seconds()


def next_tick(t: float) -> float:
    return -(-t // SENSOR_TICK_S) * SENSOR_TICK_S


class Timed:
    """The real runs of one mode, each timed, on one ephemeral Dagster instance."""

    def __init__(self, resources: dict[str, Any]) -> None:
        self.resources = resources
        self.instance = dg.DagsterInstance.ephemeral()
        self.jobs = {job.name: job for job in {**pipeline_jobs(), **chain_jobs()}.values()}
        self.seconds: dict[str, float] = {}

    def run(self, job_name: str) -> Any:
        started = time.monotonic()
        result = self.jobs[job_name].execute_in_process(
            resources=self.resources, instance=self.instance, raise_on_error=True
        )
        self.seconds[job_name] = time.monotonic() - started
        return result


def wait_download(done: Callable[[], bool]) -> float:
    started = time.monotonic()
    while not done():
        if time.monotonic() - started > 120:
            raise RuntimeError("the download did not finish in 120 s")
        time.sleep(0.05)
    return time.monotonic() - started


def step_job(n: int) -> str:
    return next(j.name for k, j in pipeline_jobs().items() if k.startswith(f"at_{n:02d}_"))


def sensors_off(timed: Timed, daemon: Daemon, hash: str) -> float:
    for n in (1, 3, 4, 5, 6, 7):
        timed.run(step_job(n))
    download = wait_download(lambda: _finished(daemon, hash))
    for n in (8, 9):
        timed.run(step_job(n))
    return download


def sensors_on(timed: Timed, daemon: Daemon, hash: str) -> float:
    found = {s.name: s for s in build_sensors(timed.jobs, Environment("prod"))}
    chain, downloads = found[CHAIN_SENSOR_KEY], found[DOWNLOAD_SENSOR_KEY]

    def chained(result: Any) -> str:
        context = dg.build_run_status_sensor_context(
            sensor_name=CHAIN_SENSOR_KEY,
            dagster_instance=timed.instance,
            dagster_run=result.dagster_run,
            dagster_event=result.get_run_success_event(),
        )
        requests: Any = chain(context)
        return str(requests[0].job_name)

    after_01 = chained(timed.run(step_job(1)))
    assert after_01 == PARSE_TO_ACCEPT_JOB_NAME, after_01
    after_06 = chained(timed.run(after_01))
    timed.run(after_06)  # step 07
    resources = {"transmission": timed.resources["transmission"]}
    cursor = None
    started = time.monotonic()
    while True:  # the real download sensor, evaluated until it asks for 08-09
        context = dg.build_sensor_context(
            instance=timed.instance, cursor=cursor, resources=resources
        )
        answer = downloads(context)
        if isinstance(answer, dg.SensorResult) and answer.run_requests:
            break
        cursor = context.cursor
        if time.monotonic() - started > 120:
            raise RuntimeError("the download sensor never fired")
        time.sleep(0.05)
    download = time.monotonic() - started
    timed.run(DOWNLOADED_TO_LIBRARY_JOB_NAME)
    return download


def _finished(daemon: Daemon, hash: str) -> bool:
    torrent = daemon.torrents().get(hash)
    return torrent is not None and torrent.status == "seeding"


def latencies(
    steps: Sequence[tuple[str, float]], download_s: float, crons: dict[int, str]
) -> list[float]:
    """One latency per feed-update second of an hour; `steps` are (key, seconds) in order,
    key = a step number or 'tick' (waits for a sensor tick), 'download' for the download."""
    out = []
    for offset in range(3600):
        t = float(offset)
        for key, seconds in steps:
            if key == "download":
                t += download_s
                continue
            t = next_tick(t) if key == "tick" else next_slot(crons[int(key)], t)
            t += seconds
        out.append(t - offset)
    return out


def show(label: str, values: list[float]) -> None:
    ordered = sorted(values)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    print(
        f"  {label:<12} mean {statistics.mean(values) / 60:6.1f} min   median"
        f" {statistics.median(values) / 60:6.1f} min   p95 {p95 / 60:6.1f} min   max"
        f" {max(values) / 60:6.1f} min"
    )


def world(server: FakeHttpServer, torrent: SeededTorrent) -> tuple[FeedsResource, str, str]:
    """The feed carrying the movie, TMDB and OMDb knowing it: (feeds, TMDB URL, OMDb URL)."""
    item = yts_item("The Matrix (1999)", torrent.hash, n=1, download=torrent.url)
    server.route("GET", FEED_PATH, Reply(200, yts_feed([item]), {"Content-Type": "text/xml"}))
    tmdb, omdb = FakeTmdb(server), FakeOmdb(server)
    tmdb.movie(603, "The Matrix", "1999-03-30", "tt0133093", genres=("Action",))
    omdb.add("tt0133093", "The Matrix", rating="8.7", votes="2,104,221")
    feeds = FeedsResource(sources="yts.mx", urls=f"{server.url}{FEED_PATH}", timeout_s=5, retries=0)
    return feeds, tmdb.base_url, omdb.base_url


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=float, default=2.0)
    options = parser.parse_args()
    crons = prod_crons()
    figures: dict[str, tuple[dict[str, float], float]] = {}
    with tempfile.TemporaryDirectory() as folder, open_test_server() as pg:
        base = Path(folder)
        for mode, drive in (("sensors off", sensors_off), ("sensors on", sensors_on)):
            work = base / mode.replace(" ", "-")
            with (
                web_seed(work / "seed") as seed,
                fake_http_server() as server,
                transmission_daemon(work / "daemon") as daemon,
                temporary_atp_database(pg) as database,
            ):
                write_payload(seed.root / NAME / f"{NAME}.mkv", int(options.size_mb * 1e6))
                torrent = seed.make_torrent(seed.root / NAME)
                feeds, tmdb_url, omdb_url = world(server, torrent)
                timed = Timed(
                    step_resources(
                        pg.resource(database, env_prefix="AT_PGSQL"),
                        feeds=feeds,
                        tmdb_url=tmdb_url,
                        omdb_url=omdb_url,
                        download=download_resources(daemon, work / "library"),
                    )
                )
                download = drive(timed, daemon, torrent.hash)
                placed = work / "library" / PLACED
                assert placed.read_bytes() == (torrent.path / f"{NAME}.mkv").read_bytes()
                figures[mode] = (timed.seconds, download)
    print(f"feed update -> file in the library, {options.size_mb:g} MB movie, prod schedules,"
          f" sensor tick {SENSOR_TICK_S:g} s, 3600 feed-update moments (one per second)")  # fmt: skip
    for mode, (seconds, download) in figures.items():
        runs = ", ".join(f"{name.removesuffix('_job')} {s:.1f} s" for name, s in seconds.items())
        print(f"  {mode}: measured runs: {runs}; download {download:.1f} s")
    off_runs, off_download = figures["sensors off"]
    on_runs, on_download = figures["sensors on"]
    off_steps = [(str(n), off_runs[step_job(n)]) for n in (1, 3, 4, 5, 6, 7)]
    off_steps += [("download", 0.0), ("8", off_runs[step_job(8)]), ("9", off_runs[step_job(9)])]
    on_steps = [
        ("1", on_runs[step_job(1)]),
        ("tick", on_runs[PARSE_TO_ACCEPT_JOB_NAME]),
        ("tick", on_runs[step_job(7)]),
        ("download", 0.0),
        ("tick", on_runs[DOWNLOADED_TO_LIBRARY_JOB_NAME]),
    ]
    show("sensors off", latencies(off_steps, off_download, crons))
    show("sensors on", latencies(on_steps, on_download, crons))
    return 0


if __name__ == "__main__":
    sys.exit(main())
