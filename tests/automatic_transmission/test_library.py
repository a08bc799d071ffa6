"""Step 09's library rules (library/, pipeline/steps/transfer.py): naming templates, safe paths, hardlink-or-copy through a
temporary name, packs merging into a season folder, only video and subtitle files placed."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from automatic_transmission.library.files import PARTIAL_SUFFIX, Library, list_download
from automatic_transmission.library.naming import (
    NamingError,
    UnsafePath,
    load_naming,
    safe_relative,
    validate_naming,
)
from automatic_transmission.library.placement import (
    MAX_SUBTITLES_PER_VIDEO,
    SourceFile,
    plan_placement,
)
from automatic_transmission.model import MediaRow, MediaType, PipelineStatus, RejectionStatus

PLEX = load_naming("plex")
SLUG = load_naming("slug")
ROOTS = {"movie": "/lib/movies", "tv": "/lib/tv"}


def row(media_type: MediaType = MediaType.MOVIE, **values: Any) -> MediaRow:
    defaults: dict[str, Any] = {
        "media_title": "The Matrix",
        "release_year": 1999,
        "resolution": "1080p",
        "original_path": "The.Matrix.1999.1080p",
    }
    return MediaRow(
        hash="a" * 40,
        media_type=media_type,
        pipeline_status=PipelineStatus.DOWNLOADED,
        rejection_status=RejectionStatus.ACCEPTED,
        original_title="The.Matrix.1999.1080p",
        **{**defaults, **values},
    )


def show(media_type: MediaType = MediaType.TV_SHOW, **values: Any) -> MediaRow:
    return row(media_type, media_title="Severance", release_year=2022, season=2, **values)


def files(*names: str, size: int = 100) -> list[SourceFile]:
    return [SourceFile(name, size) for name in names]


# --- naming ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("naming", "item", "downloaded", "expected"),
    [
        (PLEX, row(), ["M/m.mkv"], {"M/m.mkv": "The Matrix (1999)/The Matrix (1999).mkv"}),
        (SLUG, row(), ["M/m.mkv"], {"M/m.mkv": "the-matrix-1999-1080p/the-matrix-1999-1080p.mkv"}),
        (
            PLEX,
            show(episode=5),
            ["S.mkv"],
            {"S.mkv": "Severance (2022)/Season 02/Severance (2022) - s02e05.mkv"},
        ),
        (SLUG, show(episode=5), ["S.mkv"], {"S.mkv": "severance-2022/s02/s02e05.mkv"}),
        (
            PLEX,
            row(media_title="Face/Off", release_year=1997),
            ["F.mp4"],
            {"F.mp4": "Face-Off (1997)/Face-Off (1997).mp4"},
        ),
    ],
)
def test_names_follow_the_preset_template(naming, item, downloaded, expected) -> None:
    placement = plan_placement(item, files(*downloaded), naming, ROOTS)
    assert dict(placement.files) == expected


def test_a_movie_is_its_largest_video_with_subtitles_and_nothing_else() -> None:
    downloaded = [
        SourceFile("M/movie.mkv", 5000),
        SourceFile("M/extra-feature.mkv", 900),
        SourceFile("M/Sample/movie-sample.mkv", 100),
        SourceFile("M/sample.mkv", 100),
        SourceFile("M/movie.nfo", 10),
        SourceFile("M/setup.exe", 10),
        SourceFile("M/Subs/2_English.srt", 10),
        SourceFile("M/movie.fr.srt", 10),
    ]
    placement = plan_placement(row(), downloaded, PLEX, ROOTS)
    assert dict(placement.files) == {
        "M/movie.mkv": "The Matrix (1999)/The Matrix (1999).mkv",
        "M/Subs/2_English.srt": "The Matrix (1999)/The Matrix (1999).English.srt",
        "M/movie.fr.srt": "The Matrix (1999)/The Matrix (1999).fr.srt",
    }
    assert placement.root == "/lib/movies"
    assert placement.target_path == "/lib/movies/The Matrix (1999)"


def test_a_season_pack_names_each_episode_from_its_own_file() -> None:
    downloaded = files(
        "Severance.S02.1080p/Severance.S02E01.1080p.mkv",
        "Severance.S02.1080p/Severance.S02E02.1080p.mkv",
        "Severance.S02.1080p/Severance.S02E02.1080p.en.srt",
        "Severance.S02.1080p/Severance.S02.Behind.The.Scenes.mkv",
        "Severance.S02.1080p/info.txt",
    )
    placement = plan_placement(show(MediaType.TV_SEASON), downloaded, PLEX, ROOTS)
    season = "Severance (2022)/Season 02"
    assert dict(placement.files) == {
        "Severance.S02.1080p/Severance.S02E01.1080p.mkv": f"{season}/Severance (2022) - s02e01.mkv",
        "Severance.S02.1080p/Severance.S02E02.1080p.mkv": f"{season}/Severance (2022) - s02e02.mkv",
        "Severance.S02.1080p/Severance.S02E02.1080p.en.srt": (
            f"{season}/Severance (2022) - s02e02.en.srt"
        ),
        "Severance.S02.1080p/Severance.S02.Behind.The.Scenes.mkv": (
            f"{season}/Severance.S02.Behind.The.Scenes.mkv"
        ),
    }
    assert placement.target_path == f"/lib/tv/{season}"


@pytest.mark.parametrize(
    ("item", "downloaded", "reason"),
    [
        (row(), files("M/movie.nfo", "M/x.exe"), "no video file"),
        (row(release_year=None), files("m.mkv"), "release_year is null"),
        (show(episode=None), files("s.mkv"), "episode is null"),
        (row(media_title=None), files("m.mkv"), "media_title is null"),
    ],
)
def test_an_item_the_template_cannot_name_is_refused_with_the_reason(item, downloaded, reason):
    with pytest.raises(ValueError, match=reason):
        plan_placement(item, downloaded, PLEX, ROOTS)


@pytest.mark.parametrize("title", ["../../etc", "/etc/cron.d", "a/../../b", ".."])
def test_a_title_that_is_a_path_is_refused(title: str) -> None:
    with pytest.raises(UnsafePath):
        plan_placement(row(media_title=title), files("m.mkv"), PLEX, ROOTS)


@pytest.mark.parametrize("path", ["/abs", "a/../b", "..", "a//b", "", "a/./b", "a\x00b"])
def test_unsafe_relative_paths_are_refused(path: str) -> None:
    with pytest.raises(UnsafePath):
        safe_relative(path)


def test_a_template_that_leaves_the_root_stops_the_step(tmp_path: Path) -> None:
    (tmp_path / "naming.yaml").write_text(
        "evil:\n  movie: '../{title}'\n  episode: '{title}/{season}'\n"
        "odd:\n  movie: '{title}/{imdb}'\n  episode: '{title}'\n"
    )
    with pytest.raises(NamingError, match=r"evil\.movie"):
        load_naming("evil", tmp_path)
    with pytest.raises(NamingError, match="unknown fields: imdb"):
        load_naming("odd", tmp_path)
    with pytest.raises(NamingError, match="no naming preset 'plexx'"):
        load_naming("plexx", tmp_path)
    with pytest.raises(NamingError, match=r"evil\.movie"):
        validate_naming(tmp_path)  # the location does not load with it


def test_the_shipped_presets_are_valid() -> None:
    assert [n.preset for n in validate_naming()] == ["plex", "slug"]


# --- the file work ---------------------------------------------------------------------------


def make_library(tmp_path: Path, **options: Any) -> Library:
    for name in ("downloads", "movies", "tv"):
        (tmp_path / name).mkdir(parents=True, exist_ok=True)
    return Library(
        download_dir=str(tmp_path / "downloads"),
        movie_dir=str(tmp_path / "movies"),
        tv_show_dir=str(tmp_path / "tv"),
        naming=PLEX,
        **options,
    )


def download(library: Library, relative: str, content: bytes = b"video") -> Path:
    path = Path(library.download_dir) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def place(library: Library, item: MediaRow) -> int:
    assert item.original_path is not None
    found = list_download(Path(library.download_dir), item.original_path)
    return library.place(plan_placement(item, found, library.naming, library.roots))


def test_same_filesystem_hardlinks_and_copy_only_copies(tmp_path: Path) -> None:
    library = make_library(tmp_path)
    source = download(library, "The.Matrix.1999.1080p/m.mkv", b"x" * 1000)
    assert place(library, row()) == 0
    target = tmp_path / "movies/The Matrix (1999)/The Matrix (1999).mkv"
    assert target.stat().st_ino == source.stat().st_ino

    copying = make_library(tmp_path / "copy", copy_only=True)
    copied_source = download(copying, "The.Matrix.1999.1080p/m.mkv", b"y" * 1000)
    assert place(copying, row()) == 1
    copied = tmp_path / "copy/movies/The Matrix (1999)/The Matrix (1999).mkv"
    assert copied.read_bytes() == b"y" * 1000
    assert copied.stat().st_ino != copied_source.stat().st_ino


def test_placed_files_and_folders_get_mode_0775_and_the_numeric_owner(tmp_path: Path) -> None:
    uid, gid = os.getuid(), os.getgid()
    library = make_library(tmp_path, copy_only=True, uid=uid, gid=gid)
    download(library, "The.Matrix.1999.1080p/m.mkv")
    place(library, row())
    for path in (
        tmp_path / "movies/The Matrix (1999)",
        tmp_path / "movies/The Matrix (1999)/The Matrix (1999).mkv",
    ):
        info = path.stat()
        assert stat.S_IMODE(info.st_mode) == 0o775
        assert (info.st_uid, info.st_gid) == (uid, gid)


def test_a_second_episode_lands_beside_the_first_and_a_pack_merges(tmp_path: Path) -> None:
    library = make_library(tmp_path)
    download(library, "Severance.S02E01.mkv")
    place(library, show(episode=1, original_path="Severance.S02E01.mkv"))
    download(library, "Severance.S02E02.mkv")
    place(library, show(episode=2, original_path="Severance.S02E02.mkv"))
    download(library, "Pack/Severance.S02E03.mkv")
    place(library, show(MediaType.TV_EPISODE_PACK, original_path="Pack"))
    season = tmp_path / "tv/Severance (2022)/Season 02"
    assert sorted(p.name for p in season.iterdir()) == [
        f"Severance (2022) - s02e0{n}.mkv" for n in (1, 2, 3)
    ]


def test_a_leftover_partial_file_is_replaced_by_the_next_run(tmp_path: Path) -> None:
    library = make_library(tmp_path, copy_only=True)
    download(library, "The.Matrix.1999.1080p/m.mkv", b"whole file")
    folder = tmp_path / "movies/The Matrix (1999)"
    folder.mkdir(parents=True)
    (folder / f".The Matrix (1999).mkv{PARTIAL_SUFFIX}").write_bytes(b"half")
    place(library, row())
    assert [p.name for p in folder.iterdir()] == ["The Matrix (1999).mkv"]
    assert (folder / "The Matrix (1999).mkv").read_bytes() == b"whole file"


def test_a_link_in_the_library_pointing_outside_is_refused_with_nothing_written(
    tmp_path: Path,
) -> None:
    library = make_library(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "movies/The Matrix (1999)").symlink_to(outside)
    download(library, "The.Matrix.1999.1080p/m.mkv")
    with pytest.raises(UnsafePath):
        place(library, row())
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("original_path", ["../escape", "/etc", "a/../../escape"])
def test_a_download_name_that_leaves_the_download_folder_is_refused(
    tmp_path: Path, original_path: str
) -> None:
    library = make_library(tmp_path)
    with pytest.raises(UnsafePath):
        list_download(Path(library.download_dir), original_path)


def test_a_link_inside_a_download_pointing_outside_is_refused(tmp_path: Path) -> None:
    library = make_library(tmp_path)
    download(library, "Movie/m.mkv")
    (tmp_path / "secret.mkv").write_bytes(b"secret")
    (Path(library.download_dir) / "Movie/link.mkv").symlink_to(tmp_path / "secret.mkv")
    with pytest.raises(UnsafePath, match="links to outside"):
        list_download(Path(library.download_dir), "Movie")


def test_a_torrent_of_5000_subtitles_places_only_a_bounded_number_that_belong_to_the_video() -> (
    None
):
    languages = ["en", "fr", "de", "es"]
    downloaded = [SourceFile("M/movie.mkv", 5000), SourceFile("M/movie.srt", 10)]
    downloaded += [SourceFile(f"M/Subs/{n:04d}.srt", 10) for n in range(2500)]  # untagged
    downloaded += [
        SourceFile(f"M/Subs/{n:04d}_{languages[n % 4]}.srt", 10) for n in range(2498)
    ]  # language-tagged, many of each language

    files = dict(plan_placement(row(), downloaded, PLEX, ROOTS).files)

    subtitles = {source: target for source, target in files.items() if source.endswith(".srt")}
    assert len(subtitles) == MAX_SUBTITLES_PER_VIDEO
    assert subtitles["M/movie.srt"] == "The Matrix (1999)/The Matrix (1999).srt"  # its own name
    assert not any(source.startswith("M/Subs/") and "_" not in source for source in subtitles)
    assert len(set(subtitles.values())) == len(subtitles)  # numbered, never overwriting
    assert "The Matrix (1999)/The Matrix (1999).en.2.srt" in subtitles.values()
