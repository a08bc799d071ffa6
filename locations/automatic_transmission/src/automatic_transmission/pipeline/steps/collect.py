"""Step 02 collect: torrents a user added to Transmission by hand join the pipeline.

fetch: ONE `torrent-get` (hash, name) · select: the rows of those hashes (one query) · decide:
a torrent without a row -> a new `ingested` / `override` row typed from its name (`unknown` ->
inserted frozen `media_type is unknown`); a torrent whose row was rejected -> back to `ingested`
as `override`; a magnet whose metadata has not arrived (its name is its hash) waits · record:
one insert, one conditional write · report.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import dagster as dg

from automatic_transmission import parsing
from automatic_transmission.clients.transmission import (
    COLLECT_FIELDS,
    Torrent,
    TransmissionResource,
)
from automatic_transmission.model import (
    UNKNOWN_TYPE_ERROR,
    MediaRow,
    MediaType,
    Outcome,
    PipelineStatus,
    RejectionStatus,
    Verdict,
)
from automatic_transmission.pipeline.op import step_op
from automatic_transmission.pipeline.report import report_step
from automatic_transmission.pipeline.runner import StepResult, open_store, record
from automatic_transmission.store.media import NewMedia
from dagstributor_shared.postgres import PostgresResource


@dataclass
class CollectDecision:
    new: list[NewMedia] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    waiting_for_metadata: int = 0


def has_metadata(torrent: Torrent) -> bool:
    """A magnet without metadata reports its hash (or nothing) as its name."""
    return bool(torrent.name) and torrent.name.lower() != torrent.hash


def new_row(torrent: Torrent) -> NewMedia:
    media_type = MediaType(parsing.classify_media_type(torrent.name))
    return NewMedia(
        hash=torrent.hash,
        media_type=media_type,
        original_title=torrent.name,
        rejection_status=RejectionStatus.OVERRIDE,
        error_condition=UNKNOWN_TYPE_ERROR if media_type is MediaType.UNKNOWN else None,
    )


def collected(item: NewMedia) -> Outcome:
    """A new row as an outcome, for the run's table of items."""
    return Outcome(
        item.hash,
        Verdict.ERRORED if item.error_condition else Verdict.ADVANCED,
        PipelineStatus.INGESTED,
        PipelineStatus.INGESTED,
        reason=item.error_condition or "added to Transmission by hand",
        title=item.original_title,
    )


def decide_collect(torrents: Sequence[Torrent], rows: Mapping[str, MediaRow]) -> CollectDecision:
    decision = CollectDecision()
    for torrent in torrents:
        if not has_metadata(torrent):
            decision.waiting_for_metadata += 1
            continue
        row = rows.get(torrent.hash)
        if row is None:
            decision.new.append(new_row(torrent))
        elif (
            row.pipeline_status is PipelineStatus.REJECTED
            and not row.error_status
            and row.deleted_at is None
        ):
            decision.outcomes.append(
                Outcome.advance(
                    row, PipelineStatus.INGESTED, rejection_status=RejectionStatus.OVERRIDE
                )
            )
    return decision


def run_collect(
    context: dg.OpExecutionContext,
    postgres: PostgresResource,
    transmission: TransmissionResource,
) -> None:
    torrents = transmission.client().torrents(COLLECT_FIELDS)
    result = StepResult()
    with open_store(postgres) as store:
        decision = decide_collect(torrents, store.rows_by_hash([t.hash for t in torrents]))
        inserted = set(store.insert_new(decision.new))
        result.outcomes += [collected(item) for item in decision.new if item.hash in inserted]
        record(store, result, decision.outcomes)
    result.count("torrents in Transmission", len(torrents))
    result.count("waiting for metadata", decision.waiting_for_metadata)
    report_step(context, result)


collect_op = step_op(
    "collect", description="Step 02: torrents added to Transmission by hand join the pipeline."
)(run_collect)
