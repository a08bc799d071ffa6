"""Notifications: Apprise to a JSON webhook on 127.0.0.1, scrubbed, never failing the caller."""

from __future__ import annotations

import logging
import time

import dagster as dg
import pytest

from dagstributor_shared.notify import (
    WEBSERVER_URL_VAR,
    Notifier,
    NotifierResource,
    run_failure_sensor,
    split_urls,
)
from dagstributor_shared.scrub import MASK, scrub
from tests.support.processes import free_port
from tests.support.webhook import Webhook

NOTIFY_URLS_VAR = "DAGSTRIBUTOR_TEST_NOTIFY_URLS"  # a location names its own (AT_NOTIFY_URLS ...)


@dg.op
def fetch_feed() -> None:
    raise RuntimeError("feed https://feeds.example/rss answered 503\nsecond line of detail")


@dg.job
def failing_job() -> None:
    fetch_feed()


def failed_run_context(
    instance: dg.DagsterInstance, job: dg.JobDefinition
) -> dg.RunFailureSensorContext:
    """Run `job` for real on `instance` (it fails) and build the sensor context of its failure."""
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    run = instance.get_run_by_id(result.run_id)
    assert run is not None
    failure = next(
        record.event_log_entry.dagster_event
        for record in instance.get_records_for_run(result.run_id).records
        if record.event_log_entry.dagster_event is not None
        and record.event_log_entry.dagster_event.event_type == dg.DagsterEventType.RUN_FAILURE
    )
    return dg.build_run_status_sensor_context(
        sensor_name="automatic_transmission_run_failure_notification",
        dagster_event=failure,
        dagster_instance=instance,
        dagster_run=run,
    ).for_run_failure()


def test_urls_are_split_on_spaces_and_commas() -> None:
    assert split_urls(" json://a/x,  ntfy://b/t\ntgram://c/d ,") == (
        "json://a/x",
        "ntfy://b/t",
        "tgram://c/d",
    )
    assert split_urls(None) == () and split_urls("  ") == ()


def test_a_failed_run_posts_one_message_with_job_run_error_and_link(
    webhook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(NOTIFY_URLS_VAR, webhook.apprise_url)
    monkeypatch.setenv(WEBSERVER_URL_VAR, "http://dagster.example:3000/")
    sensor = run_failure_sensor("automatic_transmission", NOTIFY_URLS_VAR)
    with dg.DagsterInstance.ephemeral() as instance:
        context = failed_run_context(instance, failing_job)
        sensor(context)
        run_id = context.dagster_run.run_id

    assert len(webhook.messages()) == 1
    text = webhook.texts()[0]
    assert "run of failing_job failed" in text
    assert "Job failing_job (automatic_transmission) failed." in text
    assert f"Run: {run_id}" in text
    assert "Error: RuntimeError: feed https://feeds.example/rss answered 503" in text
    assert "second line" not in text
    assert f"http://dagster.example:3000/runs/{run_id}" in text


def test_a_failed_run_without_urls_sends_nothing_and_does_not_fail(
    webhook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(NOTIFY_URLS_VAR, raising=False)
    sensor = run_failure_sensor("automatic_transmission", NOTIFY_URLS_VAR)
    with dg.DagsterInstance.ephemeral() as instance:
        sensor(failed_run_context(instance, failing_job))
    assert webhook.messages() == []


def test_no_url_sends_nothing_and_reports_not_sent(webhook: Webhook) -> None:
    notifier = Notifier.from_environment({}, urls_var=NOTIFY_URLS_VAR)
    assert not notifier.enabled
    assert notifier.send("title", "body") is False
    assert webhook.messages() == []


def test_an_unreachable_target_is_logged_and_never_raises(caplog: pytest.LogCaptureFixture) -> None:
    dead = f"json://127.0.0.1:{free_port()}/notify?cto=1&rto=1"
    notifier = Notifier.from_environment(
        {NOTIFY_URLS_VAR: dead}, urls_var=NOTIFY_URLS_VAR, timeout_s=5
    )
    began = time.monotonic()
    with caplog.at_level(logging.WARNING):
        assert notifier.send("Dagstributor: hello", "body") is False
    assert time.monotonic() - began < 10
    assert "could not be delivered" in caplog.text


def test_one_unreachable_target_does_not_stop_the_others(webhook: Webhook) -> None:
    dead = f"json://127.0.0.1:{free_port()}/notify?cto=1&rto=1"
    notifier = Notifier.from_environment(
        {NOTIFY_URLS_VAR: f"{dead} {webhook.apprise_url}"}, urls_var=NOTIFY_URLS_VAR
    )
    notifier.send("Dagstributor: hello", "body")
    assert len(webhook.messages()) == 1


def test_a_message_never_contains_a_secret(webhook: Webhook) -> None:
    # A second target whose credentials and path are tokens (a dead local port: no internet).
    tokened = f"json://bot:AAbotTokenSecret@127.0.0.1:{free_port()}/hook/PathTokenSecret?cto=1"
    environ = {
        NOTIFY_URLS_VAR: f"{webhook.apprise_url} {tokened}",
        "AT_MOVIE_SEARCH_API_KEY": "tmdb-key-0123456789",
        "AT_PGSQL_PASSWORD": "pg-password-xyz",
        "PLEX_TOKEN": "plex-token-abc",
    }
    notifier = Notifier.from_environment(environ, urls_var=NOTIFY_URLS_VAR)
    leaky = (
        "connect to postgresql://atp:pg-password-xyz@db:5432 failed; "
        "GET https://api.themoviedb.org/3/search?api_key=tmdb-key-0123456789&query=x; "
        "plex http://plex:32400/library?X-Plex-Token=plex-token-abc; "
        "bot AAbotTokenSecret at /hook/PathTokenSecret; https://user:hunter22@example.org/x"
    )
    notifier.send("Dagstributor: pg-password-xyz", leaky)
    text = webhook.texts()[0]
    secrets = ("pg-password-xyz", "tmdb-key-0123456789", "plex-token-abc", "AAbotTokenSecret")
    for secret in (*secrets, "PathTokenSecret"):
        assert secret not in text
    assert "hunter22" not in text
    assert MASK in text and "themoviedb.org" in text  # what is not secret stays readable


def test_scrub_masks_url_credentials_and_secret_query_values() -> None:
    assert scrub("https://u:p4ss@h/x?token=abc&page=2") == f"https://{MASK}@h/x?token={MASK}&page=2"
    # Download links of indexers: Jackett's `jackett_apikey`, trackers' `passkey`.
    link = "http://j:9117/dl/x/?jackett_apikey=k3y&path=p&passkey=pk"
    assert scrub(link) == f"http://j:9117/dl/x/?jackett_apikey={MASK}&path=p&passkey={MASK}"


def test_the_notifier_never_shows_its_urls() -> None:
    notifier = Notifier.from_environment(
        {NOTIFY_URLS_VAR: "json://u:secretbot@127.0.0.1:9/x"}, urls_var=NOTIFY_URLS_VAR
    )
    assert "secretbot" not in repr(notifier)


def test_the_resource_prefers_explicit_urls(webhook: Webhook) -> None:
    notifier = NotifierResource(urls=webhook.apprise_url).notifier()
    assert notifier.send("Dagstributor: t", "b")
    assert len(webhook.messages()) == 1
