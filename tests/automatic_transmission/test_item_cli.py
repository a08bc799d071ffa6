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
