"""The Helm values name both user deployments with the right module, port, ConfigMaps and Secrets,
image tags follow the branch map, and the instance settings the code relies on are there."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

import pytest
import yaml

from dagstributor_shared.run_tags import MAX_RUNTIME_TAG
from tests.support.deploy import (
    BASE_CONFIGMAPS,
    BRANCHES,
    DEPLOY,
    ENVIRONMENTS,
    NOT_DEPLOYED,
    SECRETS_EXAMPLE,
    by_kind,
    code_settings,
    data_keys,
    documents,
)
from wiring_schema_tics.jobs import SCHEMA_POOL, SCHEMA_RUN_TAG_KEY

HELM = DEPLOY / "helm"
DEPLOYMENTS = {
    "automatic-transmission": "automatic_transmission",
    "wiring-schema-tics": "wiring_schema_tics",
}
# What each location is given (deploy/README.md).
# Both get the notification settings (each location's run-failure sensor notifies).
CONFIGMAPS = {
    "automatic-transmission": {"at-config", "environment", "transmission-config", "reel-driver-config", "wst-config", "rear-diff-config", "notify-config"},
    "wiring-schema-tics": {"environment", "wst-config", "notify-config"},
}  # fmt: skip
SECRETS = {
    "automatic-transmission": {"at-secrets", "transmission-secrets", "wst-secrets", "rear-diff-secrets", "notify-secrets"},
    "wiring-schema-tics": {"wst-secrets", "notify-secrets"},
}  # fmt: skip


def values(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((HELM / name).read_text())
    return loaded


def deployments(env: str) -> dict[str, dict[str, Any]]:
    listed = values(f"values-{env}.yaml")["dagster-user-deployments"]["deployments"]
    assert listed, f"no user deployments in values-{env}.yaml"
    return {d["name"]: d for d in listed}


def assert_restricted(pod: dict[str, Any], container: dict[str, Any], where: str) -> None:
    """The "restricted" Pod Security Standard, as far as the values set it."""
    assert pod["runAsNonRoot"] is True and pod["runAsUser"] > 0, where
    assert pod["seccompProfile"] == {"type": "RuntimeDefault"}, where
    assert container["allowPrivilegeEscalation"] is False, where
    assert container["capabilities"]["drop"] == ["ALL"], where
    assert container.get("privileged", False) is False, where


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_both_user_deployments_serve_their_module_on_3030(env: str) -> None:
    found = deployments(env)
    assert set(found) == set(DEPLOYMENTS)
    for name, package in DEPLOYMENTS.items():
        d = found[name]
        args = d["codeServerArgs"]
        assert args[args.index("-m") + 1] == f"{package}.definitions", name
        assert args[args.index("--location-name") + 1] == package, name
        assert d["port"] == 3030
        assert d["includeConfigInLaunchedRuns"] == {"enabled": True}
        assert d["readinessProbe"]["enabled"] is True
        assert d["resources"]["requests"] and d["resources"]["limits"]["memory"]
        assert "dagsterApiGrpcArgs" not in d


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_image_tags_follow_the_branch_map(env: str) -> None:
    found = deployments(env)
    assert set(found) == set(DEPLOYMENTS)
    for name, d in found.items():
        assert d["image"]["repository"].endswith(f"/{name}")
        assert d["image"]["tag"] == BRANCHES[env], (env, name)
        assert d["image"]["pullPolicy"] == "Always"


def test_environments_differ_only_in_the_image_tag() -> None:
    def without_tag(env: str) -> dict[str, Any]:
        found = deployments(env)
        for d in found.values():
            d["image"] = {k: v for k, v in d["image"].items() if k != "tag"}
        return found

    assert without_tag("dev") == without_tag("stg") == without_tag("prod")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_location_gets_the_configmaps_and_secrets_it_needs(env: str) -> None:
    made_configmaps = {
        n: data_keys(r) for n, r in by_kind(documents(BASE_CONFIGMAPS), "ConfigMap").items()
    }
    made_secrets = {
        n: data_keys(r) for n, r in by_kind(documents(SECRETS_EXAMPLE), "Secret").items()
    }
    for name, package in DEPLOYMENTS.items():
        d = deployments(env)[name]
        configmaps = {c["name"] for c in d["envConfigMaps"]}
        secrets = {s["name"] for s in d["envSecrets"]}
        assert configmaps == CONFIGMAPS[name] and secrets == SECRETS[name], name
        assert configmaps <= set(made_configmaps) and secrets <= set(made_secrets), name
        # Every setting this location's code reads reaches its pods.
        given = {k for c in configmaps for k in made_configmaps[c]}
        given |= {k for s in secrets for k in made_secrets[s]}
        needed = code_settings(package)
        needed = type(needed)(needed.names - NOT_DEPLOYED, needed.pgsql_prefixes)
        assert needed.required_in(given) == set(), name


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_code_server_and_run_pods_meet_the_restricted_standard(env: str) -> None:
    for name, d in deployments(env).items():
        assert_restricted(d["podSecurityContext"], d["securityContext"], name)
        assert d["securityContext"]["readOnlyRootFilesystem"] is True
    shared = values("values.yaml")
    for part in ("dagsterWebserver", "dagsterDaemon"):
        assert_restricted(shared[part]["podSecurityContext"], shared[part]["securityContext"], part)
    run = shared["runLauncher"]["config"]["k8sRunLauncher"]["runK8sConfig"]
    assert_restricted(
        run["podSpecConfig"]["securityContext"],
        run["containerConfig"]["securityContext"],
        "run pods",
    )


def test_instance_runs_on_postgresql_with_k8s_launcher_monitoring_and_the_schema_limits() -> None:
    shared = values("values.yaml")
    assert shared["postgresql"]["enabled"] is False and shared["postgresql"]["postgresqlHost"]
    assert "postgresqlPassword" not in shared["postgresql"]
    assert shared["generatePostgresqlPasswordSecret"] is False
    secret = shared["global"]["postgresqlSecretName"]
    assert "postgresql-password" in data_keys(by_kind(documents(SECRETS_EXAMPLE), "Secret")[secret])
    assert shared["runLauncher"]["type"] == "K8sRunLauncher"
    # Run monitoring enforces the jobs' MAX_RUNTIME_TAG.
    assert MAX_RUNTIME_TAG == "dagster/max_runtime"
    assert shared["dagsterDaemon"]["runMonitoring"]["enabled"] is True
    assert shared["dagsterDaemon"]["runCoordinator"]["type"] == "QueuedRunCoordinator"
    runs = shared["concurrency"]["runs"]
    assert {"key": SCHEMA_RUN_TAG_KEY, "limit": 1} in runs["tagConcurrencyLimits"]
    # The chart sets no per-pool limit; the default limit covers the schema pool, the only one.
    assert SCHEMA_POOL == "wst_atp_schema" and shared["concurrency"]["pools"]["defaultLimit"] == 1
    assert shared["rbacEnabled"] is False  # deploy/k8s/base/rbac.yaml grants it
    assert shared["global"]["serviceAccountName"] == "dagster"


def test_argocd_applications_follow_their_branch_with_overlay_and_values() -> None:
    for env, branch in BRANCHES.items():
        app = yaml.safe_load((DEPLOY / "argocd" / f"{env}.yaml").read_text())
        assert app["kind"] == "Application" and app["apiVersion"] == "argoproj.io/v1alpha1"
        assert app["spec"]["destination"]["namespace"] == f"media-{env}"
        repo, chart = app["spec"]["sources"]
        assert repo["targetRevision"] == branch and repo["path"] == f"deploy/k8s/overlays/{env}"
        assert (DEPLOY.parent / repo["path"] / "kustomization.yaml").is_file()
        # The chart's release is the locked dagster's: webserver and daemon match the code servers.
        assert chart["chart"] == "dagster" and chart["targetRevision"] == version("dagster")
        files = chart["helm"]["valueFiles"]
        assert files == [
            "$values/deploy/helm/values.yaml",
            f"$values/deploy/helm/values-{env}.yaml",
        ]
        assert all((DEPLOY.parent / f.removeprefix("$values/")).is_file() for f in files)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_only_the_optional_notification_settings_may_be_missing_from_a_cluster(env: str) -> None:
    """Notifications are optional (AT_NOTIFY_URLS unset sends nothing), so a cluster that never
    created `notify-config`/`notify-secrets` still starts its pods; every other reference is
    required, so a missing pipeline setting fails loudly at pod start."""
    for name, d in deployments(env).items():
        refs = [*d["envConfigMaps"], *d["envSecrets"]]
        assert refs, name
        for ref in refs:
            optional = ref.get("optional", False)
            assert optional is ref["name"].startswith("notify-"), (name, ref)
