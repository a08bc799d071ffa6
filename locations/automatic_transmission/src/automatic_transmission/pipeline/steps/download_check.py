"""Step 08 download_check: finished downloads are recognised, vanished ones re-ingested.

fetch: ONE `torrent-get` (name, status, bytes left, metadata) for every torrent · select:
`downloading` rows, AT_BATCH_SIZE at a time · decide: a torrent in a local error (Transmission's
`error` 3, e.g. "File name too long": it reports itself stopped with nothing left, yet the data is
not there) is frozen with Transmission's text; a finished one with a tracker warning or error
(1, 2: transient) waits for the next run, saying why; complete -> `downloaded` with Transmission's
own name as `original_path`; gone from Transmission -> back to `ingested` (`override` kept);
otherwise it is still downloading and stays · record · report.
"""

from collections.abc import Mapping
from dataclasses import replace

import dagster as dg

from automatic_transmission.clients.transmission import (
    DONE_STATUSES,
    DOWNLOAD_CHECK_FIELDS,
    NO_ERROR,
    TRACKER_ERRORS,
    Torrent,
    TransmissionResource,
)
from automatic_transmission.model import MediaRow, Outcome, PipelineStatus
from automatic_transmission.pipeline.op import step_op
from automatic_transmission.pipeline.report import report_step
from automatic_transmission.pipeline.runner import StepResult, open_store, run_batches
from automatic_transmission.pipeline.step_table import consumed_by
from automatic_transmission.settings import PipelineSettings
from automatic_transmission.store.items import REVIVED, revive_for
from dagstributor_shared.postgres import PostgresResource

STILL_DOWNLOADING = "still downloading"


def is_complete(torrent: Torrent) -> bool:
    """Nothing left, the metadata known (a magnet without it reports 0 bytes left) and
    Transmission done with the data: transmission-daemon reports 100 % for a few seconds while
    the status is still `downloading` and the file still sits in the incomplete dir."""
    return (
        torrent.error == NO_ERROR
        and torrent.left_until_done == 0
        and torrent.metadata_complete
        and torrent.status in DONE_STATUSES
        and bool(torrent.name)
        and torrent.name.lower() != torrent.hash
    )


def check_download(row: MediaRow, torrent: Torrent | None) -> Outcome | None:
    """None: still downloading, nothing to write."""
    if torrent is None:
        return Outcome.advance(row, PipelineStatus.INGESTED)
    if torrent.error not in (NO_ERROR, *TRACKER_ERRORS):  # LOCAL_ERROR, or one Transmission adds
        return Outcome.freeze(row, f"Transmission: {torrent.error_string or 'local error'}")
    if torrent.error in TRACKER_ERRORS and is_complete(replace(torrent, error=NO_ERROR)):
        return Outcome.retry(row, f"Transmission tracker: {torrent.error_string or 'error'}")
    if is_complete(torrent):
        return Outcome.advance(row, PipelineStatus.DOWNLOADED, original_path=torrent.name)
    return None


def decide_download_check(
    rows: list[MediaRow], torrents: Mapping[str, Torrent], result: StepResult
) -> list[Outcome]:
    outcomes = []
    for row in rows:
        outcome = check_download(row, torrents.get(row.hash))
        if outcome is None:
            result.count(STILL_DOWNLOADING)
        else:
            outcomes.append(outcome)
    return outcomes


def run_download_check(
    context: dg.OpExecutionContext,
    postgres: PostgresResource,
    pipeline_settings: PipelineSettings,
    transmission: TransmissionResource,
) -> None:
    torrents = {t.hash: t for t in transmission.client().torrents(DOWNLOAD_CHECK_FIELDS)}
    result = StepResult()
    result.count(STILL_DOWNLOADING, 0)
    result.count(REVIVED, 0)
    with open_store(postgres) as store:
        run_batches(
            store,
            consumed_by("download_check"),
            pipeline_settings.rows_per_batch(),
            lambda rows, result: decide_download_check(rows, torrents, result),
            result,
        )
        # A download frozen in error (Transmission's local error): its item is wanted again.
        result.count(REVIVED, revive_for(store, result.rows, result.outcomes))
    report_step(context, result)


download_check_op = step_op(
    "download_check", description="Step 08: finished downloads recognised, vanished re-ingested."
)(run_download_check)
