"""Step 10 cleanup: torrents that are done, or hung, leave Transmission with their data.

fetch: ONE `torrent-get` (dates, bytes left) of every torrent; their number scales both delays
by AT_TARGET_ACTIVE_ITEMS / torrents (a crowded client is cleaned sooner) · select: `transferred`
rows, then `downloading` rows, AT_BATCH_SIZE at a time · decide: transferred longer than the
transferred delay -> `complete`; a download whose last received byte (Transmission's
activityDate, its add date if none) is older than the hung delay -> rejected `exceeded time
limit` (the row stays, so its hash is known and the feed never re-adds it); a download that
still moves is not hung · act: ONE `torrent-remove` (with data) per batch, only of torrents that
have a row here · record · then the torrents that will never be transferred: a rejected row's at
once, a frozen row's once it has been frozen AT_FROZEN_ITEM_CLEANUP_DELAY days (default 3, so an
operator can still look; 0 = now) leave Transmission with their data (ONE read of their rows,
ONE `torrent-remove`); the rows stay, so their hashes are known and never added again · report.
"""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import dagster as dg

from automatic_transmission.clients.transmission import (
    CLEANUP_FIELDS,
    STOPPED,
    Torrent,
    TransmissionClient,
    TransmissionResource,
)
from automatic_transmission.model import HUNG_REASON, MediaRow, Outcome, PipelineStatus
from automatic_transmission.pipeline.op import step_op
from automatic_transmission.pipeline.report import report_step
from automatic_transmission.pipeline.runner import StepResult, open_store, run_batches
from automatic_transmission.pipeline.step_table import consumed_by
from automatic_transmission.quality import load_quality
from automatic_transmission.seeding import SeedingRules, SeedingSettings, seeding_done
from automatic_transmission.settings import PipelineSettings, number_setting
from automatic_transmission.store.items import REVIVED, make_item_wanted_again
from automatic_transmission.store.media import MediaStore
from dagstributor_shared.postgres import PostgresResource


@dataclass(frozen=True)
class CleanupDelays:
    target_active_items: int
    transferred_days: float
    hung_days: float
    frozen_days: float = 3.0

    def __post_init__(self) -> None:
        days = (self.transferred_days, self.hung_days, self.frozen_days)
        if min(days) < 0 or self.target_active_items < 1:
            raise ValueError(f"cleanup delays must not be negative: {self}")

    def scaled(self, torrents: int) -> tuple[dt.timedelta, dt.timedelta]:
        """(transferred, hung) delays for a client holding `torrents` torrents."""
        factor = self.target_active_items / torrents if torrents > 0 else 1.0
        return (
            dt.timedelta(days=self.transferred_days * factor),
            dt.timedelta(days=self.hung_days * factor),
        )


TARGET_ACTIVE_ITEMS_VAR = "AT_TARGET_ACTIVE_ITEMS"
TRANSFERRED_DELAY_VAR = "AT_TRANSFERRED_ITEM_CLEANUP_DELAY"  # days
HUNG_DELAY_VAR = "AT_HUNG_ITEM_CLEANUP_DELAY"  # days
FROZEN_DELAY_VAR = "AT_FROZEN_ITEM_CLEANUP_DELAY"  # days
DEFAULT_TARGET_ACTIVE_ITEMS = 10
DEFAULT_TRANSFERRED_DELAY_DAYS = 0.0
DEFAULT_HUNG_DELAY_DAYS = 1.0
DEFAULT_FROZEN_DELAY_DAYS = 3.0


class CleanupSettings(dg.ConfigurableResource):
    """Step 10: AT_TRANSFERRED_ITEM_CLEANUP_DELAY (days, 0), AT_HUNG_ITEM_CLEANUP_DELAY (days, 1),
    both scaled by AT_TARGET_ACTIVE_ITEMS (10) / the torrents in Transmission;
    AT_FROZEN_ITEM_CLEANUP_DELAY (days, 3; not scaled: it is an operator's time to look).
    Negative = error."""

    target_active_items: int | None = None
    transferred_delay_days: float | None = None
    hung_delay_days: float | None = None
    frozen_delay_days: float | None = None

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self.delays()

    def delays(self) -> CleanupDelays:
        return CleanupDelays(
            target_active_items=int(
                number_setting(
                    self.target_active_items,
                    TARGET_ACTIVE_ITEMS_VAR,
                    DEFAULT_TARGET_ACTIVE_ITEMS,
                    1,
                    whole=True,
                )
            ),
            transferred_days=number_setting(
                self.transferred_delay_days,
                TRANSFERRED_DELAY_VAR,
                DEFAULT_TRANSFERRED_DELAY_DAYS,
                0,
            ),
            hung_days=number_setting(
                self.hung_delay_days, HUNG_DELAY_VAR, DEFAULT_HUNG_DELAY_DAYS, 0
            ),
            frozen_days=number_setting(
                self.frozen_delay_days, FROZEN_DELAY_VAR, DEFAULT_FROZEN_DELAY_DAYS, 0
            ),
        )


def done_with(
    row: MediaRow,
    torrent: Torrent | None,
    now: dt.datetime,
    delay: dt.timedelta,
    rules: SeedingRules,
) -> Outcome | None:
    """A `transferred` row whose seeding is done (seeding.yaml: past the delay, counted from its
    last update, or its ratio / seeding time reached; never before a tracker's minimum) ->
    `complete`. Without a torrent only the delay counts."""
    delay_passed = row.updated_at is not None and now - row.updated_at >= delay
    done = delay_passed
    if torrent is not None:
        stopped = torrent.status == STOPPED
        ratio, seeding = torrent.upload_ratio, torrent.seconds_seeding
        done = seeding_done(row, rules, ratio, seeding, stopped, delay_passed)
    return Outcome.advance(row, PipelineStatus.COMPLETE) if done else None


def hung(
    row: MediaRow, torrent: Torrent | None, now: dt.datetime, delay: dt.timedelta
) -> Outcome | None:
    """A `downloading` row whose torrent received nothing for longer than the delay -> rejected.
    No torrent (step 08 re-ingests it) or a finished one (step 08 moves it on): not hung."""
    if torrent is None or torrent.left_until_done == 0:
        return None
    last = torrent.last_activity
    if last is not None and now - last >= delay:
        return Outcome.reject(row, HUNG_REASON)
    return None


def decide_cleanup(
    rows: list[MediaRow],
    torrents: Mapping[str, Torrent],
    now: dt.datetime,
    delays: tuple[dt.timedelta, dt.timedelta],
    rules: SeedingRules,
) -> list[Outcome]:
    transferred_delay, hung_delay = delays
    outcomes = []
    for row in rows:
        if row.pipeline_status is PipelineStatus.TRANSFERRED:
            outcome = done_with(row, torrents.get(row.hash), now, transferred_delay, rules)
        else:
            outcome = hung(row, torrents.get(row.hash), now, hung_delay)
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes


def never_transferred(row: MediaRow, now: dt.datetime, frozen_delay: dt.timedelta) -> bool:
    """A row whose torrent only takes space: rejected, or frozen for longer than the delay."""
    if row.pipeline_status is PipelineStatus.REJECTED:
        return True
    return row.error_status and (row.updated_at is None or now - row.updated_at >= frozen_delay)


def clean_leftovers(
    client: TransmissionClient,
    store: MediaStore,
    torrents: Mapping[str, Torrent],
    now: dt.datetime,
    frozen_delay: dt.timedelta,
    result: StepResult,
) -> None:
    """Remove the torrents (and data) of rows that will never be transferred; the rows stay."""
    rows = store.rows_by_hash(list(torrents)).values()
    removed = sorted(r.hash for r in rows if never_transferred(r, now, frozen_delay))
    client.remove(removed)
    result.count("torrents of rejected or frozen items removed", len(removed))


def clean(
    client: TransmissionClient,
    rows: list[MediaRow],
    torrents: Mapping[str, Torrent],
    now: dt.datetime,
    delays: tuple[dt.timedelta, dt.timedelta],
    rules: SeedingRules,
    result: StepResult,
) -> list[Outcome]:
    outcomes = decide_cleanup(rows, torrents, now, delays, rules)
    removed = [o.hash for o in outcomes if o.hash in torrents]
    client.remove(removed)
    result.count("torrents removed", len(removed))
    return outcomes


def run_cleanup(
    context: dg.OpExecutionContext,
    postgres: PostgresResource,
    pipeline_settings: PipelineSettings,
    cleanup_settings: CleanupSettings,
    transmission: TransmissionResource,
    seeding_settings: SeedingSettings,
) -> None:
    client = transmission.client()
    rules = seeding_settings.rules()
    torrents = {t.hash: t for t in client.torrents(CLEANUP_FIELDS)}
    settings = cleanup_settings.delays()
    delays = settings.scaled(len(torrents))
    now = dt.datetime.now(dt.UTC)
    result = StepResult()
    result.count("torrents removed", 0)
    result.count(REVIVED, 0)
    result.count("torrents of rejected or frozen items removed", 0)
    with open_store(postgres) as store:
        for status in (consumed_by("cleanup"), PipelineStatus.DOWNLOADING):  # + hung downloads
            run_batches(
                store,
                status,
                pipeline_settings.rows_per_batch(),
                lambda rows, result: clean(client, rows, torrents, now, delays, rules, result),
                result,
            )
        # A hung download's item is wanted again: the next best release seen is taken instead.
        hung_rows = [result.rows[o.hash] for o in result.outcomes if o.reason == HUNG_REASON]
        revived = make_item_wanted_again(store, hung_rows, load_quality())
        result.count(REVIVED, len(revived))
        removed = {o.hash for o in result.outcomes}
        left = {h: t for h, t in torrents.items() if h not in removed}
        frozen_delay = dt.timedelta(days=settings.frozen_days)
        clean_leftovers(client, store, left, now, frozen_delay, result)
    report_step(
        context,
        result,
        {
            "torrents in Transmission": dg.MetadataValue.int(len(torrents)),
            "transferred delay (h)": dg.MetadataValue.float(delays[0].total_seconds() / 3600),
            "hung delay (h)": dg.MetadataValue.float(delays[1].total_seconds() / 3600),
        },
    )


cleanup_op = step_op(
    "cleanup", description="Step 10: done and hung torrents leave Transmission with their data."
)(run_cleanup)
