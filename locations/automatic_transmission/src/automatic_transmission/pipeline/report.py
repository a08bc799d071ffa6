"""A step's result -> run metadata (counts and real Dagster tables), so the UI answers "what
happened to my movie?" with a sortable table of the items a run touched."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import dagster as dg

from automatic_transmission.metadata import Cell, cell, table
from automatic_transmission.model import Outcome, Verdict
from automatic_transmission.pipeline.notices import notify_outcomes
from automatic_transmission.pipeline.run_tags import CHAIN_TAG

if TYPE_CHECKING:
    from automatic_transmission.pipeline.runner import Sources, StepResult


class AllRowsFailedTransiently(RuntimeError):
    """Every row of a run hit a transient failure: the run shows red, the rows wait for the next."""


class AllSourcesFailed(RuntimeError):
    """Every outside source of a run (every feed) failed: the run shows red; the next tries again."""


ITEM_COLUMNS = {"hash": "string", "title": "string", "outcome": "string", "to": "string",
                "reason": "string"}  # fmt: skip


def items_table(outcomes: Sequence[Outcome]) -> dg.MetadataValue:
    return table(
        ITEM_COLUMNS,
        [
            {
                "hash": o.hash,
                "title": cell(o.title),
                "outcome": o.verdict.value,
                "to": o.to_status.value if o.to_status else "",
                "reason": cell(o.reason),
            }
            for o in outcomes
        ],
    )


def sources_metadata(sources: Sources) -> dict[str, dg.MetadataValue]:
    """The table of sources (name, status, figures), the failed ones counted, each figure summed."""
    columns = {sources.kind: "string", "status": "string"} | dict.fromkeys(sources.figures, "int")
    rows: list[dict[str, Cell]] = [
        {sources.kind: cell(r.name), "status": cell(r.status), **r.figures} for r in sources.rows
    ]
    metadata = {
        f"{sources.kind}s": table(columns, rows),
        f"{sources.kind}s failed": dg.MetadataValue.int(sum(1 for r in sources.rows if r.error)),
    }
    for figure in sources.figures:
        metadata[figure] = dg.MetadataValue.int(sum(r.figures[figure] for r in sources.rows))
    return metadata


def step_metadata(
    result: StepResult, extra: Mapping[str, dg.MetadataValue] | None = None
) -> dict[str, dg.MetadataValue]:
    counts = result.verdicts()
    metadata: dict[str, dg.MetadataValue] = {
        verdict.value: dg.MetadataValue.int(counts.get(verdict, 0)) for verdict in Verdict
    }
    metadata["batches"] = dg.MetadataValue.int(result.batches)
    metadata.update({name: dg.MetadataValue.int(n) for name, n in result.figures.items()})
    if result.sources is not None:
        metadata.update(sources_metadata(result.sources))
    metadata.update(extra or {})
    metadata["items"] = items_table(result.outcomes)
    return metadata


def notify_step(context: dg.OpExecutionContext, result: StepResult) -> None:
    """Notify what the step's recorded outcomes call for through the `notifier` resource (every
    `step_op` requires it). A notification that cannot be sent is logged; it never fails the
    step."""
    resource = getattr(context.resources, "notifier", None)
    if resource is None:  # an op not made by step_op: it has no notifier
        return
    try:
        notify_outcomes(resource.notifier(context.log), result.outcomes, result.rows)
    except Exception as error:  # a notification must never fail the step or lose its rows
        context.log.warning(f"notifications of this step not sent: {cell(error)}")


def report_step(
    context: dg.OpExecutionContext,
    result: StepResult,
    extra: Mapping[str, dg.MetadataValue] | None = None,
) -> None:
    """Attach counts, figures and the table of touched items to the step and notify its news.
    Red (dg.Failure with the same metadata) when a StopStep stopped it (named by its kind: a
    configuration error, a service unreachable) or every source
    failed; red when every row must retry, except in a job of several steps (CHAIN_TAG), where
    that is a warning and the next step runs."""
    metadata = step_metadata(result, extra)
    notify_step(context, result)
    if result.stopped_by is not None:
        raise dg.Failure(
            description=f"{result.stop_kind}, step stopped: {cell(result.stopped_by)}",
            metadata=metadata,
        ) from result.stopped_by
    sources = result.sources
    if sources is not None and sources.all_failed:
        first = cell(sources.rows[0].error)
        raise dg.Failure(
            description=f"all {len(sources.rows)} {sources.kind}s failed; first: {first}",
            metadata=metadata,
        ) from AllSourcesFailed(first)
    context.add_output_metadata(metadata)
    retried = [o for o in result.outcomes if o.verdict is Verdict.RETRY]
    for outcome in retried:
        context.log.warning(f"{outcome.hash} left for the next run: {cell(outcome.reason)}")
    for outcome in result.outcomes:
        if outcome.verdict is Verdict.MOVED_ON:
            context.log.info(f"{outcome.hash} left alone: the row changed while the step ran")
    if result.all_retried:
        waiting = (
            f"all {len(result.outcomes)} items failed transiently and were left for the next "
            f"run; first reason: {cell(retried[0].reason)}"
        )
        if context.run.tags.get(CHAIN_TAG):  # waiting items never stop the later steps
            context.log.warning(waiting)
            return
        raise AllRowsFailedTransiently(waiting)
