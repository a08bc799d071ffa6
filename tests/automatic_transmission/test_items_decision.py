"""Issue 16 (d): which release of an item step 06 takes. Table tests of the ranking and the
decision (pure), then the step on a real database: several releases of one item in one run,
across batches, and two overlapping runs -> one download."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from typing import Any

import psycopg2.extensions
import pytest

from automatic_transmission.items import (
    BEING_FETCHED,
    BETTER_WAITING,
    best_revivable,
    choose,
    item_label,
)
from automatic_transmission.model import (
    MediaRow,
    MediaType,
    Outcome,
    PipelineStatus,
    RejectionStatus,
)
from automatic_transmission.quality import Ladder, QualityProfile, load_quality
from automatic_transmission.store import MediaStore
from dagstributor_shared.postgres import PostgresResource
from tests.support.roundtrips import CountingConnection
from tests.support.steps import insert_media, media_row, run_step, step_counts, step_metadata

SHIPPED = load_quality()
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
MOVIE = (-603, -602)  # item_span of a movie, tmdb 603
EPISODE = (100, 101)  # one episode
SEASON = (90, 120)  # a season pack covering it
NO_UPGRADES = QualityProfile(
    movie=Ladder(SHIPPED.movie.qualities, SHIPPED.movie.cutoff, upgrades=False),
    tv=Ladder(SHIPPED.tv.qualities, SHIPPED.tv.cutoff, upgrades=False),
)

WAITING, FETCHING, HELD = (
    PipelineStatus.METADATA_COLLECTED,
    PipelineStatus.DOWNLOADING,
    PipelineStatus.COMPLETE,
)


def rel(
    name: str,
    quality: str = "1080p BluRay",
    status: PipelineStatus = WAITING,
    span: tuple[int, int] | None = MOVIE,
    minute: int = 0,
    **columns: Any,
) -> MediaRow:
    """A release `name` (its hash is the name's first letter, 40 times) of `quality`."""
    resolution, source = quality.split(" ") if quality else (None, None)
    tv = span is not None and span[0] >= 0
    columns.setdefault("media_title", "Show" if tv else "The Matrix")
    if tv:
        columns.setdefault("season", 1)
        columns.setdefault("episode", 5)
    else:
        columns.setdefault("release_year", 1999)
    return media_row(
        status,
        MediaType.TV_SHOW if tv else MediaType.MOVIE,
        hash=name[0] * 40,
        original_title=name,
        resolution=resolution,
        upload_type=source,
        uploader=columns.pop("uploader", "GRP"),
        item_span=span,
        created_at=T0 + dt.timedelta(minutes=minute),
        **columns,
    )


def reasons(
    batch: list[MediaRow], related: Sequence[MediaRow] = (), profile: QualityProfile = SHIPPED
) -> dict[str, str | None]:
    """Each batch release's verdict: None when taken, else the reason (by its name)."""
    choices = choose(batch, list(related), profile)
    return {c.row.original_title: c.reason for c in choices.values()}


def test_of_several_releases_in_one_run_only_the_best_is_taken() -> None:
    """The issue's world: WEBRip listed first, BluRay second; three releases of one episode."""
    movie = [rel("webrip", "1080p WEBRip"), rel("bluray", "1080p BluRay", minute=1)]
    assert reasons(movie) == {
        "webrip": f"The Matrix (1999): {BETTER_WAITING} (1080p BluRay (bbbbbbbb…))",
        "bluray": None,
    }
    episode = [
        rel("a720", "720p WEB-DL", span=EPISODE),
        rel("hdtv", "1080p HDTV", span=EPISODE),
        rel("web", "1080p WEB-DL", span=EPISODE),
    ]
    verdicts = reasons(episode)
    assert verdicts["web"] is None
    assert verdicts["a720"] == f"Show S01E05: {BETTER_WAITING} (1080p WEB-DL (wwwwwwww…))"
    assert verdicts["hdtv"] == f"Show S01E05: {BETTER_WAITING} (1080p WEB-DL (wwwwwwww…))"


@pytest.mark.parametrize(
    ("held", "candidate", "profile", "reason"),
    [
        # below the cutoff a better quality is an upgrade; the same or a worse one is not
        (rel("h", "720p WEB-DL", HELD), rel("c", "1080p WEB-DL"), SHIPPED, None),
        (rel("h", "1080p WEB-DL", HELD), rel("c", "1080p WEB-DL"), SHIPPED,
         "already have 1080p WEB-DL (hhhhhhhh…)"),
        (rel("h", "1080p WEB-DL", HELD), rel("c", "720p BluRay"), SHIPPED,
         "already have 1080p WEB-DL (hhhhhhhh…)"),
        # at the cutoff only a fix of the same quality and group replaces it
        (rel("h", "1080p BluRay", HELD), rel("c", "2160p BluRay"), SHIPPED,
         "already have 1080p BluRay (hhhhhhhh…), at or above the cutoff 1080p BluRay"),
        (rel("h", "1080p BluRay", HELD), rel("c", "1080p BluRay", revision=2), SHIPPED, None),
        (rel("h", "1080p BluRay", HELD), rel("c", "1080p BluRay", revision=2, uploader="OTHER"),
         SHIPPED, "already have 1080p BluRay (hhhhhhhh…), at or above the cutoff 1080p BluRay"),
        (rel("h", "1080p BluRay", HELD, revision=2), rel("c", "1080p BluRay", revision=2),
         SHIPPED, "already have 1080p BluRay (hhhhhhhh…), at or above the cutoff 1080p BluRay"),
        # upgrades off: nothing but a fix replaces what is held
        (rel("h", "720p WEB-DL", HELD), rel("c", "1080p BluRay"), NO_UPGRADES,
         "already have 720p WEB-DL (hhhhhhhh…); upgrades are off"),
        (rel("h", "720p WEB-DL", HELD), rel("c", "720p WEB-DL", revision=3), NO_UPGRADES, None),
        # a held release off the ladder is improved on by anything on it
        (rel("h", "1080p CAM", HELD), rel("c", "720p HDTV"), SHIPPED, None),
        # a season pack held covers the episode; an episode held is covered by a pack
        (rel("h", "1080p WEB-DL", HELD, span=SEASON, episode=None),
         rel("c", "720p WEB-DL", span=EPISODE), SHIPPED, "already have 1080p WEB-DL (hhhhhhhh…), at or above the cutoff 1080p WEB-DL"),
        (rel("h", "1080p BluRay", HELD, span=EPISODE),
         rel("c", "1080p WEB-DL", span=SEASON, episode=None), SHIPPED,
         "already have 1080p BluRay (hhhhhhhh…), at or above the cutoff 1080p WEB-DL"),
        # another item: no comparison
        (rel("h", "2160p BluRay", HELD, span=(101, 102)), rel("c", "720p HDTV", span=EPISODE),
         SHIPPED, None),
    ],
    ids=[
        "upgrade below cutoff", "same quality", "worse", "cutoff reached", "repack at cutoff",
        "repack of another group", "same revision", "upgrades off", "fix with upgrades off",
        "held off the ladder", "pack held covers episode", "episode held blocks pack",
        "other episode",
    ],
)  # fmt: skip
def test_a_release_is_taken_only_when_it_improves_on_what_is_held(
    held: MediaRow, candidate: MediaRow, profile: QualityProfile, reason: str | None
) -> None:
    verdict = reasons([candidate], [held], profile)["c"]
    if reason is None:
        assert verdict is None
    else:
        assert verdict is not None and verdict.endswith(f": {reason}")
        assert verdict.startswith(item_label(candidate))


@pytest.mark.parametrize(
    ("candidate", "reason"),
    [
        (rel("c", "1080p CAM"), "The Matrix (1999): quality 1080p CAM is not on the movie ladder"),
        (rel("c", ""), "The Matrix (1999): quality unknown (resolution ?, source ?) is not on the "
         "movie ladder"),
        (rel("c", "2160p HDTV"), "The Matrix (1999): quality 2160p HDTV is not on the movie ladder"),
        (rel("c", "2160p HDTV", span=EPISODE), None),  # on the tv ladder
    ],
)  # fmt: skip
def test_a_quality_off_the_ladder_is_not_wanted(candidate: MediaRow, reason: str | None) -> None:
    assert reasons([candidate])["c"] == reason


def test_nothing_is_taken_while_a_release_of_the_item_is_being_fetched() -> None:
    busy = rel("d", "720p WEB-DL", FETCHING)
    assert reasons([rel("c", "2160p BluRay")], [busy]) == {
        "c": f"The Matrix (1999): {BEING_FETCHED} (720p WEB-DL (dddddddd…))"
    }
    # forced by the user: it waits for the next run instead of being rejected
    forced = rel("c", "720p HDTV", rejection_status=RejectionStatus.OVERRIDE)
    choice = choose([forced], [busy], SHIPPED)[forced.hash]
    assert choice.waits and not choice.taken
    # a frozen or finished fetch is not in `related` (the store does not read it): taken
    assert reasons([rel("c", "720p HDTV")]) == {"c": None}


def test_override_is_taken_whatever_the_ladder_and_wins_its_item() -> None:
    forced = rel("f", "1080p CAM", rejection_status=RejectionStatus.OVERRIDE, minute=5)
    assert reasons([rel("b", "2160p BluRay"), forced], [rel("h", "2160p BluRay", HELD)]) == {
        "f": None,
        "b": "The Matrix (1999): already have 2160p BluRay (hhhhhhhh…), at or above the cutoff "
        "1080p BluRay",
    }


@pytest.mark.parametrize(
    ("first", "second", "winner"),
    [
        ({"seeders": 5}, {"seeders": 50}, "second"),  # more seeders
        ({"seeders": None}, {"seeders": 1}, "second"),  # known beats unknown
        ({}, {}, "first"),  # neither says: the first seen
        ({"seeders": 500}, {"revision": 2}, "second"),  # a fix beats seeders
    ],
)
def test_ties_go_to_more_seeders_else_the_first_seen(
    first: dict[str, Any], second: dict[str, Any], winner: str
) -> None:
    verdicts = reasons(
        [rel("second", minute=1, **second), rel("first", minute=0, **first)],
    )
    assert verdicts[winner] is None
    loser = "first" if winner == "second" else "second"
    assert (verdicts[loser] or "").startswith(f"The Matrix (1999): {BETTER_WAITING}")


def test_a_better_release_waiting_in_a_later_batch_wins() -> None:
    later = rel("later", "2160p BluRay", minute=9)
    assert reasons([rel("now", "1080p WEB-DL")], [later]) == {
        "now": f"The Matrix (1999): {BETTER_WAITING} (2160p BluRay (llllllll…))"
    }


def test_packs_and_episodes_compete_for_the_episodes_they_share() -> None:
    pack = rel("pack", "1080p WEB-DL", span=SEASON, episode=None)
    worse = rel("ep5", "720p HDTV", span=EPISODE)
    other = rel("six", "720p HDTV", span=(200, 201), season=2, episode=6)
    assert reasons([worse, pack, other]) == {
        "ep5": f"Show S01E05: {BETTER_WAITING} (1080p WEB-DL (pppppppp…))",
        "pack": None,
        "six": None,  # another season: no competition
    }
    # a better single episode wins over the pack that covers it (best first)
    better = rel("ep5", "2160p WEB-DL", span=EPISODE)
    assert reasons([pack, better]) == {
        "pack": f"Show S01: {BETTER_WAITING} (2160p WEB-DL (eeeeeeee…))",
        "ep5": None,
    }


def test_releases_without_an_item_are_judged_as_before() -> None:
    assert reasons([rel("x", "1080p CAM", span=None)]) == {}


def test_item_labels() -> None:
    assert item_label(rel("m")) == "The Matrix (1999)"
    assert item_label(rel("e", span=EPISODE, last_episode=7)) == "Show S01E05-E07"
    assert item_label(rel("s", span=SEASON, episode=None, last_season=3)) == "Show S01-S03"


def test_the_next_best_revivable_release_replaces_a_failed_one() -> None:
    failed = rel("failed", "2160p BluRay", FETCHING)

    def rejected(name: str, quality: str, reason: str) -> MediaRow:
        return rel(
            name, quality, PipelineStatus.REJECTED, rejection_status=RejectionStatus.REJECTED,
            rejection_reason=f"The Matrix (1999): {reason} (2160p BluRay (ffffffff…))",
        )  # fmt: skip

    candidates = [
        rejected("a720", "720p BluRay", BETTER_WAITING),
        rejected("b1080", "1080p BluRay", BETTER_WAITING),
        rejected("c2160", "2160p WEB-DL", "probability 0.1 below threshold 0.35"),
        rejected("d1080", "1080p WEB-DL", BEING_FETCHED),
        failed,
    ]
    best = best_revivable(failed, candidates, SHIPPED)
    assert best is not None and best.original_title == "b1080"
    assert best_revivable(failed, [failed, candidates[2]], SHIPPED) is None


# --- the step on a real database -------------------------------------------------------------

JOB = "at_06_media_filtration"


def episode_rows(*qualities: str, tmdb_id: int = 1399, episode: int = 5) -> list[dict[str, Any]]:
    rows = []
    for n, quality in enumerate(qualities):
        resolution, source = quality.split(" ")
        rows.append(
            {
                "media_type": "tv_show", "pipeline_status": "metadata_collected",
                "media_title": "Show", "season": 1, "episode": episode, "tmdb_id": tmdb_id,
                "resolution": resolution, "upload_type": source,
                "original_title": f"Show.S01E{episode:02d}.{resolution}.{source}.{n}-GRP",
            }
        )  # fmt: skip
    return rows


def statuses(connection: psycopg2.extensions.connection) -> dict[str, tuple[str, str | None]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT original_title, pipeline_status::text, rejection_reason FROM atp.media"
        )
        found = {title: (status, reason) for title, status, reason in cursor.fetchall()}
    connection.commit()
    return found


def test_the_step_takes_one_release_per_item_across_batches(
    postgres: PostgresResource, atp_connection: psycopg2.extensions.connection
) -> None:
    """Batch size 1: the three releases of an episode arrive in three batches; another
    episode's releases are untouched by them."""
    insert_media(atp_connection, episode_rows("720p WEB", "1080p WEB", "1080p HDTV"))
    insert_media(atp_connection, episode_rows("720p HDTV", episode=6))
    result = run_step(JOB, postgres, batch_size=1)
    assert result.success
    found = statuses(atp_connection)
    accepted = [t for t, (status, _) in found.items() if status == "media_accepted"]
    assert sorted(accepted) == ["Show.S01E05.1080p.WEB.1-GRP", "Show.S01E06.720p.HDTV.0-GRP"]
    for loser in ("Show.S01E05.720p.WEB.0-GRP", "Show.S01E05.1080p.HDTV.2-GRP"):
        assert found[loser][0] == "rejected"
        # waiting in a later batch, or already accepted in an earlier one (rows of equal age
        # are read in hash order)
        assert any(
            (found[loser][1] or "").startswith(f"Show S01E05: {phrase} (1080p WEB-DL (")
            for phrase in (BETTER_WAITING, BEING_FETCHED)
        )
    assert step_counts(result)["rejected"] == 2
    assert step_metadata(result)["not the release to take"] == 2
    # a later run: a better release arrives while the first is being fetched
    insert_media(atp_connection, episode_rows("2160p WEB"))
    assert run_step(JOB, postgres).success
    reason = statuses(atp_connection)["Show.S01E05.2160p.WEB.0-GRP"][1]
    assert reason is not None and reason.startswith(f"Show S01E05: {BEING_FETCHED} (1080p WEB-DL")


def test_related_releases_is_one_query_per_batch(
    store: MediaStore, db_connection: CountingConnection
) -> None:
    for episode in range(1, 40):
        insert_media(db_connection, episode_rows("720p WEB", "1080p WEB", episode=episode))
    batch = store.select(PipelineStatus.METADATA_COLLECTED, limit=20)
    with db_connection.counting() as trips:
        related = store.related_releases(batch)
    assert trips.value == 3  # BEGIN, the SELECT, COMMIT: whatever the number of items
    assert {r.item_span for r in related} == {r.item_span for r in batch}
    assert len(related) == 2 * len({r.item_span for r in batch})


def test_an_overlapping_run_that_commits_first_leaves_ours_moved_on_not_failed(
    postgres: PostgresResource, atp_connection: psycopg2.extensions.connection
) -> None:
    """Two step-06 runs decide different releases of one item at once. Run 1 writes its
    acceptance and has not committed when run 2 writes its own: the database makes run 2 wait,
    then refuses it (media_one_fetch_per_item); run 2's store writes again, sees run 1's
    release being fetched and leaves its own row alone. One download."""
    first, second = insert_media(atp_connection, episode_rows("720p WEB", "1080p WEB"))
    with postgres.connect() as run1, postgres.connect() as run2:
        store2 = MediaStore(run2)
        rows2 = {r.hash: r for r in store2.select(PipelineStatus.METADATA_COLLECTED)}
        with run1.cursor() as cursor:  # run 1's write, inside its open transaction
            cursor.execute(
                "UPDATE atp.media SET pipeline_status = 'media_accepted' WHERE hash = %s", (first,)
            )
        applied: list[Any] = []
        run2_write = threading.Thread(
            target=lambda: applied.append(
                store2.apply([Outcome.advance(rows2[second], PipelineStatus.MEDIA_ACCEPTED)])
            )
        )
        run2_write.start()
        run2_write.join(timeout=1.0)
        assert run2_write.is_alive(), "run 2 should wait for run 1's transaction"
        run1.commit()
        run2_write.join(timeout=10)
        assert not run2_write.is_alive()
        assert applied and applied[0].skipped == [second] and applied[0].applied == []
    found = statuses(atp_connection)
    assert sorted(status for status, _ in found.values()) == [
        "media_accepted",
        "metadata_collected",
    ]


def test_two_step_runs_at_once_yield_one_download_per_item(
    postgres: PostgresResource, atp_connection: psycopg2.extensions.connection
) -> None:
    """Two whole step-06 runs in parallel over 40 episodes with three releases each."""
    for episode in range(1, 41):
        insert_media(
            atp_connection, episode_rows("720p WEB", "1080p HDTV", "1080p WEB", episode=episode)
        )
    results: list[Any] = []
    runs = [
        threading.Thread(target=lambda: results.append(run_step(JOB, postgres, batch_size=7)))
        for _ in range(2)
    ]
    for run in runs:
        run.start()
    for run in runs:
        run.join(timeout=300)
    assert len(results) == 2 and all(r.success for r in results)
    with atp_connection.cursor() as cursor:
        cursor.execute(
            "SELECT episode, count(*) FILTER (WHERE pipeline_status = 'media_accepted'),"
            " count(*) FILTER (WHERE pipeline_status = 'media_accepted'"
            " AND upload_type = 'WEB' AND resolution = '1080p')"
            " FROM atp.media GROUP BY episode"
        )
        per_episode = cursor.fetchall()
    atp_connection.commit()
    assert len(per_episode) == 40
    assert all(accepted == 1 for _, accepted, _ in per_episode)
    assert all(best == 1 for _, _, best in per_episode)


@pytest.mark.parametrize(
    ("name", "media_type", "expected"),
    [
        ("Show.S01E01-E03.1080p.WEB-GRP", MediaType.TV_EPISODE_PACK, (1, None, 1, 3, 1)),
        ("Show.S01-S03.1080p.WEB-GRP", MediaType.TV_SEASON, (1, 3, None, None, 1)),
        ("Show.S02E05.REPACK.720p.HDTV-GRP", MediaType.TV_SHOW, (2, None, 5, None, 2)),
        ("Film.2020.PROPER.1080p.BluRay-GRP", MediaType.MOVIE, (None, None, None, None, 2)),
    ],
)
def test_parsing_stores_what_identifies_and_ranks_the_item(
    name: str, media_type: MediaType, expected: tuple[Any, ...]
) -> None:
    """Step 03 stores the pack's last season/episode and the revision, which item_span and the
    ranking read."""
    from automatic_transmission.parsing import parse_release
    from automatic_transmission.pipeline.steps.parse import parsed_fields

    fields = parsed_fields(parse_release(name), media_type)
    keys = ("season", "last_season", "episode", "last_episode", "revision")
    assert tuple(fields[k] for k in keys) == expected
