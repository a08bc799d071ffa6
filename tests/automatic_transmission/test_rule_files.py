"""Issue 12 #7: a rule or schedule file that would silently change behaviour is a load error
naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from automatic_transmission.filters import (
    FILE_FIELDS,
    MEDIA_FIELDS,
    FilterConfigError,
    load_rules,
)
from dagstributor_shared.schedules import ScheduleConfigError, load_schedule_specs


def rule_file(tmp_path: Path, content: bytes | str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


@pytest.mark.parametrize(
    ("content", "fields", "message"),
    [
        (
            "movie:\n  resolution: {allowed_values: [1080p]}\n"
            "movie:\n  video_codec: {allowed_values: [x265]}\n",
            FILE_FIELDS,
            r"key 'movie' appears twice\n.*line 3",
        ),
        (
            "movie:\n  imdb_rating: {min: .nan}\n",
            MEDIA_FIELDS,
            r"rule movie.imdb_rating: min must be a finite number",
        ),
        (
            "movie:\n  resolution: {min: 720}\n",
            FILE_FIELDS,
            r"rule movie.resolution: min applies to numbers; resolution is text",
        ),
        ("", FILE_FIELDS, r"the file is empty"),
        ("# nothing but a comment\n", MEDIA_FIELDS, r"the file is empty"),
        (b"movie:\n  uploader: {allowed_values: [caf\xe9]}\n", FILE_FIELDS, r"line 2: byte 0xe9"),
    ],
    ids=["duplicate block", "nan bound", "bound on text", "empty", "only comments", "not utf-8"],
)
def test_a_rule_file_that_would_change_behaviour_silently_is_a_load_error(
    tmp_path: Path, content: bytes | str, fields: frozenset[str], message: str
) -> None:
    path = rule_file(tmp_path, content)
    with pytest.raises(FilterConfigError, match=message) as raised:
        load_rules(path, fields)
    assert str(raised.value).startswith(str(path))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        (b"at_03_parse:\n  cron_schedule: '*/5 * * * *' # \xff\n", "line 2: byte 0xff"),
    ],
    ids=["empty", "not utf-8"],
)
def test_a_schedule_file_that_would_change_behaviour_silently_is_a_load_error(
    tmp_path: Path, content: bytes | str, message: str
) -> None:
    path = rule_file(tmp_path, content)
    with pytest.raises(ScheduleConfigError, match=message) as raised:
        load_schedule_specs(path, frozenset({"at_03_parse"}), "at_")
    assert str(raised.value).startswith(str(path))
