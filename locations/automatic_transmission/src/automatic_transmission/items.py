"""Items, not releases: which release of a movie or episode step 06 takes (pure, no I/O).

An item is what `atp.media.item_span` says (a movie; an episode; the episodes a pack covers):
two releases compete when their spans overlap. A release is taken only when

- its quality is on the ladder of its kind (`quality.yaml`);
- it improves on every release of its item the library holds: a better quality below the cutoff
  with upgrades on, or a PROPER/REPACK (higher revision) of the same quality from the same group;
- no release of its item is being fetched (the database refuses a second one anyway);
- it is the best of the competing releases waiting: best quality, then highest revision, then
  more seeders (when the feed says), then the first seen. A pack that overlaps a better single
  episode loses to it (the choice is greedy, best first, so it is the same in every batch).

Small named specifications, each giving the reason a release is not taken; the reasons name the
item and the better release (`The Matrix (1999): already have 1080p BluRay (3f2a9c01…)`).
Releases passed over only because another was chosen are *revivable*: when the chosen one fails
(hung, corrupt, fake) the best of them is taken instead (`revivable`, `best_revivable`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from automatic_transmission.model import (
    FETCHING_STATUSES,
    HELD_STATUSES,
    MediaRow,
    MediaType,
    PipelineStatus,
)
from automatic_transmission.quality import Ladder, QualityProfile, quality_of

BETTER_WAITING = "a better release of this item is waiting"
BEING_FETCHED = "a release of this item is being fetched"
# Reasons that say only "another release was chosen": such a release may be taken later.
REVIVABLE_REASONS = (BETTER_WAITING, BEING_FETCHED)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def overlaps(a: tuple[int, int] | None, b: tuple[int, int] | None) -> bool:
    """Half-open spans share an episode (the database's `&&`)."""
    return a is not None and b is not None and a[0] < b[1] and b[0] < a[1]


def item_label(row: MediaRow) -> str:
    """The item as a person names it: `Title (Year)`, `Show S01E05`, `Show S01E01-E03`, `Show S01`."""
    title = row.media_title or row.original_title
    if not row.media_type.is_tv:
        return f"{title} ({row.release_year})" if row.release_year else title
    if row.season is None:
        return title
    seasons = f"S{row.season:02d}"
    if row.last_season is not None and row.last_season > row.season:
        return f"{title} {seasons}-S{row.last_season:02d}"
    if row.media_type is MediaType.TV_SEASON or row.episode is None:
        return f"{title} {seasons}"
    episodes = f"E{row.episode:02d}"
    if row.last_episode is not None and row.last_episode > row.episode:
        episodes += f"-E{row.last_episode:02d}"
    return f"{title} {seasons}{episodes}"


@dataclass(frozen=True)
class Release:
    """A release as ranked on its kind's ladder."""

    row: MediaRow
    quality: str | None
    rank: int | None  # 0 = best; None = not on the ladder

    @classmethod
    def of(cls, row: MediaRow, profile: QualityProfile) -> Release:
        quality = quality_of(row.resolution, row.upload_type)
        return cls(row, quality, profile.ladder(row.media_type).rank(quality))

    @property
    def shown(self) -> str:
        """`1080p BluRay (3f2a9c01…)`: the release in a reason."""
        return f"{self.quality or 'unknown quality'} ({self.row.hash[:8]}…)"

    def sort_key(self) -> tuple[int, int, int, int, dt.datetime, str]:
        """Best first: forced by the user, quality, revision, seeders (known beat unknown),
        first seen, hash (so two runs always agree)."""
        row = self.row
        seeders = row.seeders if row.seeders is not None else -1
        rank = self.rank if self.rank is not None else 1 << 30
        return (
            0 if row.is_override else 1,
            rank,
            -row.revision,
            -seeders,
            row.created_at or _EPOCH,
            row.hash,
        )

    def fixes(self, held: Release) -> bool:
        """A PROPER/REPACK of the held release: same quality, same group, higher revision."""
        return (
            self.quality == held.quality
            and (self.row.uploader or "").casefold() == (held.row.uploader or "").casefold()
            and self.row.revision > held.row.revision
        )


# --- specifications: each returns why the release is not taken, or None ---------------------


def not_on_ladder(release: Release, ladder: Ladder, kind: str) -> str | None:
    if release.rank is not None:
        return None
    if release.quality is None:
        return (
            f"quality unknown (resolution {release.row.resolution or '?'}, source "
            f"{release.row.upload_type or '?'}) is not on the {kind} ladder"
        )
    return f"quality {release.quality} is not on the {kind} ladder"


def not_an_upgrade(release: Release, held: Release, ladder: Ladder) -> str | None:
    """Why `release` would not improve on `held` (None: it would)."""
    if release.fixes(held):
        return None
    have = f"already have {held.shown}"
    if held.rank is not None:
        if not ladder.upgrades:
            return f"{have}; upgrades are off"
        if held.rank <= ladder.cutoff_rank:
            return f"{have}, at or above the cutoff {ladder.cutoff}"
        if release.rank is None or release.rank >= held.rank:
            return have
    elif not ladder.upgrades:
        return f"{have}; upgrades are off"
    return None


def first_failure(release: Release, held: Sequence[Release], profile: QualityProfile) -> str | None:
    """The first specification the release fails before competing with the waiting ones."""
    if release.row.is_override:
        return None  # the user forced it: no ladder, no comparison with what is held
    kind = "tv" if release.row.media_type.is_tv else "movie"
    ladder = profile.ladder(release.row.media_type)
    reason = not_on_ladder(release, ladder, kind)
    if reason:
        return reason
    for other in sorted(held, key=Release.sort_key):
        if overlaps(other.row.item_span, release.row.item_span):
            reason = not_an_upgrade(release, other, ladder)
            if reason:
                return reason
    return None


# --- the decision over one batch -------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """Step 06's item verdict on one release: taken (`reason` None), waits (`waits`: forced by
    the user but its item is being fetched) or not taken, with the reason."""

    row: MediaRow
    reason: str | None = None
    waits: bool = False

    @property
    def taken(self) -> bool:
        return self.reason is None


def choose(
    batch: Sequence[MediaRow], related: Iterable[MediaRow], profile: QualityProfile
) -> dict[str, Choice]:
    """The item verdict of every batch row that has an item, by hash.

    `related`: every live release whose item overlaps one of the batch (held, being fetched,
    waiting in `metadata_collected`), as `ItemStore.related` reads them in one query; batch rows
    may be among them. Rows without an item are not in the answer (judged as before items).
    """
    with_item = [r for r in batch if r.item_span is not None]
    pool: dict[str, MediaRow] = {r.hash: r for r in related if r.item_span is not None}
    pool.update((r.hash, r) for r in with_item)
    releases = {h: Release.of(r, profile) for h, r in pool.items()}
    held = [x for x in releases.values() if x.row.pipeline_status in HELD_STATUSES]
    fetching = [x for x in releases.values() if x.row.pipeline_status in FETCHING_STATUSES]
    waiting = [
        x for x in releases.values() if x.row.pipeline_status is PipelineStatus.METADATA_COLLECTED
    ]
    failures = {x.row.hash: first_failure(x, held, profile) for x in waiting}
    chosen: list[Release] = []
    choices: dict[str, Choice] = {}
    in_batch = {r.hash for r in with_item}
    for candidate in sorted(waiting, key=Release.sort_key):
        label = item_label(candidate.row)
        span = candidate.row.item_span
        failure = failures[candidate.row.hash]
        busy = next((f for f in fetching if overlaps(f.row.item_span, span)), None)
        better = next((c for c in chosen if overlaps(c.row.item_span, span)), None)
        if failure is None and busy is None and better is None:
            chosen.append(candidate)
        if candidate.row.hash not in in_batch:
            continue
        row = candidate.row
        if failure is not None:
            choices[row.hash] = Choice(row, f"{label}: {failure}")
        elif busy is not None:
            choices[row.hash] = Choice(
                row, f"{label}: {BEING_FETCHED} ({busy.shown})", waits=row.is_override
            )
        elif better is not None:
            choices[row.hash] = Choice(row, f"{label}: {BETTER_WAITING} ({better.shown})")
        else:
            choices[row.hash] = Choice(row)
    return choices


def revivable(row: MediaRow) -> bool:
    """Rejected only because another release of its item was chosen."""
    reason = row.rejection_reason or ""
    return row.pipeline_status is PipelineStatus.REJECTED and any(
        f": {phrase} (" in reason for phrase in REVIVABLE_REASONS
    )


def best_revivable(
    failed: MediaRow, candidates: Iterable[MediaRow], profile: QualityProfile
) -> MediaRow | None:
    """The release to take when `failed` (hung, corrupt, fake) will not do: the best one of its
    item that was passed over only because another was chosen; never `failed` itself."""
    options = [
        Release.of(r, profile)
        for r in candidates
        if r.hash != failed.hash and revivable(r) and overlaps(r.item_span, failed.item_span)
    ]
    options = [o for o in options if o.rank is not None]
    return min(options, key=Release.sort_key).row if options else None
