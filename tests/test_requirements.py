"""A fresh machine without transmission-daemon: its tests are skipped with one summary line
naming the Debian package, and the same tests fail when `CI` is set (CI never passes by skipping).

pytest runs in a subprocess, without xdist, on a small test folder whose conftest loads the same
plugin as tests/conftest.py, with a PATH that holds no transmission-daemon.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.support.database import REPO_ROOT
from tests.support.requirements import CI_VAR, missing_packages

CONFTEST = textwrap.dedent(
    """
    import pytest
    from scripts.transmission_daemon import binary
    from tests.support.requirements import pytest_terminal_summary, require

    @pytest.fixture(scope="session")
    def daemon():
        require("transmission-daemon", binary() is not None, "transmission-daemon")
    """
)
TESTS = textwrap.dedent(
    """
    def test_one(daemon):
        pass

    def test_two(daemon):
        pass

    def test_without_the_daemon():
        pass
    """
)


def run_pytest(folder: Path, ci: bool) -> subprocess.CompletedProcess[str]:
    (folder / "conftest.py").write_text(CONFTEST)
    (folder / "test_needs_daemon.py").write_text(TESTS)
    empty = folder / "bin"
    empty.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != CI_VAR}
    env.update(PATH=str(empty), PYTHONPATH=str(REPO_ROOT))
    if ci:
        env[CI_VAR] = "true"
    command = [sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider", "-rs"]
    return subprocess.run(
        [*command, "-c", "/dev/null", "--rootdir", str(folder), str(folder)],
        cwd=folder, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_without_the_daemon_its_tests_skip_with_one_line_naming_the_package(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, ci=False)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "1 passed, 2 skipped" in result.stdout
    lines = [line for line in result.stdout.splitlines() if "apt-get install" in line]
    assert lines == [
        "2 test(s) skipped: programs missing; to run them: "
        "sudo apt-get install -y transmission-daemon"
    ]


def test_under_ci_the_same_tests_fail_instead_of_skipping(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, ci=True)
    assert result.returncode == 1, result.stdout[-3000:]
    assert "2 errors" in result.stdout and "1 passed" in result.stdout, result.stdout[-3000:]
    assert "transmission-daemon not installed here (Debian package transmission-daemon)" in (
        result.stdout
    )
    assert "CI must run every test" in result.stdout
    assert "skipped" not in result.stdout


def test_the_summary_names_each_missing_package_once() -> None:
    class Report:
        def __init__(self, reason: str) -> None:
            self.longrepr = ("file.py", 1, f"Skipped: {reason}")

    reports = [
        Report("transmission-daemon not installed here (Debian package transmission-daemon)"),
        Report("/usr/bin/chromium not installed here (Debian package chromium)"),
        Report("/usr/bin/chromedriver not installed here (Debian package chromium-driver)"),
        Report("transmission-daemon not installed here (Debian package transmission-daemon)"),
        Report("something else entirely"),
    ]
    assert missing_packages(reports) == ["chromium", "chromium-driver", "transmission-daemon"]
