"""Programs some tests need from the machine (Debian packages): skipped where missing, with one
summary line naming the packages to install, and a failure instead when `CI` is set, so CI never
passes by skipping. Loaded as a plugin by tests/conftest.py (`pytest_terminal_summary`)."""

from __future__ import annotations

import os
import re
from typing import Any

import pytest

# The skip reason starts with this, so the summary can find the skips across xdist workers.
PREFIX = "not installed here"
PACKAGES_PATTERN = re.compile(rf"{PREFIX} \(Debian package (?P<package>[\w.+-]+)\)")
CI_VAR = "CI"


def require(what: str, present: bool, package: str) -> None:
    """Skip the test (fail it under CI) when `what`, from Debian's `package`, is missing."""
    if present:
        return
    message = f"{what} {PREFIX} (Debian package {package})"
    if os.environ.get(CI_VAR):
        pytest.fail(f"{message}; CI must run every test (.ci/run installs it)", pytrace=False)
    pytest.skip(message)


def missing_packages(reports: list[Any]) -> list[str]:
    """The Debian packages named by the skips of `require` among these test reports."""
    found: set[str] = set()
    for report in reports:
        longrepr = getattr(report, "longrepr", None)
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else ""
        found.update(m["package"] for m in PACKAGES_PATTERN.finditer(str(reason)))
    return sorted(found)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line for everything the machine lacks (after pytest's own short summary)."""
    skipped = terminalreporter.stats.get("skipped", [])
    packages = missing_packages(skipped)
    if packages:
        count = sum(1 for r in skipped if missing_packages([r]))
        terminalreporter.write_line(
            f"{count} test(s) skipped: programs missing; to run them: "
            f"sudo apt-get install -y {' '.join(packages)}",
            yellow=True,
            bold=True,
        )
