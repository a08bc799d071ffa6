"""Every test file using the session's local stack runs on the one worker that holds it (a file
on another worker would meet a stack the Ctrl-C test already stopped)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import SHARED_SCOPES
from tests.support.processes import REPO_ROOT


def test_every_file_using_the_session_local_stack_shares_its_worker() -> None:
    users = {
        str(path.relative_to(REPO_ROOT))
        for path in (REPO_ROOT / "tests").rglob("test_*.py")
        if path != Path(__file__) and "local_stack: LocalStack" in path.read_text()
    }
    assert users, "no user of the local_stack fixture found: the scan is stale"
    assert users <= {path for path, scope in SHARED_SCOPES.items() if scope == "local_stack"}
