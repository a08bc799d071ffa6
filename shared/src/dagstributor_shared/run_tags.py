"""Run tags both locations put on their jobs: only inside Kubernetes, where they act.

`dagster/max_runtime` is enforced by the instance's run monitoring, which the Helm deployment turns
on and the local stack's instance does not; `dagster-k8s/config` is read by the K8sRunLauncher
only. On a workstation they would be inert tags on every job of the Launchpad, so outside
Kubernetes (no KUBERNETES_SERVICE_HOST, see environment.in_kubernetes) jobs carry neither. Inside
a cluster the code server and every run pod see the same variable, so both build the same tags.
"""

from __future__ import annotations

from collections.abc import Mapping

from dagstributor_shared.environment import in_kubernetes

# Seconds a run may take; the instance's run monitoring fails a run still going after that
# (Helm values: dagsterDaemon.runMonitoring). Every job of both locations carries it in a cluster.
MAX_RUNTIME_TAG = "dagster/max_runtime"


def max_runtime_tag(seconds: int, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The deadline tag inside Kubernetes; nothing on a workstation (see the module's docstring)."""
    if seconds <= 0:
        raise ValueError(f"a run's deadline must be positive, got {seconds}")
    return {MAX_RUNTIME_TAG: str(seconds)} if in_kubernetes(environ) else {}
