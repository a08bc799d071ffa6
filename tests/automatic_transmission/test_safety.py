"""Step 07's safety rules (safety.yaml) and its start decision, as tables: no database, no
Transmission."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from automatic_transmission.clients.transmission import DOWNLOADING, STOPPED, Torrent
from automatic_transmission.model import (
    MediaRow,
    MediaType,
    PipelineStatus,
    RejectionStatus,
    Verdict,
)
from automatic_transmission.pipeline.steps.initiation import (
    WAITING_FOR_METADATA,
    actions,
    decide_start,
    needed_by_others,
)
from automatic_transmission.safety import (
    GB,
    MB,
    SAFETY_FILE,
    SafetyConfigError,
    SafetySettings,
    SpaceBudget,
    fake_release,
    load_safety_rules,
)
from automatic_transmission.settings import SettingsError, config_dir
from tests.support.rule_files import rewritten

RULES = load_safety_rules()  # the repository's own file
HASH = "ab" * 20
BIG = 2 * GB


@pytest.mark.parametrize(
    ("files", "media_type", "resolution", "reason"),
    [
        ([("M/Movie.2025.1080p.mkv", BIG), ("M/movie.nfo", 100)], MediaType.MOVIE, "1080p", None),
        ([("M/Movie.2025.1080p.WEB.mkv.exe", BIG)], MediaType.MOVIE, "1080p",
         "fake release: Movie.2025.1080p.WEB.mkv.exe"),
        ([("M/Movie.mkv", BIG), ("M/Play Movie.lnk", 900)], MediaType.MOVIE, "1080p",
         "fake release: Play Movie.lnk"),
        ([("M/Movie.mkv", BIG), ("M/codec.SCR", 900)], MediaType.MOVIE, "1080p",
         "fake release: codec.SCR"),  # case does not hide it
        ([("M/Movie.mkv", BIG), ("M/setup.exe. ", 900)], MediaType.MOVIE, "1080p",
         "fake release: setup.exe. "),  # Windows ignores trailing dots and spaces
        ([("M/Movie.mkv", BIG), ("M/run.ps1", 9)], MediaType.MOVIE, None, "fake release: run.ps1"),
        ([("M/Movie.part1.rar", BIG), ("M/Movie.r00", BIG)], MediaType.MOVIE, "1080p",
         "fake release: Movie.part1.rar (only archives, no video)"),
        ([("M/Movie.001", BIG)], MediaType.MOVIE, "1080p",
         "fake release: Movie.001 (only archives, no video)"),
        ([("M/readme.txt", 10)], MediaType.MOVIE, "1080p", "fake release: no video among 1 file(s)"),
        ([("M/sample.mkv", 20 * MB), ("M/Movie.zip", BIG)], MediaType.MOVIE, "1080p",
         "fake release: sample.mkv (20 MB, below the floor of 500 MB for a 1080p movie)"),
        ([("M/Movie.mkv", 400 * MB)], MediaType.MOVIE, "720p", None),  # 720p floor 300 MB
        ([("M/Movie.mkv", 100 * MB)], MediaType.MOVIE, "480p",
         "fake release: Movie.mkv (100 MB, below the floor of 150 MB for a 480p movie)"),
        ([("S/Show.S01E01.mkv", 120 * MB)], MediaType.TV_SHOW, "1080p", None),  # tv floors
        ([("S/Show.S01E01.mkv", 50 * MB)], MediaType.TV_SEASON, "1080p",
         "fake release: Show.S01E01.mkv (50 MB, below the floor of 100 MB for a 1080p tv)"),
        ([("S/Show.S01E01.mp4", 50 * MB)], MediaType.TV_SHOW, None, None),  # default 30 MB
    ],
)  # fmt: skip
def test_a_file_list_is_judged_by_the_repositorys_rules(
    files: list[tuple[str, int]], media_type: MediaType, resolution: str | None, reason: str | None
) -> None:
    assert fake_release(files, media_type, resolution, RULES) == reason


def write_rules(folder: Path, **changes: Any) -> Path:
    return rewritten(SAFETY_FILE, folder, **changes)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"blocked_extension": ["exe"]}, "unknown key(s) blocked_extension"),
        ({"video_extensions": None}, "the key video_extensions is missing"),
        ({"video_extensions": []}, "video_extensions must be a non-empty list"),
        ({"archive_extensions": [7]}, "archive_extensions holds 7, not an extension"),
        ({"min_video_mb": {"movie": {"1080p": 500}, "tv": {"default": 1}}},
         "min_video_mb.movie: needs a `default` floor"),
        ({"min_video_mb": {"movie": {"default": 1}}}, "min_video_mb.tv: missing"),
        ({"min_video_mb": {"movie": {"default": -1}, "tv": {"default": 1}}},
         "min_video_mb.movie.default: expected a number of MB (0 or more), got -1"),
        ({"min_video_mb": {"movie": {"default": "big"}, "tv": {"default": 1}}},
         "min_video_mb.movie.default: expected a number of MB (0 or more), got 'big'"),
        ({"min_video_mb": {"movie": {"default": 1}, "tv": {"default": 1}, "anime": {}}},
         "min_video_mb.anime: unknown media kind"),
    ],
)  # fmt: skip
def test_a_malformed_safety_file_is_an_error_naming_the_file_and_key(
    tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    write_rules(tmp_path, **changes)
    with pytest.raises(SafetyConfigError) as raised:
        load_safety_rules(tmp_path)
    assert str(raised.value).startswith(f"{tmp_path / SAFETY_FILE}: ")
    assert message in str(raised.value)


def test_the_location_refuses_to_load_with_a_bad_safety_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from automatic_transmission.definitions import build_definitions
    from dagstributor_shared.environment import Environment

    config = tmp_path / "config"
    shutil.copytree(config_dir().parent, config)
    write_rules(config / "automatic_transmission", min_video_mb={"movie": {}, "tv": {}})
    monkeypatch.setenv("DAGSTRIBUTOR_CONFIG_DIR", str(config))
    with pytest.raises(SafetyConfigError, match=r"safety\.yaml: min_video_mb"):
        build_definitions(Environment("dev"))


@pytest.mark.parametrize(
    ("value", "reserve"), [(None, 10 * GB), ("0.001", 1_000_000), ("2.5", 2_500_000_000)]
)
def test_the_free_space_reserve_is_decimal_gigabytes(
    monkeypatch: pytest.MonkeyPatch, value: str | None, reserve: int
) -> None:
    if value is not None:
        monkeypatch.setenv("AT_MIN_FREE_SPACE_GB", value)
    assert SafetySettings().reserve_bytes() == reserve


@pytest.mark.parametrize("value", ["-1", "lots"])
def test_a_bad_free_space_reserve_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("AT_MIN_FREE_SPACE_GB", value)
    with pytest.raises(SettingsError, match="AT_MIN_FREE_SPACE_GB"):
        SafetySettings().reserve_bytes()


def accepted(n: int, **values: Any) -> MediaRow:
    defaults: dict[str, Any] = {
        "hash": f"{n}" * 40,
        "media_type": MediaType.MOVIE,
        "rejection_status": RejectionStatus.ACCEPTED,
        "original_title": f"Movie.{n}.2020.1080p",
        "resolution": "1080p",
    }
    return MediaRow(pipeline_status=PipelineStatus.MEDIA_ACCEPTED, **{**defaults, **values})


def listed(n: int, files: list[tuple[str, int]] | None = None, **values: Any) -> Torrent:
    files = [(f"M{n}/Movie.{n}.mkv", BIG)] if files is None else files
    defaults: dict[str, Any] = {
        "hash": f"{n}" * 40,
        "status": STOPPED,
        "left_until_done": sum(size for _, size in files),
        "files": tuple(files),
    }
    return Torrent(**{**defaults, **values})


def test_the_start_decision_rejects_fakes_waits_for_metadata_and_space_and_starts_the_rest() -> (
    None
):
    rows = [accepted(n) for n in range(1, 7)]
    rows[4] = accepted(5, rejection_status=RejectionStatus.OVERRIDE)  # operator's choice
    torrents = {
        t.hash: t
        for t in [
            listed(1),  # fits
            listed(2, [("M2/Movie.mkv.exe", BIG)]),  # fake
            listed(3, [], metadata_complete=False, status=DOWNLOADING),  # magnet, no list yet
            listed(4),  # would not fit after 1 took its space
            listed(5, [("M5/tiny.mkv", 10)]),  # override: no fake check, fits
            listed(6, [("M6/Movie.mkv", BIG)], status=DOWNLOADING),  # magnet with its list now
        ]
    }
    added = {row.hash: row.hash for row in rows}
    budget = SpaceBudget(free=5 * GB, needed_by_active=GB // 2, reserve=GB)

    outcomes = decide_start(rows, added, torrents, RULES, budget)

    verdicts = [(o.verdict, o.to_status) for o in outcomes]
    assert verdicts == [
        (Verdict.ADVANCED, PipelineStatus.DOWNLOADING),
        (Verdict.REJECTED, PipelineStatus.REJECTED),
        (Verdict.RETRY, None),
        (Verdict.RETRY, None),
        (Verdict.ADVANCED, PipelineStatus.DOWNLOADING),
        (Verdict.RETRY, None),
    ]
    assert outcomes[1].reason == "fake release: Movie.mkv.exe"
    assert outcomes[2].reason == WAITING_FOR_METADATA
    assert outcomes[3].reason == (
        "waiting for free space: 0.5 GB missing (needs 2 GB; 5 GB free, active downloads still"
        " need 2.5 GB, reserve 1 GB)"
    )
    todo = actions(outcomes, torrents)
    assert (todo.remove, todo.stop, todo.start) == (
        [torrents_hash(2)], [torrents_hash(6)], [torrents_hash(1), torrents_hash(5)],
    )  # fmt: skip


def torrents_hash(n: int) -> str:
    return f"{n}" * 40


def test_what_other_torrents_still_need_counts_only_running_ones_outside_the_batch() -> None:
    others = [
        listed(1, left_until_done=100, status=DOWNLOADING),
        listed(2, left_until_done=50, status=STOPPED),  # paused: takes nothing now
        listed(3, left_until_done=7, status=DOWNLOADING),  # in the batch: judged itself
    ]
    assert needed_by_others(others, {torrents_hash(3)}) == 100
