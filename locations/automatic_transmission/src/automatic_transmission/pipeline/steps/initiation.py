"""Step 07 initiation: accepted items are added to Transmission.

select: `media_accepted` rows, AT_BATCH_SIZE at a time · decide: the stored magnet or `.torrent`
link, else a magnet built from the hash · act: one `torrent-add` per row (one Transmission
already has counts as added) · record: `downloading`; a torrent Transmission refuses is retried
next run, a corrupt one freezes its row · report.
"""

from urllib.parse import quote

import dagster as dg

from automatic_transmission.clients.transmission import (
    TorrentRefused,
    TransmissionClient,
    TransmissionResource,
    TransmissionUnavailable,
)
from automatic_transmission.model import MediaRow, Outcome, PipelineStatus
from automatic_transmission.pipeline.op import step_op
from automatic_transmission.pipeline.report import report_step
from automatic_transmission.pipeline.runner import StepResult, StopStep, open_store, run_batches
from automatic_transmission.settings import PipelineSettings
from dagstributor_shared.postgres import PostgresResource

LINK_SCHEMES = ("magnet:", "http://", "https://")
# Answers of a daemon that will never accept this torrent (others, e.g. a .torrent URL that
# fails to download, may heal).
LASTING_REFUSALS = ("invalid or corrupt torrent file",)


def torrent_link(row: MediaRow) -> str:
    """What to hand Transmission: the stored magnet or `.torrent` URL (trackers, file list), else
    a magnet of the hash."""
    link = (row.original_link or "").strip()
    if link.lower().startswith(LINK_SCHEMES):
        return link
    return f"magnet:?xt=urn:btih:{row.hash}&dn={quote(row.original_title)}"


def judge_add(row: MediaRow, added: str | TorrentRefused) -> Outcome:
    """The outcome of adding `row`'s torrent: its hash as Transmission reports it, or a refusal."""
    if isinstance(added, TorrentRefused):
        if any(text in str(added).lower() for text in LASTING_REFUSALS):
            return Outcome.freeze(row, f"Transmission refused the torrent: {added}")
        return Outcome.retry(row, f"Transmission refused the torrent: {added}")
    if added and added != row.hash:
        return Outcome.freeze(row, f"the link holds torrent {added}, not {row.hash}")
    return Outcome.advance(row, PipelineStatus.DOWNLOADING)


def add_torrents(client: TransmissionClient, rows: list[MediaRow]) -> list[Outcome]:
    """One `torrent-add` per row; when Transmission goes away midway, the rows added so far are
    still recorded and the run stops."""
    outcomes: list[Outcome] = []
    for row in rows:
        try:
            added: str | TorrentRefused = client.add(torrent_link(row))
        except TorrentRefused as refused:
            added = refused
        except TransmissionUnavailable as error:
            raise StopStep(error, outcomes) from None
        outcomes.append(judge_add(row, added))
    return outcomes


def run_initiation(
    context: dg.OpExecutionContext,
    postgres: PostgresResource,
    pipeline_settings: PipelineSettings,
    transmission: TransmissionResource,
) -> None:
    client = transmission.client()
    with open_store(postgres) as store:
        result: StepResult = run_batches(
            store,
            PipelineStatus.MEDIA_ACCEPTED,
            pipeline_settings.rows_per_batch(),
            lambda rows, _: add_torrents(client, rows),
            claim=True,  # two pipelines at once never add a torrent twice
        )
    report_step(context, result)


initiation_op = step_op("initiation", description="Step 07: accepted items go to Transmission.")(
    run_initiation
)
