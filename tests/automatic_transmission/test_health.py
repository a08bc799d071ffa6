"""The health asset media_pipeline: its numbers and its four checks on a database built for it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import dagster as dg
import psycopg2.extensions
import pytest

from automatic_transmission.health.asset import (
    HEALTH_CHECKS,
    HealthSettings,
    current_schedule_specs,
    media_pipeline,
    waiting_limits_hours,
)
from automatic_transmission.health.checks import (
    BACKUP_JOB_NAME,
    NO_REASON,
    backup_check,
    download_progress_check,
    frozen_check,
    longest_gap_hours,
    read_health,
    stuck_check,
)
from automatic_transmission.model import PipelineStatus
from automatic_transmission.store.health import backup_ages_hours
from dagstributor_shared import atp_schema
from dagstributor_shared.notify import NotifierResource
from dagstributor_shared.postgres import PostgresResource
from tests.automatic_transmission.conftest import MediaTable
from tests.support.processes import free_port
from tests.support.webhook import Webhook
from wiring_schema_tics.backups import backup_all
from wiring_schema_tics.definitions import SCHEDULED_JOB as WST_BACKUP_JOB

NOW = dt.datetime.now(dt.UTC)


def ago(hours: float) -> dt.datetime:
    return NOW - dt.timedelta(hours=hours)


def h(n: int) -> str:
    return f"{n:040x}"


@pytest.fixture
def pipeline(media: MediaTable) -> MediaTable:
    """Rows in every kind of state, with known ages (an INSERT keeps the timestamps it is given)."""
    rows: list[dict[str, object]] = [
        {"pipeline_status": "ingested", "updated_at": ago(1)},
        {"pipeline_status": "ingested", "updated_at": ago(100)},  # stuck: step 03 runs daily (dev)
        {"pipeline_status": "parsed", "updated_at": ago(2)},
        {"pipeline_status": "parsed", "error_status": True, "error_condition": "year is null",
         "updated_at": ago(30)},  # frozen for long
        {"pipeline_status": "file_accepted", "error_status": True,
         "error_condition": "tmdb said 404", "updated_at": ago(1)},  # frozen, recent
        {"pipeline_status": "rejected", "rejection_status": "rejected",
         "rejection_reason": "resolution 720p is not in allowed_values"},
        {"pipeline_status": "rejected", "rejection_status": "rejected",
         "rejection_reason": "resolution 720p is not in allowed_values"},
        {"pipeline_status": "rejected", "rejection_status": "rejected",
         "rejection_reason": "media search failed"},
        {"pipeline_status": "rejected", "rejection_status": "rejected"},
        {"pipeline_status": "downloading", "updated_at": ago(5)},
        {"pipeline_status": "downloading", "updated_at": ago(72)},  # no progress for 3 days
        {"pipeline_status": "complete"},
        {"pipeline_status": "parsed", "deleted_at": ago(1), "rejection_status": "rejected",
         "rejection_reason": "user deletion"},  # soft-deleted: not a live row
    ]  # fmt: skip
    for n, columns in enumerate(rows, start=1):
        media.add(h(n), created_at=ago(200), **columns)
    return media


@pytest.fixture
def connection(
    pg_server: object, atp_database: str, postgres: PostgresResource
) -> Iterator[psycopg2.extensions.connection]:
    with postgres.connect() as conn:
        yield conn


def test_the_snapshot_counts_live_rows_per_status_frozen_rejections_and_downloads(
    pipeline: MediaTable, connection: psycopg2.extensions.connection
) -> None:
    health = read_health(connection)
    assert health.status_counts[PipelineStatus.INGESTED] == 2
    assert health.status_counts[PipelineStatus.PARSED] == 2  # the deleted one is not counted
    assert health.status_counts[PipelineStatus.REJECTED] == 4
    assert health.status_counts[PipelineStatus.MEDIA_ACCEPTED] == 0  # every status is there
    assert health.total == 12 and health.soft_deleted == 1
    assert health.frozen == 2
    assert health.downloads_in_progress == 2
    assert health.rejection_reasons == [
        ("resolution 720p is not in allowed_values", 2),
        (NO_REASON, 1),
        ("media search failed", 1),
        ("user deletion", 1),
    ]
    # oldest live, not frozen row per waiting status, in hours
    assert health.oldest_waiting_hours[PipelineStatus.INGESTED] == pytest.approx(100, abs=0.1)
    assert health.oldest_waiting_hours[PipelineStatus.PARSED] == pytest.approx(2, abs=0.1)
    assert health.oldest_waiting_hours[PipelineStatus.DOWNLOADING] == pytest.approx(72, abs=0.1)
    assert health.oldest_waiting_hours[PipelineStatus.FILE_ACCEPTED] == 0  # only a frozen row


def test_only_the_ten_most_frequent_rejection_reasons_are_kept(
    media: MediaTable, connection: psycopg2.extensions.connection
) -> None:
    for n in range(1, 13):
        for copy in range(n):
            media.add(h(n * 100 + copy), pipeline_status="rejected",
                      rejection_status="rejected", rejection_reason=f"reason {n:02d}")  # fmt: skip
    reasons = read_health(connection).rejection_reasons
    assert [r for r, _ in reasons] == [f"reason {n:02d}" for n in range(12, 2, -1)]


def test_a_row_frozen_longer_than_the_limit_fails_the_frozen_check(
    pipeline: MediaTable, connection: psycopg2.extensions.connection
) -> None:
    outcome = frozen_check(connection, max_hours=24)
    assert not outcome.passed
    assert [(r.hash, r.detail) for r in outcome.rows] == [(h(4), "year is null")]
    assert outcome.figures["rows"] == 1
    assert frozen_check(connection, max_hours=31).passed


def test_a_download_without_progress_fails_the_download_check(
    pipeline: MediaTable, connection: psycopg2.extensions.connection
) -> None:
    outcome = download_progress_check(connection, max_hours=48)
    assert not outcome.passed and [r.hash for r in outcome.rows] == [h(11)]
    assert download_progress_check(connection, max_hours=73).passed


def test_a_row_waiting_longer_than_its_steps_schedule_explains_fails_the_stuck_check(
    pipeline: MediaTable, connection: psycopg2.extensions.connection
) -> None:
    limits = {PipelineStatus.INGESTED: 48.0, PipelineStatus.PARSED: 1.0}
    outcome = stuck_check(connection, limits)
    # ingested 100 h > 48 h; parsed 2 h > 1 h; the frozen parsed row is the frozen check's
    assert not outcome.passed
    assert sorted(r.hash for r in outcome.rows) == [h(2), h(3)]
    assert stuck_check(connection, {PipelineStatus.INGESTED: 101.0}).passed
    assert stuck_check(connection, {}).passed  # nothing scheduled: nothing to measure against


def test_the_wait_a_schedule_explains_is_its_longest_gap_times_the_factor() -> None:
    assert longest_gap_hours("*/15 * * * *") == pytest.approx(0.25)
    assert longest_gap_hours("2,18,32,47 * * * *") == pytest.approx(16 / 60)
    assert longest_gap_hours("57 9 * * 0") == pytest.approx(24 * 7)
    limits = waiting_limits_hours(current_schedule_specs(), factor=2)
    assert limits[PipelineStatus.INGESTED] == pytest.approx(48)  # dev: step 03 daily
    assert PipelineStatus.DOWNLOADING not in limits  # judged by the download check


def test_backups_older_than_the_drop_guard_allows_fail_the_backup_check(
    atp_database: str, connection: psycopg2.extensions.connection
) -> None:
    assert backup_ages_hours(connection) == dict.fromkeys(atp_schema.TABLES)
    fresh_install = backup_check(backup_ages_hours(connection), 24)
    assert not fresh_install.passed
    assert fresh_install.summary.startswith("atp.media has no backup")
    assert f"Launch {BACKUP_JOB_NAME} in the wiring_schema_tics location" in fresh_install.summary
    assert BACKUP_JOB_NAME == WST_BACKUP_JOB  # the name the schema location schedules

    backup_all(connection)  # the schema location's own backups, named as it names them
    ages = backup_ages_hours(connection)
    assert all(age is not None and age < 0.1 for age in ages.values())
    assert backup_check(ages, 24).passed

    day = NOW.strftime("%Y%m%d")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE bak.atp_training_{day}_metadata SET created_at = now() - interval '30 hours'"
        )
    connection.commit()
    outcome = backup_check(backup_ages_hours(connection), 24)
    assert not outcome.passed
    assert outcome.summary.startswith("atp.training: newest backup is 30.0 h old")


# --- the asset and its checks in Dagster -------------------------------------------------------


def materialize(
    postgres: PostgresResource, notify_urls: str, instance: dg.DagsterInstance
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [media_pipeline, *HEALTH_CHECKS],
        resources={
            "postgres": postgres,
            "health_settings": HealthSettings(
                frozen_hours=24, download_stall_hours=48, stuck_factor=2, backup_max_age_hours=24
            ),
            "notifier": NotifierResource(urls=notify_urls),
        },
        instance=instance,
    )


def test_the_asset_records_numbers_and_each_failed_check_posts_one_message(
    pipeline: MediaTable, postgres: PostgresResource, webhook: Webhook
) -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        result = materialize(postgres, webhook.apprise_url, instance)
        assert result.success
        metadata = result.asset_materializations_for_node("media_pipeline")[0].metadata
        assert metadata["rows ingested"] == dg.IntMetadataValue(2)
        assert metadata["rows frozen in error"] == dg.IntMetadataValue(2)
        assert metadata["downloads in progress"] == dg.IntMetadataValue(2)
        assert metadata["rejected: resolution 720p is not in allowed_values"].value == 2
        reasons = metadata["top rejection reasons"]  # a real table, sortable in the UI
        assert isinstance(reasons, dg.TableMetadataValue)
        assert {"rejection reason": "resolution 720p is not in allowed_values", "rows": 2} in [
            dict(record.data) for record in reasons.records
        ]
        oldest = metadata["oldest waiting hours ingested"]
        assert isinstance(oldest, dg.FloatMetadataValue) and oldest.value == pytest.approx(
            100, 0.01
        )

        verdicts = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
        frozen_rows = next(
            e.metadata["rows"]
            for e in result.get_asset_check_evaluations()
            if e.check_name == "no_long_frozen_rows"
        )
        assert isinstance(frozen_rows, dg.TableMetadataValue)
        assert [r.data["status"] for r in frozen_rows.records] == ["parsed"]
        assert verdicts == {
            "no_long_frozen_rows": False,
            "downloads_progress": False,
            "no_stuck_items": False,  # the 100 h ingested row; dev runs step 03 daily
            "backups_fresh": False,  # no backup at all
        }
        titles = sorted(m["title"] for m in webhook.messages())
        assert titles == [
            "Dagstributor: health check backups_fresh failed",
            "Dagstributor: health check downloads_progress failed",
            "Dagstributor: health check no_long_frozen_rows failed",
            "Dagstributor: health check no_stuck_items failed",
        ]
        frozen = next(m for m in webhook.messages() if "frozen" in m["title"])
        assert "1 row(s) frozen in error for more than 24 h" in frozen["message"]

        # Still failing on the next materialization: visible on the asset, not notified again.
        again = materialize(postgres, webhook.apprise_url, instance)
        assert again.success
        assert not any(e.passed for e in again.get_asset_check_evaluations())
        assert len(webhook.messages()) == 4


def test_checks_pass_on_a_healthy_pipeline_and_send_nothing(
    media: MediaTable, postgres: PostgresResource, webhook: Webhook
) -> None:
    media.add(h(1), pipeline_status="ingested")
    media.add(h(2), pipeline_status="complete")
    with postgres.connect() as connection:
        backup_all(connection)
    with dg.DagsterInstance.ephemeral() as instance:
        result = materialize(postgres, webhook.apprise_url, instance)
    assert all(e.passed for e in result.get_asset_check_evaluations())
    assert len(result.get_asset_check_evaluations()) == 4
    assert webhook.messages() == []


def test_an_undeliverable_notification_does_not_fail_the_checks(
    pipeline: MediaTable, postgres: PostgresResource
) -> None:
    dead = f"json://127.0.0.1:{free_port()}/notify?cto=1&rto=1"
    with dg.DagsterInstance.ephemeral() as instance:
        result = materialize(postgres, dead, instance)
    assert result.success
    assert len(result.get_asset_check_evaluations()) == 4


def test_backups_are_held_to_the_drop_guards_age_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AT_HEALTH_BACKUP_MAX_AGE_HOURS", raising=False)
    assert dt.timedelta(hours=HealthSettings().backup_limit()) == atp_schema.MAX_BACKUP_AGE


def test_the_health_job_runs_in_one_process() -> None:
    """A process per step made it 42 s; in one process it takes seconds (benchmarks/health_job.py)."""
    from automatic_transmission.definitions import defs
    from automatic_transmission.health.asset import HEALTH_JOB_NAME

    assert defs.resolve_job_def(HEALTH_JOB_NAME).executor_def is dg.in_process_executor
