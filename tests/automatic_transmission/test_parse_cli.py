"""``at-parse`` run as a real subprocess: JSON lines with exactly the agreed keys."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from typing import Any

import pytest

KEYS = [
    "title",
    "year",
    "season",
    "episode",
    "resolution",
    "video_codec",
    "audio_codec",
    "upload_type",
    "uploader",
    "media_type",
    "revision",
]


def _commands() -> list[list[str]]:
    commands = [[sys.executable, "-m", "automatic_transmission.cli.parse"]]
    script = shutil.which("at-parse")
    if script:
        commands.append([script])
    return commands


COMMANDS = _commands()
IDS = ["python_-m", "console_script"][: len(COMMANDS)]


def _run(command: list[str], args: list[str], stdin: str = "") -> list[dict[str, Any]]:
    done = subprocess.run(
        [*command, *args], input=stdin, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_names_as_arguments_print_one_object_each_in_order(command: list[str]) -> None:
    rows = _run(
        command,
        ["The.Simpsons.S01E01-E03.720p.WEB.x265-GRP", "2001 A Space Odyssey (1968) 1080p"],
    )
    assert [list(row) for row in rows] == [KEYS, KEYS]
    assert rows[0] == {
        "title": "The Simpsons",
        "year": None,
        "season": 1,
        "episode": [1, 2, 3],
        "resolution": "720p",
        "video_codec": "x265",
        "audio_codec": None,
        "upload_type": "WEB",
        "uploader": "GRP",
        "media_type": "tv_episode_pack",
        "revision": 1,
    }
    assert (rows[1]["title"], rows[1]["year"], rows[1]["media_type"]) == (
        "2001 A Space Odyssey",
        1968,
        "movie",
    )


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_stdin_one_name_per_line_skips_blank_lines(command: list[str]) -> None:
    stdin = (
        "The Walking Dead S05E03 720p HDTV x264-ASAP[ettv]\n"
        "\n   \n"
        "Hercules (2014) 1080p BrRip H264 - YIFY\n"
    )
    rows = _run(command, [], stdin)
    assert [(r["title"], r["season"], r["episode"], r["year"]) for r in rows] == [
        ("The Walking Dead", 5, 3, None),
        ("Hercules", None, None, 2014),
    ]
    assert rows[0]["media_type"] == "tv_show" and rows[1]["uploader"] == "YIFY"


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_unparseable_name_prints_nulls_and_unknown(command: list[str]) -> None:
    rows = _run(command, ["!!!", ""])
    expected = dict.fromkeys(KEYS) | {"media_type": "unknown", "revision": 1}
    assert rows == [expected, expected]


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_multi_episode_name_prints_the_full_episode_list(command: list[str]) -> None:
    rows = _run(
        command,
        [
            "Glen.Row.S02E03.S02E04.720p.HDTV.x264-GRP",
            "Glen.Row.4x09_10.HDTV.XviD-GRP",
            "Glen.Row.S05E10-S05E12.1080p.WEB.h264-GRP",
        ],
    )
    assert [(r["season"], r["episode"], r["media_type"]) for r in rows] == [
        (2, [3, 4], "tv_episode_pack"),
        (4, [9, 10], "tv_episode_pack"),
        (5, [10, 11, 12], "tv_episode_pack"),
    ]
