"""Run metadata (pipeline/report.py): counts and a table of touched items."""

from __future__ import annotations

import dagster as dg

from automatic_transmission.metadata import TABLE_LIMIT
from automatic_transmission.model import Outcome, PipelineStatus, Verdict
from automatic_transmission.pipeline.report import items_table, step_metadata
from automatic_transmission.pipeline.runner import StepResult
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

    table = items_table(outcomes)

    assert isinstance(table, dg.TableMetadataValue)
    assert [record.data["hash"] for record in table.records] == [info_hash(n) for n in range(3)]
    assert all(len(str(v)) < 300 for record in table.records for v in record.data.values())
    assert str(table.records[0].data["title"]).startswith("Huge | title  x")


def test_the_table_is_capped_but_the_counts_cover_every_item() -> None:
    outcomes = [
        Outcome(info_hash(n), Verdict.REJECTED, PipelineStatus.PARSED, PipelineStatus.REJECTED)
        for n in range(TABLE_LIMIT + 7)
    ]

    metadata = step_metadata(StepResult(outcomes, batches=2))

    assert metadata["rejected"].value == TABLE_LIMIT + 7
    assert metadata["batches"].value == 2
    items = metadata["items"]
    assert isinstance(items, dg.TableMetadataValue)
    assert len(items.records) == TABLE_LIMIT
