"""Step 07 initiation: accepted items are added to Transmission, checked, then started.

select: `media_accepted` rows, AT_BATCH_SIZE at a time · act: one `torrent-add` per row, paused
when it is a `.torrent` link (one Transmission already has counts as added, and is left as it
is), then ONE `torrent-get` of the batch's file lists, ONE of what the other torrents still need
and ONE `free-space` · decide (pure): a fake release (safety.yaml) -> `rejected`, its torrent and
data removed before a byte was downloaded; no file list yet (a magnet waiting for its metadata)
or not enough free space -> retried next run, the torrent stays paused, the row stays
`media_accepted`; else `downloading` · act: ONE `torrent-remove` of the fakes, ONE `torrent-stop`
of the waiting, ONE `torrent-start` of the rest · record · report.

A magnet is added running, not paused: a stopped torrent talks to no peer, so its metadata (the
file list) would never arrive. The first run that sees its file list stops it and judges it like
any other; until then it cannot download data it has no list of, so only the bytes between its
metadata's arrival and that run can be spent on a fake.
"""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import dagster as dg

from automatic_transmission.clients.transmission import (
    ACTIVE_FIELDS,
    INITIATION_FIELDS,
    STOPPED,
    Torrent,
    TorrentRefused,
    TransmissionClient,
    TransmissionResource,
    TransmissionUnavailable,
)
from automatic_transmission.model import MediaRow, Outcome, PipelineStatus, Verdict
from automatic_transmission.pipeline.op import step_op
from automatic_transmission.pipeline.report import report_step
from automatic_transmission.pipeline.runner import StepResult, StopStep, open_store, run_batches
from automatic_transmission.pipeline.step_table import consumed_by
from automatic_transmission.safety import (
    WAITING_FOR_SPACE,
    SafetyRules,
    SafetySettings,
    SpaceBudget,
    fake_release,
)
from automatic_transmission.seeding import (
    LABELS_RPC_VERSION,
    SeedingRules,
    SeedingSettings,
    SeedLimits,
    seed_limits,
)
from automatic_transmission.settings import PipelineSettings
from automatic_transmission.store.items import REVIVED, revive_for
from automatic_transmission.torrents import MAGNET_SCHEME, build_magnet
from dagstributor_shared.postgres import PostgresResource

LINK_SCHEMES = (MAGNET_SCHEME, "http://", "https://")
# Answers of a daemon that will never accept this torrent (others, e.g. a .torrent URL that
# fails to download, may heal).
LASTING_REFUSALS = ("invalid or corrupt torrent file",)


def torrent_link(row: MediaRow) -> str:
    """What to hand Transmission: the stored magnet or `.torrent` URL (trackers, file list), else
    a magnet of the hash."""
    link = (row.original_link or "").strip()
    if link.lower().startswith(LINK_SCHEMES):
        return link
    return build_magnet(row.hash, row.original_title)


def is_magnet(link: str) -> bool:
    return link.lower().startswith("magnet:")


def judge_add(row: MediaRow, added: str | TorrentRefused) -> Outcome | None:
    """What adding `row`'s torrent settles: a refusal or a different torrent is an outcome; None
    means it was added (under its own hash) and its file list is judged next."""
    if isinstance(added, TorrentRefused):
        if any(text in str(added).lower() for text in LASTING_REFUSALS):
            return Outcome.freeze(row, f"Transmission refused the torrent: {added}")
        return Outcome.retry(row, f"Transmission refused the torrent: {added}")
    if added and added != row.hash:
        return Outcome.freeze(row, f"the link holds torrent {added}, not {row.hash}")
    return None


WAITING_FOR_METADATA = "waiting for the torrent's metadata (its file list)"


def judge_files(row: MediaRow, torrent: Torrent | None, rules: SafetyRules) -> Outcome | None:
    """A fake release -> rejected; no file list yet -> retried; None: the files may be
    downloaded. An operator's override skips the fake check (they chose this torrent)."""
    if torrent is None or not torrent.metadata_complete or not torrent.files:
        return Outcome.retry(row, WAITING_FOR_METADATA)
    if row.is_override:
        return None
    reason = fake_release(torrent.files, row.media_type, row.resolution, rules)
    # Item wanted again (issue 16): a fake rejected here leaves its item without a release; the
    # items step (06) picks the next best one of the same item on its next run.
    return Outcome.reject(row, reason) if reason else None


def decide_start(
    rows: Sequence[MediaRow],
    added: Mapping[str, str | TorrentRefused],
    torrents: Mapping[str, Torrent],
    rules: SafetyRules,
    budget: SpaceBudget,
) -> list[Outcome]:
    """One outcome per row: what the add settled, else the file check, else the free space the
    download still needs (taken from `budget` in row order) -> `downloading` or retried."""
    outcomes = []
    for row in rows:
        outcome = judge_add(row, added[row.hash])
        if outcome is None:
            outcome = judge_files(row, torrents.get(row.hash), rules)
        if outcome is None:
            shortfall = budget.take(torrents[row.hash].left_until_done)
            outcome = (
                Outcome.retry(row, shortfall)
                if shortfall
                else Outcome.advance(row, PipelineStatus.DOWNLOADING)
            )
        outcomes.append(outcome)
    return outcomes


@dataclass(frozen=True)
class Actions:
    """What Transmission is told after the decisions: remove the fakes (with their data), stop
    the waiting (a magnet that got its metadata), start the downloads."""

    remove: list[str]
    stop: list[str]
    start: list[str]


def actions(outcomes: Sequence[Outcome], torrents: Mapping[str, Torrent]) -> Actions:
    remove, stop, start = [], [], []
    for outcome in outcomes:
        torrent = torrents.get(outcome.hash)
        if torrent is None:
            continue
        if outcome.verdict is Verdict.REJECTED:
            remove.append(outcome.hash)
        elif outcome.verdict is Verdict.ADVANCED:
            start.append(outcome.hash)
        elif torrent.status != STOPPED and torrent.metadata_complete and torrent.files:
            stop.append(outcome.hash)
    return Actions(remove, stop, start)


def seeding_groups(
    outcomes: Sequence[Outcome], rows: Mapping[str, MediaRow], rules: SeedingRules
) -> dict[SeedLimits, list[str]]:
    """The torrents to start, grouped by the seeding limits and label each gets (one
    `torrent-set` per group, not per torrent)."""
    groups: dict[SeedLimits, list[str]] = {}
    for outcome in outcomes:
        if outcome.verdict is Verdict.ADVANCED:
            groups.setdefault(seed_limits(rows[outcome.hash], rules), []).append(outcome.hash)
    return groups


def needed_by_others(torrents: Sequence[Torrent], batch: Collection[str]) -> int:
    """What the running torrents outside this batch still have to download."""
    return sum(t.left_until_done for t in torrents if t.status != STOPPED and t.hash not in batch)


def add_paused(client: TransmissionClient, rows: list[MediaRow]) -> dict[str, str | TorrentRefused]:
    """One `torrent-add` per row (a `.torrent` paused, a magnet running: see the module's
    docstring); when Transmission goes away midway the run stops, nothing recorded (the
    torrents added so far are found again next run, as Transmission already has them)."""
    added: dict[str, str | TorrentRefused] = {}
    for row in rows:
        link = torrent_link(row)
        try:
            added[row.hash] = client.add(link, paused=not is_magnet(link))
        except TorrentRefused as refused:
            added[row.hash] = refused
        except TransmissionUnavailable as error:
            raise StopStep(error) from None
    return added


def initiate(
    client: TransmissionClient,
    rows: list[MediaRow],
    rules: SafetyRules,
    reserve: int,
    seeding: SeedingRules,
    labels: bool,
    result: StepResult,
) -> list[Outcome]:
    """Add, read the file lists and the free space, decide, then tell Transmission (seeding
    limits and, when the daemon has them (`labels`), labels before the start)."""
    added = add_paused(client, rows)
    present = [h for h, answer in added.items() if isinstance(answer, str)]
    try:
        torrents = {t.hash: t for t in client.torrents(INITIATION_FIELDS, present)}
        others = needed_by_others(client.torrents(ACTIVE_FIELDS), present)
        budget = SpaceBudget(client.free_space(), others, reserve)
        outcomes = decide_start(rows, added, torrents, rules, budget)
        todo = actions(outcomes, torrents)
        client.remove(todo.remove)
        client.stop(todo.stop)
        for limits, hashes in seeding_groups(outcomes, {r.hash: r for r in rows}, seeding).items():
            client.set_seeding(
                hashes,
                ratio_mode=limits.ratio_mode,
                ratio=limits.ratio,
                idle_mode=limits.idle_mode,
                idle_minutes=limits.idle_minutes,
                label=limits.label if labels else None,
            )
        client.start(todo.start)
    except TransmissionUnavailable as error:
        raise StopStep(error) from None
    result.count("fake releases removed", len(todo.remove))
    result.count("torrents started", len(todo.start))
    waiting = [o for o in outcomes if o.reason == WAITING_FOR_METADATA]
    result.count("waiting for metadata", len(waiting))
    short = [o for o in outcomes if (o.reason or "").startswith(WAITING_FOR_SPACE)]
    result.count("waiting for free space", len(short))
    # A magnet waiting for its metadata is no failure (a full disk is: its retry turns the run
    # red when nothing else moved), so it is only counted, not reported as a retry.
    return [o for o in outcomes if o.reason != WAITING_FOR_METADATA]


def run_initiation(
    context: dg.OpExecutionContext,
    postgres: PostgresResource,
    pipeline_settings: PipelineSettings,
    transmission: TransmissionResource,
    safety_settings: SafetySettings,
    seeding_settings: SeedingSettings,
) -> None:
    client = transmission.client()
    rules = safety_settings.rules()
    reserve = safety_settings.reserve_bytes()
    seeding = seeding_settings.rules()
    labels = client.rpc_version() >= LABELS_RPC_VERSION
    if not labels:
        context.log.warning("this Transmission has no labels (RPC < 16): torrents get none")
    result = StepResult()
    for figure in ("fake releases removed", "torrents started", "waiting for metadata",
                   "waiting for free space", REVIVED):  # fmt: skip
        result.count(figure, 0)
    with open_store(postgres) as store:
        run_batches(
            store,
            consumed_by("initiation"),
            pipeline_settings.rows_per_batch(),
            lambda rows, result: initiate(client, rows, rules, reserve, seeding, labels, result),
            result,
            claim=True,  # two pipelines at once never add a torrent twice
        )
        # A fake or corrupt release's item is wanted again: the next best release seen earlier
        # (rejected only because this one was chosen) goes back to media_accepted; the failed
        # hash stays rejected or frozen, so it is never added again.
        result.count(REVIVED, revive_for(store, result.rows, result.outcomes))
    report_step(context, result)


initiation_op = step_op(
    "initiation", description="Step 07: accepted items go to Transmission, checked, then started."
)(run_initiation)
