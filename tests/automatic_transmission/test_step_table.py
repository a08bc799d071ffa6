"""The step table is the one place that says which status a step consumes; health and the jobs
read it from there."""

from __future__ import annotations

import pytest

from automatic_transmission.health.checks import STATUS_OWNER_STEP, WAITING_STATUSES
from automatic_transmission.model import PipelineStatus as S
from automatic_transmission.pipeline.jobs import STEPS
from automatic_transmission.pipeline.step_table import STEP_TABLE, consumed_by


def test_health_judges_each_waiting_status_by_the_step_that_consumes_it() -> None:
    # Written out: a change of the table must show up here on purpose.
    assert STATUS_OWNER_STEP == {
        S.INGESTED: 3,
        S.PARSED: 4,
        S.FILE_ACCEPTED: 5,
        S.METADATA_COLLECTED: 6,
        S.MEDIA_ACCEPTED: 7,
        S.DOWNLOADED: 9,
    }
    assert WAITING_STATUSES[-2:] == (S.DOWNLOADING, S.TRANSFERRED)


def test_every_step_of_the_table_has_its_op() -> None:
    assert [(s.number, s.name, s.consumes) for s in STEPS] == [
        (s.number, s.name, s.consumes) for s in STEP_TABLE
    ]
    assert all(s.op is not None and s.op.name == s.name for s in STEPS)


def test_consumed_by() -> None:
    assert consumed_by("transfer") is S.DOWNLOADED
    with pytest.raises(KeyError, match="consumes no status"):
        consumed_by("rss_ingest")
