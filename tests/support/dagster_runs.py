"""Runs launched through a running webserver's GraphQL API (the way the UI launches them)."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.support.processes import graphql, wait_for

FINISHED = ("SUCCESS", "FAILURE", "CANCELED")


def launch_run(url: str, location: str, job: str, run_config: dict[str, Any] | None = None) -> str:
    """Launch `job` of `location` through the webserver at `url`; its run id."""
    params = {
        "selector": {
            "repositoryLocationName": location,
            "repositoryName": "__repository__",
            "jobName": job,
        },
        "runConfigData": run_config or {},
    }
    mutation = (
        "mutation { launchRun(executionParams: "
        + re.sub(r'"(\w+)":', r"\1:", json.dumps(params))
        + ") { __typename ... on LaunchRunSuccess { run { runId } }"
        " ... on PythonError { message } ... on InvalidSubsetError { message }"
        " ... on RunConfigValidationInvalid { errors { message } } } }"
    )
    launched = graphql(url, mutation)["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id: str = launched["run"]["runId"]
    return run_id


def wait_for_run(url: str, run_id: str, timeout: float) -> str:
    """The final status of run `run_id` once it ended (SUCCESS, FAILURE or CANCELED)."""

    def finished() -> str | None:
        run = graphql(url, f'{{ runOrError(runId: "{run_id}") {{ ... on Run {{ status }} }} }}')
        status: str | None = run["runOrError"].get("status")
        return status if status in FINISHED else None

    status: str = wait_for(finished, timeout, f"run {run_id}", interval=1.0)
    return status
