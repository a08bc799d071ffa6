"""Seeding rules (seeding.yaml): the limits and label each torrent gets, when step 10 may remove
a transferred torrent (tables), and both against a real daemon (read back with torrent-get)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from automatic_transmission.model import MediaRow, MediaType, PipelineStatus, RejectionStatus
from automatic_transmission.seeding import (
    MODE_SINGLE,
    MODE_UNLIMITED,
    SEEDING_FILE,
    SeedingConfigError,
    SeedingRules,
    SeedLimits,
    load_seeding_rules,
    seed_limits,
    seeding_done,
)
from tests.automatic_transmission import test_download_steps
from tests.automatic_transmission.test_download_steps import (
    Rig,
    matrix_row,
    movie_torrent,
    settle_download,
)
from tests.support.rule_files import rewritten
from tests.support.transmission import download_resources

rig = test_download_steps.rig  # the database, a daemon, a web seed and the library (fixture)


@dataclass(frozen=True)
class TrackerRow(MediaRow):
    """A row with the Torznab minimums the torznab change adds to atp.media."""

    minimum_ratio: float | None = None
    minimum_seed_time: int | None = None


def row(media_type: MediaType = MediaType.MOVIE, **minimums: Any) -> MediaRow:
    return TrackerRow(
        hash="ab" * 20,
        media_type=media_type,
        pipeline_status=PipelineStatus.TRANSFERRED,
        rejection_status=RejectionStatus.ACCEPTED,
        original_title="Movie.2020.1080p",
        **minimums,
    )


def rules(cleanup: str = "rule", **kinds: dict[str, Any]) -> SeedingRules:
    document: dict[str, Any] = {
        "cleanup": cleanup,
        "movie": {"ratio": 2.0, "idle_minutes": 60, "seed_hours": 10, "label": "movie"},
        "tv": {"ratio": None, "idle_minutes": None, "seed_hours": 1, "label": "tv"},
        **kinds,
    }
    return SeedingRules.model_validate(document)


@pytest.mark.parametrize(
    ("media_row", "limits"),
    [
        (row(), SeedLimits(MODE_SINGLE, 2.0, MODE_SINGLE, 60, "movie")),
        (row(MediaType.TV_SEASON), SeedLimits(MODE_UNLIMITED, 0.0, MODE_UNLIMITED, 0, "tv")),
        (row(minimum_ratio=3.5), SeedLimits(MODE_SINGLE, 3.5, MODE_SINGLE, 60, "movie")),
        (row(minimum_ratio=0.5), SeedLimits(MODE_SINGLE, 2.0, MODE_SINGLE, 60, "movie")),
        # a tracker's seeding time: no idle stop that would end the seeding it needs
        (row(minimum_seed_time=7200), SeedLimits(MODE_SINGLE, 2.0, MODE_UNLIMITED, 0, "movie")),
    ],
)
def test_each_torrent_gets_its_kinds_limits_raised_to_the_trackers_minimum(
    media_row: MediaRow, limits: SeedLimits
) -> None:
    assert seed_limits(media_row, rules()) == limits


H = 3600
CASES = [
    # (cleanup, row, ratio, seconds seeding, Transmission stopped seeding, delay passed) -> done
    ("delay", row(), 0.0, 0, False, True, True),
    ("delay", row(), 9.0, 99 * H, True, False, False),  # delay mode waits for the delay
    ("delay", row(minimum_seed_time=2 * H), 0.0, H, False, True, False),  # tracker minimum first
    ("delay", row(minimum_seed_time=2 * H), 0.0, 2 * H, False, True, True),
    ("delay", row(minimum_ratio=1.0), 1.0, 0, False, True, True),  # either minimum will do
    ("rule", row(), 2.0, 0, False, False, True),  # ratio reached
    ("rule", row(), 0.5, 10 * H, False, False, True),  # seeding time reached
    ("rule", row(), 0.5, 9 * H, False, True, False),  # the delay does not count
    ("rule", row(), 0.5, 60, True, False, True),  # Transmission stopped it (idle limit)
    ("rule", row(minimum_ratio=3.0), 2.5, 10 * H, True, False, False),
    ("rule", row(MediaType.TV_SHOW), 0.0, H, False, False, True),
]


@pytest.mark.parametrize(
    ("cleanup", "media_row", "ratio", "seeding", "stopped", "delay", "done"), CASES
)
def test_step_10_removes_by_the_chosen_rule_never_before_the_trackers_minimum(
    cleanup: str,
    media_row: MediaRow,
    ratio: float,
    seeding: int,
    stopped: bool,
    delay: bool,
    done: bool,
) -> None:
    assert seeding_done(media_row, rules(cleanup), ratio, seeding, stopped, delay) is done


def write_seeding(folder: Path, **changes: Any) -> Path:
    return rewritten(SEEDING_FILE, folder, **changes)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"cleanup": "soon"}, "cleanup must be `delay` or `rule`, got 'soon'"),
        ({"anime": {"label": "x"}}, "unknown key(s) anime"),
        ({"movie": {"ratio": 1, "label": "movie", "hours": 1}}, "movie: unknown key(s) hours"),
        ({"tv": {"ratio": 1}}, "tv: the key label is missing"),
    ],
)
def test_a_malformed_seeding_file_names_the_file_and_key(
    tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    write_seeding(tmp_path, **changes)
    with pytest.raises(SeedingConfigError) as raised:
        load_seeding_rules(tmp_path)
    assert str(raised.value).startswith(str(tmp_path / SEEDING_FILE))
    assert message in str(raised.value)


# --- against the daemon --------------------------------------------------------------------------

READ_BACK = ["seedRatioLimit", "seedRatioMode", "seedIdleLimit", "seedIdleMode", "labels"]


@pytest.mark.integration
def test_limits_and_label_are_set_on_the_torrent_and_step_10_keeps_it_until_its_rule(
    rig: Rig, tmp_path: Path
) -> None:
    torrent = movie_torrent(rig.seed)
    matrix_row(rig.media, torrent, "media_accepted")
    kinds = {"tv": {"ratio": 1.0, "label": "tv"}}
    seeding = write_seeding(
        tmp_path / "seeding", cleanup="rule",
        movie={"ratio": 4.0, "idle_minutes": 90, "seed_hours": 100, "label": "movie"}, **kinds,
    )  # fmt: skip
    rig.resources = download_resources(rig.transmission, rig.library, seeding_dir=seeding)

    rig.run(7)

    [found] = rig.transmission.rpc().get_torrents(ids=[torrent.hash], arguments=READ_BACK)
    assert {k: found.fields[k] for k in READ_BACK} == {
        "seedRatioLimit": 4.0, "seedRatioMode": MODE_SINGLE, "seedIdleLimit": 90,
        "seedIdleMode": MODE_SINGLE, "labels": ["movie"],
    }  # fmt: skip
    settle_download(rig, torrent.hash)
    rig.run(9)
    rig.run(10)  # seeding: ratio 0 of 4, seconds of 100 h -> stays
    assert rig.media.row(torrent.hash)["pipeline_status"] == "transferred"
    assert set(rig.transmission.torrents()) == {torrent.hash}

    write_seeding(seeding, cleanup="rule", movie={"seed_hours": 0, "label": "movie"}, **kinds)
    rig.run(10)  # its rule is met now
    assert rig.media.row(torrent.hash)["pipeline_status"] == "complete"
    rig.transmission.wait_until(torrent.hash, "gone")
