"""Upgrades in step 09 (library/upgrades.py, pipeline/steps/transfer.py): which files of the
replaced release go (only the ones the pipeline named for it, never the new one's, never anything
else in the folder), and that they go only after the new file is in place."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from automatic_transmission.library.placement import Placement
from automatic_transmission.library.upgrades import folder_files, replaced_files
from automatic_transmission.model import MediaRow, MediaType, PipelineStatus, Verdict
from automatic_transmission.pipeline.notices import outcome_messages
from automatic_transmission.pipeline.runner import StepResult
from automatic_transmission.pipeline.steps.transfer import transfer
from tests.automatic_transmission.test_library import (
    PLEX,
    ROOTS,
    SLUG,
    download,
    files,
    make_library,
    row,
    show,
)

MOVIE_FOLDER = "/lib/movies/The Matrix (1999)"


def held(media_type: MediaType = MediaType.MOVIE, **values: Any) -> MediaRow:
    """A release the library holds (transferred there), hash b…."""
    base = row(media_type) if media_type is MediaType.MOVIE else show(media_type)
    defaults = {"parent_path": ROOTS["tv" if media_type.is_tv else "movie"]}
    changes = {"pipeline_status": PipelineStatus.TRANSFERRED, **defaults, **values}
    return replace(base, hash="b" * 40, **changes)


def new_placement(*targets: str, root: str = ROOTS["movie"]) -> Placement:
    return Placement(root, "", tuple((f"src/{n}", t) for n, t in enumerate(targets)))


NEW_MKV = new_placement("The Matrix (1999)/The Matrix (1999).mkv")


@pytest.mark.parametrize(
    ("old", "in_folder", "new", "expected"),
    [
        pytest.param(  # another extension: the old video goes, the new name stays
            held(target_path=MOVIE_FOLDER),
            ["The Matrix (1999)/The Matrix (1999).mp4", "The Matrix (1999)/The Matrix (1999).mkv"],
            NEW_MKV,
            ["The Matrix (1999)/The Matrix (1999).mp4"],
            id="other-extension",
        ),
        pytest.param(  # the same name: replaced atomically by the new file, nothing to remove
            held(target_path=MOVIE_FOLDER),
            ["The Matrix (1999)/The Matrix (1999).mkv"],
            NEW_MKV,
            [],
            id="same-name",
        ),
        pytest.param(  # a user's files and a sample beside it stay
            held(target_path=MOVIE_FOLDER),
            [
                "The Matrix (1999)/The Matrix (1999).mp4",
                "The Matrix (1999)/my cut.mkv",
                "The Matrix (1999)/notes.txt",
                "The Matrix (1999)/The Matrix (1999)-sample.mkv",
                "The Matrix (1999)/poster.jpg",
            ],
            NEW_MKV,
            ["The Matrix (1999)/The Matrix (1999).mp4"],
            id="user-files-stay",
        ),
        pytest.param(  # its subtitles go with it
            held(target_path=MOVIE_FOLDER),
            [
                "The Matrix (1999)/The Matrix (1999).avi",
                "The Matrix (1999)/The Matrix (1999).en.srt",
                "The Matrix (1999)/The Matrix (1999).mkv",
            ],
            NEW_MKV,
            [
                "The Matrix (1999)/The Matrix (1999).avi",
                "The Matrix (1999)/The Matrix (1999).en.srt",
            ],
            id="subtitles",
        ),
        pytest.param(  # the slug preset: the old 720p folder's file goes entirely
            held(target_path="/lib/movies/the-matrix-1999-720p", resolution="720p"),
            ["the-matrix-1999-720p/the-matrix-1999-720p.mkv"],
            new_placement("the-matrix-1999-1080p/the-matrix-1999-1080p.mkv"),
            ["the-matrix-1999-720p/the-matrix-1999-720p.mkv"],
            id="slug-other-folder",
        ),
        pytest.param(  # the row's names lead to another folder now (preset changed): nothing
            held(target_path="/lib/movies/Somewhere Else"),
            ["Somewhere Else/The Matrix (1999).mp4"],
            NEW_MKV,
            [],
            id="folder-mismatch",
        ),
        pytest.param(  # never placed (no paths recorded): nothing
            held(parent_path=None, target_path=None),
            ["The Matrix (1999)/The Matrix (1999).mp4"],
            NEW_MKV,
            [],
            id="never-placed",
        ),
        pytest.param(  # an episode: only its own file, not the next episode's
            held(MediaType.TV_SHOW, episode=5, target_path="/lib/tv/Severance (2022)/Season 02"),
            [
                "Severance (2022)/Season 02/Severance (2022) - s02e05.avi",
                "Severance (2022)/Season 02/Severance (2022) - s02e06.avi",
            ],
            new_placement(
                "Severance (2022)/Season 02/Severance (2022) - s02e05.mkv", root=ROOTS["tv"]
            ),
            ["Severance (2022)/Season 02/Severance (2022) - s02e05.avi"],
            id="episode",
        ),
        pytest.param(  # a pack: its numbered episodes, never an unnumbered file it would keep
            held(MediaType.TV_SEASON, target_path="/lib/tv/Severance (2022)/Season 02"),
            [
                "Severance (2022)/Season 02/Severance (2022) - s02e01.avi",
                "Severance (2022)/Season 02/Severance (2022) - s02e02.mkv",
                "Severance (2022)/Season 02/behind the scenes.mkv",
            ],
            new_placement(
                "Severance (2022)/Season 02/Severance (2022) - s02e01.mkv",
                "Severance (2022)/Season 02/Severance (2022) - s02e02.mkv",
                root=ROOTS["tv"],
            ),
            ["Severance (2022)/Season 02/Severance (2022) - s02e01.avi"],
            id="pack",
        ),
    ],
)
def test_only_the_files_the_pipeline_named_for_the_old_release_are_removed(
    old: MediaRow, in_folder: list[str], new: Placement, expected: list[str]
) -> None:
    naming = SLUG if "720p" in str(old.target_path) else PLEX
    assert replaced_files(old, files(*in_folder), new, naming, ROOTS) == expected


def test_an_upgrade_places_the_new_file_then_removes_the_old_and_marks_its_row(
    tmp_path: Path,
) -> None:
    library = make_library(tmp_path)
    folder = Path(library.movie_dir) / "The Matrix (1999)"
    folder.mkdir()
    (folder / "The Matrix (1999).mp4").write_bytes(b"old 720p")
    (folder / "my notes.txt").write_bytes(b"mine")
    old = held(parent_path=library.movie_dir, target_path=str(folder))
    download(library, "The.Matrix.1999.1080p/m.mkv", b"new 1080p")
    result = StepResult()

    outcomes = transfer(replace(row(), hash="c" * 40), library, result, [old])

    assert [o.verdict for o in outcomes] == [Verdict.ADVANCED, Verdict.REJECTED]
    assert outcomes[1].hash == old.hash
    assert outcomes[1].reason == f"upgraded by {'c' * 40}"
    assert sorted(p.name for p in folder.iterdir()) == ["The Matrix (1999).mkv", "my notes.txt"]
    assert (folder / "The Matrix (1999).mkv").read_bytes() == b"new 1080p"
    assert result.figures["replaced files removed"] == 1
    [(title, body)] = outcome_messages(outcomes, {old.hash: old})
    assert "upgraded" in title and old.hash[:12] in body


def test_a_failed_placement_removes_nothing_of_the_old_release(tmp_path: Path) -> None:
    library = make_library(tmp_path)
    folder = Path(library.movie_dir) / "The Matrix (1999)"
    folder.mkdir()
    (folder / "The Matrix (1999).mp4").write_bytes(b"old 720p")
    old = held(parent_path=library.movie_dir, target_path=str(folder))

    outcomes = transfer(
        replace(row(), hash="c" * 40), library, StepResult(), [old]
    )  # download missing

    assert [o.verdict for o in outcomes] == [Verdict.RETRY]
    assert [f.path for f in folder_files(library.movie_dir, str(folder))] == [
        "The Matrix (1999)/The Matrix (1999).mp4"
    ]
