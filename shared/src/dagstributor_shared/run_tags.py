"""Run tags both locations put on their jobs."""

from __future__ import annotations

# Seconds a run may take; the instance's run monitoring fails a run still going after that
# (Helm values: dagsterDaemon.runMonitoring). Every job of both locations carries it.
MAX_RUNTIME_TAG = "dagster/max_runtime"


def max_runtime_tag(seconds: int) -> dict[str, str]:
    if seconds <= 0:
        raise ValueError(f"a run's deadline must be positive, got {seconds}")
    return {MAX_RUNTIME_TAG: str(seconds)}
