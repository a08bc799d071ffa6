"""The pure decisions of steps 02, 07, 08 and 10 (pipeline/steps/), as tables of cases: no database,
no Transmission."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from automatic_transmission.clients.transmission import (
    CHECKING,
    DOWNLOADING,
    SEED_PENDING,
    SEEDING,
    STOPPED,
    Torrent,
    TorrentRefused,
)
from automatic_transmission.model import (
    UNKNOWN_TYPE_ERROR,
    MediaRow,
    MediaType,
    PipelineStatus,
    RejectionStatus,
    Verdict,
)
from automatic_transmission.pipeline.steps.cleanup import CleanupDelays, decide_cleanup
from automatic_transmission.pipeline.steps.collect import decide_collect
from automatic_transmission.pipeline.steps.download_check import check_download, is_complete
from automatic_transmission.pipeline.steps.initiation import judge_add, torrent_link
from automatic_transmission.seeding import load_seeding_rules

HASH = "ab" * 20
NOW = dt.datetime(2026, 1, 10, 12, tzinfo=dt.UTC)


def row(status: PipelineStatus = PipelineStatus.DOWNLOADING, **values: Any) -> MediaRow:
    defaults: dict[str, Any] = {
        "hash": HASH,
        "media_type": MediaType.MOVIE,
        "rejection_status": RejectionStatus.ACCEPTED,
        "original_title": "The Matrix 1999 1080p",
    }
    return MediaRow(pipeline_status=status, **{**defaults, **values})


def torrent(**values: Any) -> Torrent:
    defaults: dict[str, Any] = {"hash": HASH, "name": "The.Matrix.1999.1080p", "status": SEEDING}
    return Torrent(**{**defaults, **values})


# --- 08 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("found", "complete"),
    [
        (torrent(), True),
        (torrent(status=SEED_PENDING), True),
        (torrent(status=STOPPED), True),  # paused after finishing
        (torrent(status=DOWNLOADING), False),  # 100 % but the file is still in the incomplete dir
        (torrent(status=CHECKING), False),
        (torrent(left_until_done=1), False),
        (torrent(status=STOPPED, left_until_done=10), False),  # paused midway
        (torrent(metadata_complete=False, left_until_done=0), False),  # a magnet without metadata
        (torrent(name=HASH), False),
    ],
)
def test_a_download_is_complete_only_when_transmission_is_done_with_the_data(found, complete):
    assert is_complete(found) is complete


def test_download_check_outcomes() -> None:
    done = check_download(row(), torrent())
    assert done is not None
    assert (done.to_status, done.changes) == (
        PipelineStatus.DOWNLOADED,
        {"original_path": "The.Matrix.1999.1080p"},
    )
    assert check_download(row(), torrent(status=DOWNLOADING)) is None  # stays, nothing written
    vanished = check_download(row(rejection_status=RejectionStatus.OVERRIDE), None)
    assert vanished is not None
    assert (vanished.to_status, vanished.changes) == (PipelineStatus.INGESTED, {})


# --- 07 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("https://yts.mx/torrent/download/AB", "https://yts.mx/torrent/download/AB"),
        ("magnet:?xt=urn:btih:ab&tr=x", "magnet:?xt=urn:btih:ab&tr=x"),
        (None, f"magnet:?xt=urn:btih:{HASH}&dn=The%20Matrix%201999%201080p"),
        ("ftp://odd", f"magnet:?xt=urn:btih:{HASH}&dn=The%20Matrix%201999%201080p"),
    ],
)
def test_initiation_adds_the_stored_link_else_a_magnet_of_the_hash(link, expected) -> None:
    assert torrent_link(row(PipelineStatus.MEDIA_ACCEPTED, original_link=link)) == expected


@pytest.mark.parametrize(
    ("added", "verdict"),
    [
        (HASH, None),  # added: its file list is judged next
        ("", None),  # an old daemon's duplicate answer carries no hash
        ("cd" * 20, Verdict.ERRORED),  # the link held another torrent
        (TorrentRefused("gotMetadataFromURL: http error 503"), Verdict.RETRY),
        (TorrentRefused("invalid or corrupt torrent file"), Verdict.ERRORED),
    ],
)
def test_initiation_judges_what_transmission_answered(added, verdict) -> None:
    outcome = judge_add(row(PipelineStatus.MEDIA_ACCEPTED), added)
    assert (outcome.verdict if outcome else None) is verdict


# --- 02 ------------------------------------------------------------------------------------------


def test_collect_adopts_new_torrents_re_enables_rejected_rows_and_waits_for_metadata(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import automatic_transmission.parsing as parsing

    # The classifier's own rules are tested with the parser; here: what collect does with each.
    classify = parsing.classify_media_type
    monkeypatch.setattr(
        parsing,
        "classify_media_type",
        lambda name: "unknown" if name == "holiday photos" else classify(name),
    )
    new, back, frozen, waiting, unknown, downloading = (f"{n}" * 40 for n in range(1, 7))
    torrents = [
        torrent(hash=new, name="Heat.1995.1080p.BluRay.x264"),
        torrent(hash=back, name="Cats.2019.1080p"),
        torrent(hash=frozen, name="Frozen.2013.1080p"),
        torrent(hash=waiting, name=waiting),
        torrent(hash=unknown, name="holiday photos"),
        torrent(hash=downloading, name="Busy.2020.1080p"),
    ]
    rows = {
        back: row(PipelineStatus.REJECTED, hash=back, rejection_status=RejectionStatus.REJECTED),
        frozen: row(PipelineStatus.REJECTED, hash=frozen, error_status=True),
        downloading: row(hash=downloading),
    }
    decision = decide_collect(torrents, rows)
    assert [
        (n.hash, n.media_type, n.rejection_status, n.error_condition) for n in decision.new
    ] == [
        (new, MediaType.MOVIE, RejectionStatus.OVERRIDE, None),
        (unknown, MediaType.UNKNOWN, RejectionStatus.OVERRIDE, UNKNOWN_TYPE_ERROR),
    ]
    assert [(o.hash, o.to_status, dict(o.changes)) for o in decision.outcomes] == [
        (back, PipelineStatus.INGESTED, {"rejection_status": RejectionStatus.OVERRIDE})
    ]
    assert decision.waiting_for_metadata == 1


# --- 10 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "torrents", "expected_hours"),
    [
        (10, 10, (2.0, 24.0)),
        (10, 20, (1.0, 12.0)),  # a crowded client is cleaned sooner
        (10, 5, (4.0, 48.0)),
        (10, 0, (2.0, 24.0)),  # nothing in Transmission: nothing to scale by
    ],
)
def test_cleanup_delays_scale_by_target_over_torrents(target, torrents, expected_hours) -> None:
    delays = CleanupDelays(target, transferred_days=2 / 24, hung_days=1).scaled(torrents)
    assert tuple(d.total_seconds() / 3600 for d in delays) == pytest.approx(expected_hours)


def test_negative_cleanup_delays_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        CleanupDelays(10, transferred_days=-1, hung_days=1)


def test_cleanup_decisions() -> None:
    hour = dt.timedelta(hours=1)
    delays = (hour, 2 * hour)
    transferred_old = row(PipelineStatus.TRANSFERRED, hash="1" * 40, updated_at=NOW - 2 * hour)
    transferred_new = row(PipelineStatus.TRANSFERRED, hash="2" * 40, updated_at=NOW - hour / 2)
    stuck = row(hash="3" * 40)
    moving = row(hash="4" * 40)
    never_started = row(hash="5" * 40)
    finished = row(hash="6" * 40)
    absent = row(hash="7" * 40)
    torrents = {
        stuck.hash: torrent(hash=stuck.hash, left_until_done=5, activity_date=NOW - 3 * hour),
        moving.hash: torrent(
            hash=moving.hash,
            left_until_done=5,
            activity_date=NOW - dt.timedelta(minutes=1),
            added_date=NOW - 30 * hour,
        ),
        never_started.hash: torrent(
            hash=never_started.hash, left_until_done=5, added_date=NOW - 3 * hour
        ),
        finished.hash: torrent(hash=finished.hash, activity_date=NOW - 30 * hour),
    }
    rows = [transferred_old, transferred_new, stuck, moving, never_started, finished, absent]
    outcomes = decide_cleanup(rows, torrents, NOW, delays, load_seeding_rules())  # cleanup: delay
    assert [(o.hash, o.to_status, o.reason) for o in outcomes] == [
        (transferred_old.hash, PipelineStatus.COMPLETE, None),
        (stuck.hash, PipelineStatus.REJECTED, "exceeded time limit"),
        (never_started.hash, PipelineStatus.REJECTED, "exceeded time limit"),
    ]
