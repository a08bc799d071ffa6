"""The Dagster UI in a real browser (Debian's chromium): both locations Loaded on the deployment
page, and the health asset media_pipeline with its plotted metadata and its checks.

The session's local stack runs on free ports (never 3000/4000/4001) with a database of its own
(`local_stack`, shared with the test of the local command). Screenshots
are saved in the test's temporary folder (printed), or in $DAGSTRIBUTOR_SCREENSHOTS when set.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By

from dagstributor_shared.postgres import start_embedded
from tests.integration.conftest import LocalStack
from tests.support.browser import chromium, require_browser
from tests.support.dagster_runs import launch_run, wait_for_run
from tests.support.processes import (
    LOCATION_MODULES,
    wait_for,
)

pytestmark = pytest.mark.integration

RUN_TIMEOUT = 180.0
PAGE_TIMEOUT = 60.0
HEALTH_JOB = "at_media_pipeline_health_job"
# Some of the keys plotted (one chart each) across the two materializations.
PLOTTED = ("rows ingested", "rows parsed", "rows frozen in error", "downloads in progress",
           "oldest waiting hours ingested")  # fmt: skip
CHECKS = ("no_long_frozen_rows", "downloads_progress", "no_stuck_items", "backups_fresh")


@pytest.fixture
def stack(local_stack: LocalStack) -> LocalStack:
    """The session's local stack (tests/integration/conftest.py), once chromium is here."""
    require_browser()
    return local_stack


def add_rows(pgdata: Path, rows: list[tuple[str, str, str]]) -> None:
    """(hash, pipeline_status, title) rows into the stack's atp.media."""
    connection = psycopg2.connect(host=start_embedded(pgdata), user="postgres", dbname="postgres")
    try:
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO atp.media (hash, media_type, pipeline_status, original_title)"
                " VALUES (%s, 'movie', %s, %s)",
                rows,
            )
        connection.commit()
    finally:
        connection.close()


def launch_and_wait(url: str, job: str) -> str:
    """Launch `job` of automatic_transmission through the webserver; its run id once it ended."""
    run_id = launch_run(url, "automatic_transmission", job)
    assert wait_for_run(url, run_id, RUN_TIMEOUT) == "SUCCESS"
    return run_id


def page_text(driver: Any) -> str:
    return str(driver.find_element(By.TAG_NAME, "body").text)


def click(driver: Any, label: str) -> None:
    """Click the one button labelled `label` once the page holds it (the UI re-renders while it
    loads, which turns a button found a moment ago stale: then it is looked up again)."""

    def clicked() -> bool:
        try:
            found = [b for b in driver.find_elements(By.TAG_NAME, "button")
                     if b.text.strip() == label]  # fmt: skip
            assert len(found) <= 1, f"{len(found)} buttons labelled {label!r}"
            if found:
                found[0].click()
        except StaleElementReferenceException:
            return False
        return bool(found)

    wait_for(clicked, PAGE_TIMEOUT, f"button {label!r} clicked", interval=0.25)


def open_until(driver: Any, url: str, condition: Any, what: str) -> str:
    """Open `url` and wait until `condition(page text)` holds; returns the text."""
    driver.get(url)
    text = ""

    def shown() -> bool:
        nonlocal text
        text = page_text(driver)
        return bool(condition(text))

    try:
        wait_for(shown, PAGE_TIMEOUT, what, interval=0.5)
    except TimeoutError:
        print(f"--- page text of {url} ---\n{text[:4000]}")
        raise
    return text


def screenshot(driver: Any, folder: Path, name: str) -> Path:
    path = folder / f"{name}.png"
    driver.save_screenshot(str(path))
    extra = os.environ.get("DAGSTRIBUTOR_SCREENSHOTS")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(extra) / path.name)
    print(f"screenshot: {path}")
    return path


def test_the_deployment_page_shows_both_locations_loaded(stack: LocalStack, tmp_path: Path) -> None:
    with chromium() as driver:
        text = open_until(
            driver,
            f"{stack.url}/deployment/locations",
            lambda t: all(name in t for name in LOCATION_MODULES) and t.count("Loaded") >= 2,
            "deployment page with both locations Loaded",
        )
        shot = screenshot(driver, tmp_path, "deployment")
    assert "automatic_transmission" in text and "wiring_schema_tics" in text
    assert shot.stat().st_size > 10_000


def test_the_health_asset_page_plots_its_metadata_and_shows_its_checks(
    stack: LocalStack, tmp_path: Path
) -> None:
    # Two materializations with different numbers: a plot has two points to draw.
    add_rows(stack.pgdata, [(f"{n:040x}", "ingested", f"Film {n} 1999 1080p") for n in (1, 2)])
    launch_and_wait(stack.url, HEALTH_JOB)
    add_rows(stack.pgdata, [(f"{n:040x}", "parsed", f"Film {n} 2001 1080p") for n in (3, 4, 5)])
    launch_and_wait(stack.url, HEALTH_JOB)

    with chromium(height=2400) as driver:
        open_until(
            driver,
            f"{stack.url}/assets/media_pipeline",
            lambda t: "Metadata" in t and "rows ingested" in t,
            "overview of media_pipeline with its metadata",
        )
        click(driver, "Plots")  # the metadata section: Table | Plots
        plotted = wait_for(
            lambda: len(driver.find_elements(By.CSS_SELECTOR, "canvas")) >= len(PLOTTED),
            PAGE_TIMEOUT,
            "a plot per numeric metadata key",
        )
        plots = page_text(driver)
        screenshot(driver, tmp_path, "media_pipeline_plots")
        checks = open_until(
            driver,
            f"{stack.url}/assets/media_pipeline?view=checks",
            lambda t: all(name in t for name in CHECKS),
            "checks of media_pipeline",
        )
        screenshot(driver, tmp_path, "media_pipeline_checks")
    assert plotted
    for key in PLOTTED:
        assert key in plots, key
    assert all(name in checks for name in CHECKS)
