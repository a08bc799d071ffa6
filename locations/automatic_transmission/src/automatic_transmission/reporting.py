"""Outcomes -> run metadata, so the Dagster UI answers "what happened to my movie?"."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import dagster as dg

from automatic_transmission.model import Outcome, Verdict

TABLE_LIMIT = 500  # rows shown in the run's table; counts always cover everything
CELL_CHARS = 200  # a cell longer than this is cut: a hostile title must not bloat the run's events


class AllRowsFailedTransiently(RuntimeError):
    """Every row of a run hit a transient failure: the run shows red, the rows wait for the next."""


def _cell(value: object) -> str:
    text = str(value or "")
    if len(text) > CELL_CHARS:
        text = text[:CELL_CHARS] + "…"
    return text.replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def outcomes_table(outcomes: Sequence[Outcome]) -> str:
    lines = ["| hash | title | outcome | to | reason |", "|---|---|---|---|---|"]
    for o in outcomes[:TABLE_LIMIT]:
        to = o.to_status.value if o.to_status else ""
        lines.append(
            f"| {o.hash[:12]} | {_cell(o.title)} | {o.verdict.value} | {to} | {_cell(o.reason)} |"
        )
    if len(outcomes) > TABLE_LIMIT:
        lines.append(f"| … | {len(outcomes) - TABLE_LIMIT} more | | | |")
    return "\n".join(lines)


def outcome_metadata(outcomes: Sequence[Outcome]) -> dict[str, dg.MetadataValue]:
    counts = Counter(o.verdict for o in outcomes)
    metadata: dict[str, dg.MetadataValue] = {
        verdict.value: dg.MetadataValue.int(counts.get(verdict, 0)) for verdict in Verdict
    }
    metadata["items"] = dg.MetadataValue.md(outcomes_table(outcomes))
    return metadata


def report_outcomes(
    context: dg.OpExecutionContext, outcomes: Sequence[Outcome], **extra: dg.MetadataValue
) -> None:
    """Attach counts and the table of touched items to the step; fail if every row must retry."""
    context.add_output_metadata({**outcome_metadata(outcomes), **extra})
    retried = [o for o in outcomes if o.verdict is Verdict.RETRY]
    for outcome in retried:
        context.log.warning(f"{outcome.hash} left for the next run: {outcome.reason}")
    for outcome in outcomes:
        if outcome.verdict is Verdict.MOVED_ON:
            context.log.info(f"{outcome.hash} left alone: the row changed while the step ran")
    if outcomes and len(retried) == len(outcomes):
        raise AllRowsFailedTransiently(
            f"all {len(outcomes)} items failed transiently and were left for the next run; "
            f"first reason: {retried[0].reason}"
        )
