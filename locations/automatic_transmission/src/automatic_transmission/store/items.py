"""An item wanted again: when the release taken for an item fails (hung, corrupt, fake), the
best release of it that was passed over only because that one was chosen is taken instead.

Callable from any step that gives a release up (step 10 for a hung download today; steps 07-09
for a fake or corrupt one): one query for the passed-over releases of all failed items, one
conditional write. The failed release itself is never taken again (it is not revivable: its
reason says why it failed, and step 01 never adds a known hash again).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from automatic_transmission.items import best_revivable
from automatic_transmission.model import (
    MediaRow,
    Outcome,
    PipelineStatus,
    RejectionStatus,
    Verdict,
)
from automatic_transmission.quality import QualityProfile, load_quality
from automatic_transmission.store.media import MediaStore


def make_item_wanted_again(
    store: MediaStore, failed: Sequence[MediaRow], profile: QualityProfile
) -> list[MediaRow]:
    """Revive the next best release of each failed release's item (rejected -> media_accepted);
    returns the revived rows. A release of the item being fetched meanwhile wins (the store's
    guard leaves the revival alone)."""
    with_item = [row for row in failed if row.item_span is not None]
    if not with_item:
        return []
    candidates = store.related_releases(with_item, (PipelineStatus.REJECTED,))
    chosen: dict[str, MediaRow] = {}
    for row in with_item:
        best = best_revivable(row, candidates, profile)
        if best is not None:
            chosen.setdefault(best.hash, best)
    outcomes = [
        Outcome.advance(
            row, PipelineStatus.MEDIA_ACCEPTED, rejection_status=RejectionStatus.ACCEPTED
        )
        for row in chosen.values()
    ]
    applied = set(store.apply(outcomes).applied)
    return [row for row in chosen.values() if row.hash in applied]


REVIVED = "next best releases taken"  # the figure of every step that gives releases up


def given_up(outcome: Outcome) -> bool:
    """A release this step gave up for good: rejected or frozen (fake, corrupt, in error)."""
    return outcome.verdict in (Verdict.REJECTED, Verdict.ERRORED)


def revive_for(
    store: MediaStore,
    rows: dict[str, MediaRow],
    outcomes: Sequence[Outcome],
    failed: Callable[[Outcome], bool] = given_up,
) -> int:
    """After a step's batches: the items of the releases it gave up (`failed`) are wanted again.
    Returns how many next best releases were taken (the step's REVIVED figure)."""
    gone = [rows[o.hash] for o in outcomes if failed(o) and o.hash in rows]
    return len(make_item_wanted_again(store, gone, load_quality())) if gone else 0
