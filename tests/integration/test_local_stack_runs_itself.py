"""The local stack runs the pipeline by itself: started as the README's first run starts it (its
settings, values replaced by the stand-in feed, web seed, TMDB and OMDb of test_full_pipeline.py on
127.0.0.1; the stack's own private transmission-daemon), a wanted movie goes from the feed to the
library with no launch by hand."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_full_pipeline import MOVIE_FILE, MOVIE_NAME, YTS_PATH, torrents
from tests.support.feeds import yts_feed, yts_item
from tests.support.http import FakeHttpServer, Reply
from tests.support.omdb import OMDB_KEY, FakeOmdb
from tests.support.processes import REPO_ROOT, Started, free_port, start, stop_all, wait_for
from tests.support.readme import first_run
from tests.support.tmdb import TMDB_KEY, FakeTmdb
from tests.support.transmission import safety_rules_for_tests
from tests.support.webseed import SeededTorrent, WebSeed

LOCAL_STACK = REPO_ROOT / "scripts" / "local_stack.py"
# Variables that would point the stack at another database, Transmission, or a pod.
FOREIGN = re.compile(r"^((WST|AT)_PGSQL_.*|KUBERNETES_SERVICE_HOST|TRANSMISSION_.*|REEL_DRIVER_.*"
                     r"|AT_.*|DAGSTRIBUTOR_SCHEDULES|ENVIRONMENT)$")  # fmt: skip
RUNS_QUERY = """{ runsOrError { ... on Runs { results { jobName startTime status
  tags { key value } } } } }"""


def runs(url: str) -> list[dict[str, Any]]:
    body = json.dumps({"query": RUNS_QUERY}).encode()
    request = urllib.request.Request(f"{url}/graphql", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return list(json.load(answer)["data"]["runsOrError"]["results"])


def stand_ins(
    http_server: FakeHttpServer, seed: WebSeed, pgdata: Path
) -> tuple[SeededTorrent, dict[str, str]]:
    """The movie's torrent on the web seed, the feed listing it, TMDB and OMDb knowing it, and
    the stack's environment: the README's first-run recipe, each value replaced by its stand-in
    on 127.0.0.1."""
    movie, _episode = torrents(seed)
    http_server.route(
        "GET",
        YTS_PATH,
        Reply(200, yts_feed([yts_item("The Matrix (1999)", movie.hash, n=1, download=movie.url)]),
              {"Content-Type": "application/rss+xml"}),
    )  # fmt: skip
    tmdb, omdb = FakeTmdb(http_server), FakeOmdb(http_server)
    tmdb.movie(603, "The Matrix", "1999-03-30", "tt0133093", genres=("Action",))
    omdb.add("tt0133093", "The Matrix", rating="8.7", votes="2,104,221")
    env = {k: v for k, v in os.environ.items() if not FOREIGN.match(k)}
    recipe, _commands = first_run()
    values = {
        "AT_RSS_SOURCES": "yts.mx",
        "AT_RSS_URLS": f"{http_server.url}{YTS_PATH}",
        "AT_MOVIE_SEARCH_API_KEY": TMDB_KEY,
        "AT_MOVIE_RATINGS_API_KEY": OMDB_KEY,
    }
    assert set(recipe) == set(values)
    env.update(values)
    env.update(
        DAGSTRIBUTOR_PGDATA=str(pgdata),
        AT_MOVIE_SEARCH_API_BASE_URL=tmdb.base_url,
        AT_MOVIE_RATINGS_API_BASE_URL=omdb.base_url,
    )
    return movie, env


def start_stack(env: dict[str, str], folder: Path) -> tuple[Started, str]:
    """scripts/local_stack.py on free ports with its Dagster home in `folder`, once ready."""
    web_port = free_port()
    command = [
        sys.executable, str(LOCAL_STACK), "--port", str(web_port),
        "--at-port", str(free_port()), "--wst-port", str(free_port()),
        "--dagster-home", str(folder / "dagster_home"), "--startup-timeout", "300",
    ]  # fmt: skip
    stack = start("local_stack", command, env, folder)

    def ready() -> bool:
        stack.check_alive()
        return "ready: Dagster UI on" in stack.output()

    try:
        wait_for(ready, 300, "the local stack to be ready")
    except BaseException:
        stop_all([stack], 20.0)
        raise
    return stack, f"http://127.0.0.1:{web_port}"


@pytest.mark.integration
def test_the_local_stack_moves_an_item_from_feed_to_library_without_a_launch_by_hand(
    http_server: FakeHttpServer, seed: WebSeed, tmp_path: Path
) -> None:
    pgdata = REPO_ROOT / ".local" / f"test-stack-{os.getpid()}"  # pgserver's user reaches it
    movie, env = stand_ins(http_server, seed, pgdata)
    # The repository's config, but the safety floors of the tests: the stand-in movie is
    # kilobytes, which the shipped floors reject as a fake sample.
    config = tmp_path / "config"
    shutil.copytree(REPO_ROOT / "config", config)
    safety_rules_for_tests(config / "automatic_transmission")
    env["DAGSTRIBUTOR_CONFIG_DIR"] = str(config)
    stack, url = start_stack(env, tmp_path)
    try:
        ready_at = time.time()
        placed = tmp_path / "library" / MOVIE_FILE

        def in_library() -> bool:
            stack.check_alive()
            return placed.is_file()

        wait_for(in_library, 360, f"{MOVIE_FILE} in the library")
        assert placed.read_bytes() == (movie.path / f"{MOVIE_NAME}.mkv").read_bytes()

        launched = runs(url)
        pipeline = [
            r for r in launched if r["jobName"] == "at_full_pipeline_job" and r["startTime"]
        ]
        first = min(pipeline, key=lambda run: run["startTime"])
        tags = {tag["key"]: tag["value"] for tag in first["tags"]}
        assert tags.get("dagster/schedule_name") == "at_full_pipeline"  # nobody launched it
        assert first["startTime"] - ready_at < 75  # the next minute's tick, and its launch
        # Every run came from a schedule or a sensor (issue 18's chain and download sensors).
        automatic = {"dagster/schedule_name", "dagster/sensor_name"}
        assert all(automatic & {t["key"] for t in r["tags"]} for r in launched), launched
    finally:
        output = stack.output()
        stop_all([stack], 20.0)
        shutil.rmtree(pgdata, ignore_errors=True)
    daemon_log = tmp_path / "logs" / "transmission-daemon.log"
    assert f"its log in {daemon_log}" in output
    assert "schedules local.yaml" in output
    daemon_lines = daemon_log.read_text().splitlines()
    assert daemon_lines and not any(line in output for line in daemon_lines if line.strip())


def test_the_env_file_at_the_repo_root_fills_what_the_shell_leaves_unset(tmp_path: Path) -> None:
    from scripts.local_stack import ENV_FILE, SCHEDULE_PROFILE_VAR, child_environment

    assert ENV_FILE == REPO_ROOT / ".env"
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# keys of this household\nAT_MOVIE_SEARCH_API_KEY=from-file\n"
        'export AT_RSS_URLS="https://a/rss"\nAT_BATCH_SIZE=10\n'
    )
    shell = {"AT_BATCH_SIZE": "20", "PATH": "/usr/bin"}
    env = child_environment(tmp_path / "home", shell, env_file=env_file)
    assert env["AT_MOVIE_SEARCH_API_KEY"] == "from-file"
    assert env["AT_RSS_URLS"] == "https://a/rss"
    assert env["AT_BATCH_SIZE"] == "20"  # the shell wins
    assert (env["ENVIRONMENT"], env[SCHEDULE_PROFILE_VAR]) == ("dev", "local")
    paused = child_environment(tmp_path / "home", shell, paused=True, env_file=tmp_path / "none")
    assert SCHEDULE_PROFILE_VAR not in paused and "AT_MOVIE_SEARCH_API_KEY" not in paused
