"""Steps 02, 07-10 against a real transmission-daemon on 127.0.0.1 whose downloads come from a
local web seed (pipeline/steps/): collected, added, recognised as finished only when Transmission is
done with the data, filed safely, cleaned up; and every step that needs Transmission fails
clearly, changing no row, when it is down or refuses the credentials."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from automatic_transmission.clients.plex import PlexResource
from automatic_transmission.model import HUNG_REASON
from automatic_transmission.settings import NOTIFY_URLS_VAR
from dagstributor_shared.postgres import PostgresResource
from tests.automatic_transmission.conftest import MediaTable
from tests.support.plex import PLEX_TOKEN, fake_plex
from tests.support.processes import free_port, wait_for
from tests.support.steps import run_step, step_failure, step_metadata
from tests.support.transmission import Daemon, download_resources
from tests.support.webhook import Webhook
from tests.support.webseed import SeededTorrent, WebSeed, web_seed, write_payload

pytestmark = pytest.mark.integration

JOBS = {
    2: "at_02_collect",
    7: "at_07_initiation",
    8: "at_08_download_check",
    9: "at_09_transfer",
    10: "at_10_cleanup",
}


def movie_torrent(
    seed: WebSeed, name: str = "The.Matrix.1999.1080p", size: int = 200_000
) -> SeededTorrent:
    folder = seed.root / name
    write_payload(folder / f"{name}.mkv", size, seed=len(name))
    write_payload(folder / "movie.nfo", 50, seed=1)
    return seed.make_torrent(folder)


def run(job: int, postgres: PostgresResource, resources: dict[str, Any]) -> Any:
    return run_step(JOBS[job], postgres, download=resources)


def run_ok(job: int, postgres: PostgresResource, resources: dict[str, Any]) -> Any:
    """Run step `job`; it must succeed (else the step's failure is shown)."""
    result = run(job, postgres, resources)
    assert result.success, step_failure(result)
    return result


@dataclass
class Rig:
    """The database, a transmission-daemon, a web seed and the library under tmp_path/lib, with
    the steps' resources pointed at them."""

    postgres: PostgresResource
    media: MediaTable
    transmission: Daemon
    seed: WebSeed
    library: Path
    resources: dict[str, Any]

    def run(self, job: int) -> Any:
        """Run step `job`; it must succeed."""
        return run_ok(job, self.postgres, self.resources)


@pytest.fixture
def rig(
    postgres: PostgresResource,
    media: MediaTable,
    transmission: Daemon,
    seed: WebSeed,
    tmp_path: Path,
) -> Rig:
    library = tmp_path / "lib"
    resources = download_resources(transmission, library)
    return Rig(postgres, media, transmission, seed, library, resources)


def matrix_row(media: MediaTable, torrent: SeededTorrent, status: str, **columns: Any) -> None:
    media.add(
        torrent.hash,
        pipeline_status=status,
        rejection_status="accepted",
        original_title=torrent.name,
        original_link=torrent.url,
        media_title="The Matrix",
        release_year=1999,
        resolution="1080p",
        **columns,
    )


def settle_download(rig: Rig, hash: str) -> None:
    """Run step 08 until the row is `downloaded` (each check must leave a complete file)."""
    deadline = time.monotonic() + 60
    while rig.media.row(hash)["pipeline_status"] != "downloaded":
        assert time.monotonic() < deadline, "download did not finish"
        rig.run(8)
        time.sleep(0.05)


# --- 02 collect --------------------------------------------------------------------------------


def test_a_torrent_added_by_hand_is_collected_as_override_and_a_rejected_one_comes_back(
    rig: Rig,
) -> None:
    by_hand = movie_torrent(rig.seed, "Heat.1995.1080p.BluRay")
    rejected = movie_torrent(rig.seed, "Cats.2019.1080p.WEBRip")
    rig.media.add(rejected.hash, pipeline_status="rejected", rejection_status="rejected",
                  rejection_reason="probability 0.1 below threshold 0.35")  # fmt: skip
    rpc = rig.transmission.rpc()
    rpc.add_torrent(by_hand.url)
    rpc.add_torrent(rejected.url)
    rpc.add_torrent(f"magnet:?xt=urn:btih:{'c' * 40}")  # no metadata will ever arrive

    rig.run(2)

    collected = rig.media.row(by_hand.hash)
    assert (collected["pipeline_status"], collected["rejection_status"]) == ("ingested", "override")
    assert (collected["media_type"], collected["original_title"]) == ("movie", by_hand.name)
    back = rig.media.row(rejected.hash)
    assert (back["pipeline_status"], back["rejection_status"], back["rejection_reason"]) == (
        "ingested", "override", None,
    )  # fmt: skip
    assert sorted(rig.media.hashes()) == sorted([by_hand.hash, rejected.hash])  # magnet waits


# --- 07, 08, 09, 10 in turn --------------------------------------------------------------------


def test_an_accepted_movie_is_downloaded_filed_byte_identical_and_cleaned_up(rig: Rig) -> None:
    torrent = movie_torrent(rig.seed)
    matrix_row(rig.media, torrent, "media_accepted")

    rig.run(7)
    assert rig.media.row(torrent.hash)["pipeline_status"] == "downloading"
    rig.run(7)  # nothing left to add; adding again is harmless
    settle_download(rig, torrent.hash)
    assert rig.media.row(torrent.hash)["original_path"] == torrent.name

    rig.run(9)
    row = rig.media.row(torrent.hash)
    placed = rig.library / "movies/The Matrix (1999)/The Matrix (1999).mkv"
    assert placed.read_bytes() == (torrent.path / f"{torrent.name}.mkv").read_bytes()
    assert sorted(p.name for p in placed.parent.iterdir()) == [placed.name]  # no .nfo
    assert (row["pipeline_status"], row["parent_path"], row["target_path"]) == (
        "transferred", str(rig.library / "movies"), str(placed.parent),
    )  # fmt: skip

    rig.run(10)
    assert rig.media.row(torrent.hash)["pipeline_status"] == "complete"
    assert rig.transmission.torrents() == {}
    rig.transmission.wait_until(torrent.hash, "gone")
    assert not (rig.transmission.download_dir / torrent.name).exists()
    assert placed.read_bytes() == (torrent.path / f"{torrent.name}.mkv").read_bytes()


def test_a_torrent_transmission_already_has_counts_as_added(rig: Rig) -> None:
    torrent = movie_torrent(rig.seed)
    rig.transmission.rpc().add_torrent(torrent.url)
    matrix_row(rig.media, torrent, "media_accepted")

    rig.run(7)

    assert rig.media.row(torrent.hash)["pipeline_status"] == "downloading"
    assert set(rig.transmission.torrents()) == {torrent.hash}


def test_a_torrent_removed_behind_the_pipelines_back_is_re_ingested(rig: Rig) -> None:
    torrent = movie_torrent(rig.seed)
    rig.media.add(torrent.hash, pipeline_status="downloading", rejection_status="override",
                  original_title=torrent.name)  # fmt: skip
    other = movie_torrent(rig.seed, "Unrelated.2001.1080p")
    rig.transmission.rpc().add_torrent(other.url)  # unknown to the database: never touched

    rig.run(8)

    row = rig.media.row(torrent.hash)
    assert (row["pipeline_status"], row["rejection_status"]) == ("ingested", "override")
    assert set(rig.transmission.torrents()) == {other.hash}
    assert rig.media.hashes() == [torrent.hash]


def test_the_full_percent_window_before_seeding_never_produces_a_partial_transfer(
    rig: Rig,
) -> None:
    torrent = movie_torrent(rig.seed, size=2_000_000)
    matrix_row(rig.media, torrent, "media_accepted")
    rig.run(7)
    full = (torrent.path / f"{torrent.name}.mkv").read_bytes()
    deadline = time.monotonic() + 60
    while True:  # step 08 and 09 back to back, as often as they go, through the whole download
        assert time.monotonic() < deadline, "download did not finish"
        rig.run(8)
        if rig.media.row(torrent.hash)["pipeline_status"] == "downloaded":
            # at the moment 08 said done, the file sat complete under its final name
            done = rig.transmission.download_dir / torrent.name / f"{torrent.name}.mkv"
            assert done.read_bytes() == full
            break
    rig.run(9)
    assert (rig.library / "movies/The Matrix (1999)/The Matrix (1999).mkv").read_bytes() == full


# --- 09 transfer -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("original_path", "../outside"),
        ("original_path", "/etc"),
        ("media_title", "../../../outside"),
        ("media_title", "/tmp/outside"),
    ],
)
def test_hostile_names_are_refused_with_nothing_written_outside(
    postgres: PostgresResource, media: MediaTable, tmp_path: Path, column: str, value: str
) -> None:
    resources = download_resources(None, tmp_path / "lib")
    write_payload(tmp_path / "lib/downloads/Movie.2020/m.mkv", 1000)
    write_payload(tmp_path / "lib/outside/m.mkv", 10)
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    values = {"original_path": "Movie.2020", "media_title": "Movie", column: value}
    media.add("d" * 40, pipeline_status="downloaded", release_year=2020, **values)

    run_ok(9, postgres, resources)

    row = media.row("d" * 40)
    assert (row["pipeline_status"], row["error_status"]) == ("downloaded", True)
    assert "refused" in row["error_condition"] or "unsafe" in row["error_condition"]
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before


def test_a_library_folder_linking_outside_is_refused_with_nothing_written(
    postgres: PostgresResource, media: MediaTable, tmp_path: Path
) -> None:
    resources = download_resources(None, tmp_path / "lib")
    write_payload(tmp_path / "lib/downloads/Movie.2020/m.mkv", 1000)
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "lib/movies/Movie (2020)").symlink_to(outside)
    media.add("d" * 40, pipeline_status="downloaded", original_path="Movie.2020",
              media_title="Movie", release_year=2020)  # fmt: skip

    run_ok(9, postgres, resources)

    assert media.row("d" * 40)["error_condition"].startswith("unsafe path")
    assert list(outside.iterdir()) == []


# The copy runs at its real speed in chunks of 256 KiB with a pause before each (injected in the
# child alone), so a payload of a few MiB is still copying when it is killed.
KILLED_COPY = textwrap.dedent(
    """
    import os
    import sys
    import time
    from automatic_transmission.library import files

    files.COPY_CHUNK = 256 * 1024
    copy_range = os.copy_file_range

    def paced(*args, **kwargs):
        time.sleep(0.05)
        return copy_range(*args, **kwargs)

    os.copy_file_range = paced
    from automatic_transmission.pipeline.jobs import pipeline_jobs
    from automatic_transmission.settings import PipelineSettings
    from dagstributor_shared.postgres import PostgresResource
    from tests.support.transmission import download_resources
    from pathlib import Path

    postgres = PostgresResource(env_prefix="AT_PGSQL")
    resources = {
        "postgres": postgres,
        "pipeline_settings": PipelineSettings(batch_size=10),
        **download_resources(None, Path(sys.argv[1]), copy_only=True),
    }
    pipeline_jobs()["at_09_transfer"].execute_in_process(resources=resources)
    """
)


def test_a_copy_killed_midway_leaves_no_partial_item_and_the_next_run_finishes_it(
    postgres: PostgresResource, media: MediaTable, tmp_path: Path
) -> None:
    library = tmp_path / "lib"
    resources = download_resources(None, library, copy_only=True)
    source = write_payload(library / "downloads/Big.Movie.2020/big.mkv", 8 * 1024 * 1024)
    media.add("e" * 40, pipeline_status="downloaded", original_path="Big.Movie.2020",
              media_title="Big Movie", release_year=2020)  # fmt: skip
    target = library / "movies/Big Movie (2020)/Big Movie (2020).mkv"
    partial = target.with_name(f".{target.name}.partial")
    settings = postgres.settings()
    env = {
        **os.environ,
        "AT_PGSQL_HOST": settings.host,
        "AT_PGSQL_PORT": str(settings.port),
        "AT_PGSQL_DATABASE": settings.database,
        "AT_PGSQL_USERNAME": settings.username,
        "AT_PGSQL_PASSWORD": settings.password or "",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    process = subprocess.Popen([sys.executable, "-c", KILLED_COPY, str(library)], env=env)
    try:
        deadline = time.monotonic() + 60
        while not (partial.exists() and partial.stat().st_size > 0):
            assert process.poll() is None, "the copy finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.002)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()

    assert not target.exists()  # no half-written item under its real name
    assert media.row("e" * 40)["pipeline_status"] == "downloaded"

    run_ok(9, postgres, resources)
    assert media.row("e" * 40)["pipeline_status"] == "transferred"
    assert target.read_bytes() == source.read_bytes()
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]


def downloaded_episode(media: MediaTable, library: Path, n: int) -> None:
    """Severance S02E0n finished under library/downloads, its row `downloaded` (hash n*40)."""
    name = f"Severance.S02E0{n}.1080p.WEB.H264-Group.mkv"
    write_payload(library / "downloads" / name, 1000, seed=n)
    media.add(f"{n}" * 40, media_type="tv_show", pipeline_status="downloaded",
              original_path=name, media_title="Severance", release_year=2022, season=2,
              episode=n)  # fmt: skip


def test_a_second_episode_lands_beside_the_first(
    postgres: PostgresResource, media: MediaTable, tmp_path: Path
) -> None:
    resources = download_resources(None, tmp_path / "lib")
    for n in (1, 2):
        downloaded_episode(media, tmp_path / "lib", n)
        run_ok(9, postgres, resources)
    season = tmp_path / "lib/tv/Severance (2022)/Season 02"
    assert sorted(p.name for p in season.iterdir()) == [
        "Severance (2022) - s02e01.mkv",
        "Severance (2022) - s02e02.mkv",
    ]


def downloaded_movie_and_episodes(media: MediaTable, library: Path) -> None:
    """A finished movie and two finished episodes of one season under library/downloads."""
    write_payload(library / "downloads/Heat.1995.1080p/Heat.1995.1080p.mkv", 1000)
    media.add("a" * 40, pipeline_status="downloaded", original_path="Heat.1995.1080p",
              media_title="Heat", release_year=1995)  # fmt: skip
    for n in (1, 2):
        downloaded_episode(media, library, n)


def test_plex_scans_just_the_folders_that_received_items_in_their_sections(
    postgres: PostgresResource, media: MediaTable, tmp_path: Path
) -> None:
    library = tmp_path / "lib"
    resources = download_resources(None, library)
    downloaded_movie_and_episodes(media, library)
    sections = {
        "1": ("movie", "Movies", [str(library / "movies")]),
        "2": ("show", "TV Shows", [str(library / "tv")]),
    }
    with fake_plex(sections) as plex:
        resources["plex"] = PlexResource(url=plex.url, token=PLEX_TOKEN, timeout_s=5.0)

        result = run_ok(9, postgres, resources)

        assert sorted(plex.scans()) == [
            ("1", str(library / "movies/Heat (1995)")),
            ("2", str(library / "tv/Severance (2022)/Season 02")),  # once for both episodes
        ]
    assert step_metadata(result)["folders scanned by Plex"] == 2


def test_plex_also_scans_the_folder_of_a_release_an_upgrade_replaced(
    postgres: PostgresResource, media: MediaTable, tmp_path: Path
) -> None:
    library = tmp_path / "lib"
    resources = download_resources(None, library)
    write_payload(library / "downloads/Heat.1995.1080p/Heat.1995.1080p.mkv", 1000)
    media.add("a" * 40, pipeline_status="downloaded", original_path="Heat.1995.1080p",
              media_title="Heat", release_year=1995, tmdb_id=949)  # fmt: skip
    old_folder = library / "movies/Heat 720p"  # placed under another preset once
    media.add("b" * 40, pipeline_status="transferred", media_title="Heat", release_year=1995,
              tmdb_id=949, parent_path=str(library / "movies"),
              target_path=str(old_folder))  # fmt: skip
    sections = {"1": ("movie", "Movies", [str(library / "movies")])}
    with fake_plex(sections) as plex:
        resources["plex"] = PlexResource(url=plex.url, token=PLEX_TOKEN, timeout_s=5.0)

        run_ok(9, postgres, resources)

        assert sorted(plex.scans()) == [
            ("1", str(library / "movies/Heat (1995)")),
            ("1", str(old_folder)),
        ]
    assert media.row("b" * 40)["rejection_reason"] == f"upgraded by {'a' * 40}"


@pytest.mark.parametrize("refused", [False, True], ids=["plex-down", "token-refused"])
def test_plex_down_or_refusing_is_logged_and_the_rows_are_still_transferred(
    postgres: PostgresResource,
    media: MediaTable,
    tmp_path: Path,
    refused: bool,
    capsys: pytest.CaptureFixture[str],
) -> None:
    library = tmp_path / "lib"
    resources = download_resources(None, library)
    downloaded_movie_and_episodes(media, library)
    with fake_plex({}) as plex:
        url = plex.url if refused else f"http://127.0.0.1:{free_port()}"
        resources["plex"] = PlexResource(url=url, token="wrong-token-456", timeout_s=2.0)

        result = run_ok(9, postgres, resources)

    assert {media.row(h)["pipeline_status"] for h in media.hashes()} == {"transferred"}
    log = capsys.readouterr().err  # the run's log, as Dagster's console logger writes it
    assert log.count("not refreshed") == 1 and "wrong-token-456" not in log
    assert step_metadata(result)["folders scanned by Plex"] == 0


# --- 10 cleanup --------------------------------------------------------------------------------


HUNG_DELAY_S = 2.0
MOVED_FOR_S = 3.0


def moved_for(daemon: Daemon, moving: SeededTorrent, stuck: SeededTorrent) -> float:
    """Seconds from the stuck torrent's add date to the moving one's last received byte."""
    torrents = daemon.torrents()
    if moving.hash not in torrents or stuck.hash not in torrents:
        return 0.0
    received, added = torrents[moving.hash].activity_date, torrents[stuck.hash].added_date
    return (received - added).total_seconds() if received.timestamp() > 0 else 0.0


def test_a_download_without_progress_is_hung_and_one_that_still_moves_is_not(
    postgres: PostgresResource,
    media: MediaTable,
    transmission: Daemon,
    tmp_path: Path,
    webhook: Webhook,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(NOTIFY_URLS_VAR, webhook.apprise_url)
    with web_seed(tmp_path / "gone") as gone, web_seed(tmp_path / "slow") as slow:
        stuck = movie_torrent(gone, "Stuck.Movie.2020.1080p")
        moving = movie_torrent(slow, "Slow.Movie.2020.1080p", size=3_000_000)
        gone.gone = True
        slow.rate = 100_000  # bytes per second: ~30 s for the whole file
        for torrent in (stuck, moving):
            matrix_row(media, torrent, "media_accepted")
        # one torrent per target: the delays stay as set
        resources = download_resources(
            transmission, tmp_path / "lib", hung_delay_s=HUNG_DELAY_S, target_active_items=2
        )
        run_ok(7, postgres, resources)
        # No fixed sleep: wait until the slow one is seen receiving MOVED_FOR_S after the stuck one
        # was added (Transmission counts whole seconds), so by the check the stuck one has been
        # still for longer than the delay and the moving one received its last byte just now.
        wait_for(lambda: moved_for(transmission, moving, stuck) >= MOVED_FOR_S, 60, "slow bytes")
        assert slow.requests > 0

        run_ok(10, postgres, resources)

    hung = media.row(stuck.hash)
    assert (hung["pipeline_status"], hung["rejection_reason"]) == ("rejected", HUNG_REASON)
    assert media.row(moving.hash)["pipeline_status"] == "downloading"
    assert set(transmission.torrents()) == {moving.hash}
    [text] = webhook.texts()  # the runner notified the hung item, once
    assert text.startswith("Dagstributor: 1 item rejected as hung\n")
    assert f"The Matrix (1999) ({stuck.hash[:12]}): {HUNG_REASON}" in text


def test_negative_cleanup_delays_are_configuration_errors(
    postgres: PostgresResource, tmp_path: Path, transmission: Daemon
) -> None:
    resources = download_resources(transmission, tmp_path / "lib", hung_delay_s=-1.0)
    result = run(10, postgres, resources)
    assert not result.success
    messages = " ".join(str(event.event_specific_data) for event in result.all_events)
    assert "AT_HUNG_ITEM_CLEANUP_DELAY must be at least 0" in messages


# --- Transmission down or refusing ---------------------------------------------------------------


@pytest.mark.parametrize("job", [2, 7, 8, 10])
def test_each_step_needing_transmission_fails_clearly_and_changes_no_row(
    postgres: PostgresResource, media: MediaTable, transmission: Daemon, tmp_path: Path, job: int
) -> None:
    for n, status in enumerate(["media_accepted", "downloading", "transferred", "rejected"]):
        media.add(f"{n}" * 40, pipeline_status=status)
    before = {h: media.row(h) for h in media.hashes()}

    refused = run(job, postgres, download_resources(transmission, tmp_path / "l", password="wrong"))
    down = run(job, postgres, download_resources(None, tmp_path / "l"))

    assert not refused.success and not down.success
    where = f"Transmission at 127.0.0.1:{transmission.port}"
    assert f"{where} refused the credentials" in step_failure(refused)
    assert "wrong" not in step_failure(refused)
    assert "Transmission at 127.0.0.1:9 unreachable" in step_failure(down)
    assert {h: media.row(h) for h in media.hashes()} == before
