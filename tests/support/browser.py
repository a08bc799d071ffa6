"""Debian's chromium driven by selenium through the system chromedriver (never a downloaded one)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.requirements import require

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


def require_browser() -> None:
    """Skip (fail under CI) a test that needs the browser where it is missing (.ci/run installs
    both from Debian)."""
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        require(str(path), path.is_file() and os.access(path, os.X_OK), package)


@contextmanager
def chromium(width: int = 1600, height: int = 1000) -> Iterator[Any]:
    """A headless chromium WebDriver; quit afterwards."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    # Selenium Manager must never fetch a driver or a browser: both paths are given, and offline.
    os.environ["SE_OFFLINE"] = "true"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", f"--window-size={width},{height}",
                     "--no-proxy-server"):  # fmt: skip
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
