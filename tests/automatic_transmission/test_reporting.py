"""Run metadata (pipeline.md "Rules shared by every step"): counts and a table of touched items."""

from __future__ import annotations

from automatic_transmission.model import Outcome, PipelineStatus, Verdict
from automatic_transmission.reporting import outcomes_table
from tests.support.feeds import info_hash


def test_the_table_of_items_stays_small_and_one_row_per_item_whatever_the_titles() -> None:
    outcomes = [
        Outcome(
            info_hash(n),
            Verdict.ADVANCED,
            PipelineStatus.INGESTED,
            PipelineStatus.PARSED,
            title="Huge | title\r\n" + "x" * 100_000,
            reason="r" * 50_000,
        )
        for n in range(3)
    ]

    lines = outcomes_table(outcomes).split("\n")

    assert len(lines) == 2 + 3
    assert all(len(line) < 600 for line in lines)
    assert "Huge \\| title" in lines[2]
