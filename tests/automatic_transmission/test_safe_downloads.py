"""Step 07 against a real transmission-daemon and web seed (issue 18): fake releases are rejected
from their file list before the web seed is asked for a byte, a magnet without metadata waits,
and a download waits for free space on a real, nearly full filesystem until space is freed."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from automatic_transmission.library.files import LibrarySettings
from dagstributor_shared.postgres import PostgresResource
from tests.automatic_transmission import test_download_steps
from tests.automatic_transmission.conftest import MediaTable
from tests.automatic_transmission.test_download_steps import (
    Rig,
    matrix_row,
    movie_torrent,
    run,
    run_ok,
    settle_download,
)
from tests.support.steps import step_failure, step_metadata
from tests.support.transmission import Daemon, download_resources, transmission_daemon
from tests.support.webseed import SeededTorrent, WebSeed, web_seed, write_payload

pytestmark = pytest.mark.integration
rig = test_download_steps.rig  # the database, a daemon, a web seed and the library (fixture)


def release(seed: WebSeed, name: str, files: dict[str, int]) -> SeededTorrent:
    """A torrent of a folder `name` holding `files` (name -> bytes), seeded by `seed`."""
    folder = seed.root / name
    for n, (file, size) in enumerate(files.items()):
        write_payload(folder / file, size, seed=n + len(name))
    return seed.make_torrent(folder)


FAKES = {
    "Fake.Exe.2025.1080p": ({"Fake.Exe.2025.1080p.exe": 300_000}, "Fake.Exe.2025.1080p.exe"),
    "Fake.Lnk.2025.1080p": (
        {"Fake.Lnk.2025.1080p.mkv": 300_000, "Play.lnk": 2_000}, "Play.lnk",
    ),
    "Fake.Double.2025.1080p": (
        {"Fake.Double.2025.1080p.WEB.mkv.exe": 300_000}, "Fake.Double.2025.1080p.WEB.mkv.exe",
    ),
    "Fake.Archive.2025.1080p": (
        {"Fake.Archive.2025.1080p.rar": 400_000, "Fake.Archive.2025.1080p.r00": 300_000},
        "Fake.Archive.2025.1080p.rar (only archives, no video)",
    ),
    "Fake.Sample.2025.1080p": (
        {"sample.mkv": 20_000, "Fake.Sample.2025.1080p.zip": 300_000},
        "sample.mkv (0.02 MB, below the floor of 0.1 MB for a 1080p movie)",
    ),
}  # fmt: skip


def test_fake_releases_are_rejected_before_a_payload_byte_and_a_real_one_downloads(
    rig: Rig, tmp_path: Path
) -> None:
    fakes = {name: release(rig.seed, name, files) for name, (files, _) in FAKES.items()}
    for torrent in fakes.values():
        matrix_row(rig.media, torrent, "media_accepted")
    with web_seed(tmp_path / "real-seed") as real_seed:
        real = movie_torrent(real_seed)
        matrix_row(rig.media, real, "media_accepted")

        result = rig.run(7)

        for name, torrent in fakes.items():
            row = rig.media.row(torrent.hash)
            assert (row["pipeline_status"], row["rejection_status"]) == ("rejected", "rejected")
            assert row["rejection_reason"] == f"fake release: {FAKES[name][1]}"
        assert rig.media.row(real.hash)["pipeline_status"] == "downloading"
        assert set(rig.transmission.torrents()) == {real.hash}
        settle_download(rig, real.hash)
    assert rig.seed.requests == 0  # not one range request for any fake's payload
    assert real_seed.requests > 0
    assert not any((rig.transmission.download_dir / name).exists() for name in fakes)
    metadata = step_metadata(result)
    assert (metadata["fake releases removed"], metadata["torrents started"]) == (5, 1)

    rig.run(7)  # a rejected hash is never added again
    assert set(rig.transmission.torrents()) == {real.hash}
    assert rig.seed.requests == 0


def test_a_magnet_without_metadata_waits_accepted_with_its_torrent_present(rig: Rig) -> None:
    hash = "c" * 40
    rig.media.add(hash, pipeline_status="media_accepted", rejection_status="accepted",
                  original_link=f"magnet:?xt=urn:btih:{hash}&dn=Some.Movie.2020.1080p")  # fmt: skip
    for _ in range(2):
        result = rig.run(7)
        assert rig.media.row(hash)["pipeline_status"] == "media_accepted"
        assert set(rig.transmission.torrents()) == {hash}
        # running, not paused: a stopped magnet never even announces, so no list would come
        assert rig.transmission.torrents()[hash].status != "stopped"
        metadata = step_metadata(result)
        assert (metadata["waiting for metadata"], metadata["retried later"]) == (1, 0)


# --- free space on a real, nearly full filesystem ------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MB tmpfs (as root); skipped where mounting is not permitted."""
    folder = tmp_path / "small"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(folder)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.fixture
def small_daemon(small_disk: Path) -> Iterator[Daemon]:
    """A transmission-daemon whose download (and incomplete) folder is on the small disk."""
    with transmission_daemon(small_disk) as daemon:
        yield daemon


def test_a_download_waits_for_free_space_and_goes_once_space_is_freed(
    postgres: PostgresResource,
    media: MediaTable,
    small_daemon: Daemon,
    small_disk: Path,
    seed: WebSeed,
    tmp_path: Path,
) -> None:
    torrent = movie_torrent(seed, size=2_000_000)  # 2 MB, and 1 MB (0.001 GB) kept free
    matrix_row(media, torrent, "media_accepted")
    filler = write_payload(small_disk / "filler.bin", 5_500_000)
    resources = download_resources(small_daemon, tmp_path / "lib", min_free_space_gb=0.001)

    result = run(7, postgres, resources)

    assert not result.success  # red: nothing could move, the household must free space
    reason = step_failure(result)
    assert "first reason: waiting for free space: " in reason
    assert " GB missing (needs 0.002 GB; " in reason
    assert media.row(torrent.hash)["pipeline_status"] == "media_accepted"  # retry, not rejected
    small_daemon.wait_until(torrent.hash, "stopped", timeout=10)  # after its quick check
    assert seed.requests == 0  # paused: nothing fetched

    filler.unlink()
    run_ok(7, postgres, resources)
    assert media.row(torrent.hash)["pipeline_status"] == "downloading"
    deadline = time.monotonic() + 60
    while small_daemon.torrents()[torrent.hash].left_until_done > 0:
        assert time.monotonic() < deadline, "download did not finish"
        time.sleep(0.1)


def test_a_copy_the_library_has_no_room_for_waits_and_a_hardlink_needs_none(
    postgres: PostgresResource, media: MediaTable, small_disk: Path, tmp_path: Path
) -> None:
    library = small_disk / "lib"  # the library on the 8 MB disk, the downloads elsewhere
    resources = download_resources(None, library, copy_only=True)
    resources["library"] = LibrarySettings(
        download_dir=str(tmp_path / "downloads"),
        movie_dir=str(library / "movies"),
        tv_show_dir=str(library / "tv"),
        copy_only=True,
    )
    write_payload(tmp_path / "downloads/Big.Movie.2020/big.mkv", 10_000_000)
    media.add("e" * 40, pipeline_status="downloaded", original_path="Big.Movie.2020",
              media_title="Big Movie", release_year=2020)  # fmt: skip

    result = run(9, postgres, resources)

    assert not result.success
    assert "waiting for free space in the library: " in step_failure(result)
    assert media.row("e" * 40)["pipeline_status"] == "downloaded"
    assert not any(p.is_file() for p in library.rglob("*"))  # nothing half-written

    hardlinked = download_resources(None, library)  # downloads on the same small disk
    write_payload(library / "downloads/Big.Movie.2020/big.mkv", 6_000_000)
    run_ok(9, postgres, hardlinked)  # 6 MB more would not fit, but a hardlink takes none
    assert media.row("e" * 40)["pipeline_status"] == "transferred"
