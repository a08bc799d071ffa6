"""Run tags of the pipeline's jobs: a deadline for every run, and the transfer job's Kubernetes pod.

`dagster/max_runtime` (seconds) is enforced by the instance's run monitoring: a run still going
after it is failed and its pod removed. The transfer step moves finished downloads into the
library, so its run pod gets three volumes through the `dagster-k8s/config` tag (read by the
K8sRunLauncher) and a longer deadline than the rest. Outside Kubernetes jobs carry none of these
tags (dagstributor_shared.run_tags): the local Launchpad shows no pod volumes or deadlines that
nothing there would act on.

The volumes are PersistentVolumeClaims with fixed names, mounted at fixed container paths. Where
the files really live is the deployment's choice, made where a cluster admin expects it: each
environment's kustomize overlay (`deploy/k8s/overlays/<env>/volumes.yaml`) binds these claims to
hostPath PersistentVolumes on the node's download and library folders. The pod itself carries no
hostPath volume, which the "restricted" Pod Security Standard forbids, and the tags are the same
in every process of a cluster: the only thing read is whether it is one. The location's ConfigMap points
AT_DOWNLOAD_DIR / AT_MOVIE_DIR / AT_TV_SHOW_DIR at the mount paths below (a test checks it).

Plain dictionaries and JSON: no import of dagster_k8s.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from dagstributor_shared.environment import in_kubernetes
from dagstributor_shared.run_tags import max_runtime_tag

K8S_CONFIG_TAG = "dagster-k8s/config"
# On a job of several steps: a step whose items all wait (retried later) is reported with a
# warning instead of failing, so the chain goes on (one stuck download never blocks cleanup);
# only a failure that concerns every row (a StopStep, an error) stops it.
CHAIN_TAG = "dagstributor/chain"

DEFAULT_MAX_RUNTIME_S = 30 * 60
# Moving a season pack between file systems is slow; the transfer run may take hours.
TRANSFER_STEP = "transfer"
TRANSFER_MAX_RUNTIME_S = 4 * 60 * 60
# Kubernetes' own deadline for the run's Job: a backstop a little past Dagster's, so Dagster
# normally ends the run (and records why) before Kubernetes kills the pod.
K8S_DEADLINE_MARGIN_S = 10 * 60


@dataclass(frozen=True)
class LibraryVolume:
    """One folder the transfer pod mounts: its claim, its path in the container, its setting."""

    name: str
    claim: str
    mount_path: str
    setting: str


LIBRARY_VOLUMES: tuple[LibraryVolume, ...] = (
    LibraryVolume("downloads", "at-downloads", "/data/downloads", "AT_DOWNLOAD_DIR"),
    LibraryVolume("movies", "at-movies", "/data/movies", "AT_MOVIE_DIR"),
    LibraryVolume("tv-shows", "at-tv-shows", "/data/tv_shows", "AT_TV_SHOW_DIR"),
)
# Step name -> volumes its run pod mounts.
STEP_VOLUMES: Mapping[str, tuple[LibraryVolume, ...]] = {TRANSFER_STEP: LIBRARY_VOLUMES}
STEP_MAX_RUNTIME_S: Mapping[str, int] = {TRANSFER_STEP: TRANSFER_MAX_RUNTIME_S}


def max_runtime_s(step_name: str) -> int:
    return STEP_MAX_RUNTIME_S.get(step_name, DEFAULT_MAX_RUNTIME_S)


def k8s_config(volumes: Iterable[LibraryVolume], runtime_s: int) -> dict[str, object]:
    """The `dagster-k8s/config` document: volumes on the pod, mounts on the run container, and
    the Kubernetes Job's deadline."""
    volumes = tuple(volumes)
    return {
        "container_config": {
            "volume_mounts": [{"name": v.name, "mount_path": v.mount_path} for v in volumes]
        },
        "pod_spec_config": {
            "volumes": [
                {"name": v.name, "persistent_volume_claim": {"claim_name": v.claim}}
                for v in volumes
            ]
        },
        "job_spec_config": {"active_deadline_seconds": runtime_s + K8S_DEADLINE_MARGIN_S},
    }


def _tags(step_names: Iterable[str], runtime_s: int) -> dict[str, str]:
    volumes: dict[str, LibraryVolume] = {}
    for name in step_names:
        volumes.update({v.name: v for v in STEP_VOLUMES.get(name, ())})
    tags = max_runtime_tag(runtime_s)
    if volumes and in_kubernetes():
        tags[K8S_CONFIG_TAG] = json.dumps(k8s_config(volumes.values(), runtime_s))
    return tags


def step_tags(step_name: str) -> dict[str, str]:
    """Tags of the job running one step."""
    return _tags([step_name], max_runtime_s(step_name))


def pipeline_tags(step_names: Iterable[str]) -> dict[str, str]:
    """Tags of a job running several steps in a row: the sum of their deadlines, every volume."""
    names = list(step_names)
    return {**_tags(names, sum(max_runtime_s(name) for name in names)), CHAIN_TAG: "true"}
