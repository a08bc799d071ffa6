"""`at-item`: the rows matching title words or a hash prefix, as a table or JSON."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from automatic_transmission.cli.item import USAGE, main
from automatic_transmission.store import item_search
from tests.automatic_transmission.conftest import MediaTable
from tests.support.database import PgTestServer
from tests.support.proxy import LOOPBACK, silent_proxy

BLADE_RUNNER = "3f2a9c" + "0" * 34
BLADE_RUNNER_2049 = "3f2a9d" + "1" * 34
SEVERANCE = "a" * 40
OTHER = "b" * 40
DELETED = "c" * 40


@pytest.fixture
def items(media: MediaTable) -> MediaTable:
    media.add(
        BLADE_RUNNER,
        original_title="Blade.Runner.1982.Final.Cut.1080p.BluRay.x264",
        media_title="Blade Runner",
        release_year=1982,
        resolution="1080p",
        pipeline_status="transferred",
        rejection_status="accepted",
        target_path="/library/movies/Blade Runner (1982)/Blade Runner (1982).mkv",
        created_at="2025-01-02T03:04:05Z",
        updated_at="2025-01-03T00:00:00Z",
    )
    media.add(
        BLADE_RUNNER_2049,
        original_title="Blade Runner 2049 (2017) 720p WEBRip",
        media_title="Blade Runner 2049",
        release_year=2017,
        resolution="720p",
        pipeline_status="rejected",
        rejection_status="rejected",
        rejection_reason="resolution 720p is not in allowed_values",
        updated_at="2025-01-04T00:00:00Z",
    )
    media.add(
        SEVERANCE,
        media_type="tv_show",
        original_title="Severance.S02E05.1080p.WEB.h264",
        media_title="Severance",
        season=2,
        episode=5,
        pipeline_status="parsed",
        error_status=True,
        error_condition="TMDB answered 404",
    )
    media.add(OTHER, original_title="Some.Other.Film.2020.1080p")
    media.add(DELETED, original_title="Blade Runner Black Out 2022 1080p",
              deleted_at="2025-01-05T00:00:00Z", rejection_status="rejected",
              rejection_reason="user deletion", updated_at="2025-01-01T00:00:00Z")  # fmt: skip
    return media


@pytest.fixture
def database_env(
    pg_server: PgTestServer, atp_database: str, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """AT_PGSQL_* naming the test database, as a deployment would set them."""
    env = pg_server.environ(atp_database)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def at_item(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(args), out)
    return code, out.getvalue()


def test_title_words_find_every_matching_row_newest_change_first(
    items: MediaTable, database_env: dict[str, str]
) -> None:
    code, text = at_item("blade runner")
    assert code == 0
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["hash", "title", "status"]
    body = lines[2:]
    assert [line.split()[0] for line in body] == [
        BLADE_RUNNER_2049[:12],
        BLADE_RUNNER[:12],
        DELETED[:12],
    ]
    assert "rejected: resolution 720p is not in allowed_values" in body[0]
    assert "1982" in body[1] and "1080p" in body[1] and "transferred" in body[1]
    assert "/library/movies/Blade Runner (1982)/Blade Runner (1982).mkv" in body[1]
    assert "2025-01-02 03:04:05Z" in body[1] and "2025-01-03 00:00:00Z" in body[1]
    assert "ingested (deleted)" in body[2] and "user deletion" in body[2]


def test_a_hash_prefix_finds_its_row(items: MediaTable, database_env: dict[str, str]) -> None:
    code, text = at_item("3F2A9C")
    assert code == 0
    assert [line.split()[0] for line in text.splitlines()[2:]] == [BLADE_RUNNER[:12]]


def test_json_gives_every_field_for_scripts(
    items: MediaTable, database_env: dict[str, str]
) -> None:
    code, text = at_item("--json", "severance")
    assert code == 0
    [item] = json.loads(text)
    assert item["hash"] == SEVERANCE
    assert item["year_or_episode"] == "S02E05"
    assert item["error"] == "TMDB answered 404"
    assert item["status"] == "parsed" and item["deleted"] is False
    row = items.row(SEVERANCE)  # and every column of atp.media, whole
    assert set(row) <= set(item), f"columns missing: {set(row) - set(item)}"
    for name in ("hash", "original_title", "media_type", "season", "episode", "error_condition",
                 "error_status", "rejection_status", "deleted_at"):  # fmt: skip
        assert item[name] == row[name], name


def test_words_are_matched_literally_and_no_match_exits_1(
    items: MediaTable, database_env: dict[str, str]
) -> None:
    assert at_item("blade", "%") == (1, "no item matches 'blade %'\n")


def test_the_installed_command_prints_the_table(
    items: MediaTable, database_env: dict[str, str]
) -> None:
    command = Path(sys.executable).parent / "at-item"
    done = subprocess.run(
        [str(command), "blade runner 2049"],
        env={**os.environ, **database_env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert BLADE_RUNNER_2049[:12] in done.stdout and BLADE_RUNNER[:12] not in done.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("--limit", "-1", "blade"),
        ("--limit", "0", "blade"),
        ("--limit", "many", "blade"),
        ("blade\udcff",),  # a byte that is not UTF-8, as Python hands it over
        tuple(f"w{n}" for n in range(10_000)),  # 10,000 words
        ("x" * 5_000,),
        (),
    ],
    ids=["limit-negative", "limit-zero", "limit-text", "not-utf8", "10k-words", "long", "none"],
)
def test_a_command_line_it_does_not_take_is_a_usage_error_never_exit_2(
    args: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    code, output = at_item(*args)
    assert (code, output) == (USAGE, "")
    assert "usage: at-item" in capsys.readouterr().err


def test_a_database_path_gone_silent_after_connecting_ends_within_the_reply_deadline(
    pg_server: PgTestServer,
    database_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with silent_proxy(pg_server.settings) as proxy:
        monkeypatch.setenv("AT_PGSQL_HOST", LOOPBACK)
        monkeypatch.setenv("AT_PGSQL_PORT", str(proxy.port))
        monkeypatch.setenv("AT_PGSQL_STATEMENT_TIMEOUT", "1")  # reply deadline 1 + 10 s
        escape = item_search.escape_like  # called once connected: the SQL lives in store/

        def silent_after_connecting(text: str) -> str:
            proxy.go_silent()  # connected; the query that follows gets no answer
            return escape(text)

        monkeypatch.setattr(item_search, "escape_like", silent_after_connecting)
        started = time.monotonic()
        code, _ = at_item("blade")
    assert code == 2
    assert time.monotonic() - started < 30
    assert "answer" in capsys.readouterr().err


def test_item_view_shows_each_items_releases_held_waiting_and_why_not(
    media: MediaTable, database_env: dict[str, str]
) -> None:
    """`--item`: every release of the matching items (by `item_span`), grouped per item: the one
    the library holds first, then the one being fetched, the one waiting, the replaced one and
    why each other one was not taken; a release found only through its item is shown too."""
    held, fetching, waiting, passed, replaced, reloaded = (c * 40 for c in "123456")
    movie = {"media_type": "movie", "media_title": "The Matrix", "release_year": 1999,
             "tmdb_id": 603}  # fmt: skip
    media.add(held, original_title="The.Matrix.1999.1080p.BluRay-GRP", resolution="1080p",
              upload_type="BluRay", pipeline_status="complete", rejection_status="accepted",
              **movie)  # fmt: skip
    media.add(fetching, original_title="The.Matrix.1999.2160p.BluRay-GRP", resolution="2160p",
              upload_type="BluRay", pipeline_status="downloading", rejection_status="accepted",
              **movie)  # fmt: skip
    media.add(waiting, original_title="Matrix.99.2160p.WEB-DL", resolution="2160p",
              upload_type="WEB-DL", pipeline_status="metadata_collected",
              **{**movie, "media_title": "Matrix"})  # fmt: skip
    media.add(passed, original_title="The.Matrix.1999.720p.WEB-X", resolution="720p",
              upload_type="WEB-DL", pipeline_status="rejected", rejection_status="rejected",
              rejection_reason=f"The Matrix (1999): already have 1080p BluRay ({held[:8]}…)",
              **movie)  # fmt: skip
    media.add(replaced, original_title="The.Matrix.1999.720p.WEBRip-GRP", resolution="720p",
              upload_type="WEBRip", pipeline_status="rejected", rejection_status="rejected",
              rejection_reason=f"upgraded by {held}", **movie)  # fmt: skip
    media.add(reloaded, original_title="The.Matrix.Reloaded.2003.1080p", media_type="movie",
              media_title="The Matrix Reloaded", release_year=2003, tmdb_id=604,
              pipeline_status="transferred", rejection_status="accepted")  # fmt: skip

    code, text = at_item("--item", "the", "matrix")  # `Matrix.99…` matches only by its item

    assert code == 0
    blocks = {b.splitlines()[0]: b.splitlines()[1:] for b in text.strip().split("\n\n")}
    assert set(blocks) == {"The Matrix 1999:", "The Matrix Reloaded 2003:"}
    roles = [line.split(maxsplit=1) for line in blocks["The Matrix 1999:"][::2]]
    assert [hash for hash, _ in roles] == [
        h[:12] for h in (held, fetching, waiting, replaced, passed)
    ]
    assert roles[0][1].split() == ["1080p", "BluRay", "in", "the", "library"]
    assert roles[1][1].endswith("being fetched (downloading)")
    assert roles[2][1].endswith("waiting (metadata_collected)")
    assert roles[3][1].endswith(f"replaced: upgraded by {held}")
    assert "not taken: The Matrix (1999): already have 1080p BluRay" in roles[4][1]
    assert blocks["The Matrix 1999:"][1].strip() == "The.Matrix.1999.1080p.BluRay-GRP"
    assert blocks["The Matrix Reloaded 2003:"][0].endswith("in the library")
