"""The example ConfigMaps and Secrets, the compose env file and the README's configuration
reference list exactly the settings the code reads (found in its source, see tests/support/deploy)."""

from __future__ import annotations

from typing import Any

from automatic_transmission.pipeline.run_tags import LIBRARY_VOLUMES
from tests.support.deploy import (
    BASE_CONFIGMAPS,
    COMPOSE_ENV,
    NOT_DEPLOYED,
    OVERLAYS,
    REPO_ROOT,
    SECRET_NAME,
    SECRETS_EXAMPLE,
    CodeSettings,
    by_kind,
    code_settings,
    data_keys,
    documents,
    env_file_keys,
    kustomize,
    readme_settings,
)

# Read by the code but never set in a deployment: the image sets the config folder, the embedded
# server exists only on a workstation, the schedule profile is the local stack's.
# In the README for a workstation only.
WORKSTATION_ONLY = {"DAGSTER_HOME"}
COMPOSE_ONLY = {
    "POSTGRES_PASSWORD",
    "AT_HOST_DOWNLOAD_DIR",
    "AT_HOST_MOVIE_DIR",
    "AT_HOST_TV_SHOW_DIR",
}


def configmaps() -> dict[str, set[str]]:
    found = {
        name: data_keys(cm) for name, cm in by_kind(documents(BASE_CONFIGMAPS), "ConfigMap").items()
    }
    assert found and all(found.values()), f"no ConfigMap with keys in {BASE_CONFIGMAPS}"
    return found


def secrets() -> dict[str, set[str]]:
    found = {name: data_keys(s) for name, s in example_secrets().items()}
    assert all(found.values()), f"a Secret without keys in {SECRETS_EXAMPLE}"
    return found


def example_secrets() -> dict[str, dict[str, Any]]:
    found = by_kind(documents(SECRETS_EXAMPLE), "Secret")
    assert found, f"no Secret in {SECRETS_EXAMPLE}"
    return found


def manifest_keys() -> set[str]:
    return {k for keys in (*configmaps().values(), *secrets().values()) for k in keys}


def deployable(settings: CodeSettings) -> CodeSettings:
    return CodeSettings(settings.names - NOT_DEPLOYED, settings.pgsql_prefixes)


def test_the_code_derived_list_sees_settings_of_every_kind() -> None:
    """The scan must find settings however the code reads them (EnvVar, constants, prefixes)."""
    settings = code_settings()
    assert {
        "ENVIRONMENT",
        "AT_RSS_URLS",
        "AT_MOVIE_SEARCH_API_KEY",
        "REEL_DRIVER_HOST",
    } <= settings.names
    assert settings.pgsql_prefixes == {"AT_PGSQL", "WST_PGSQL"}
    assert "WST_PGSQL_PASSWORD" in settings.read()


def test_every_setting_the_code_reads_is_in_an_example_configmap_or_secret() -> None:
    assert deployable(code_settings()).required_in(manifest_keys()) == set()


def test_every_configmap_and_secret_key_is_read_by_the_code_or_planned() -> None:
    stale = manifest_keys() - code_settings().read() - {"postgresql-password"}
    assert stale == set()


def test_every_setting_the_code_reads_is_in_the_readme_configuration_reference() -> None:
    readme = readme_settings((REPO_ROOT / "README.md").read_text())
    assert code_settings().required_in(readme) == set()
    assert (code_settings().names & NOT_DEPLOYED) <= readme


def test_every_configmap_and_secret_key_is_documented_unless_planned() -> None:
    readme = readme_settings((REPO_ROOT / "README.md").read_text())
    undocumented = manifest_keys() - readme - {"postgresql-password"}
    assert undocumented == set()
    assert readme - manifest_keys() - NOT_DEPLOYED - WORKSTATION_ONLY <= {"AT_PGSQL_HOST"}


def test_secrets_hold_the_secret_settings_and_configmaps_the_rest() -> None:
    for name, keys in secrets().items():
        assert all(SECRET_NAME.search(k) for k in keys), name
    for name, keys in configmaps().items():
        assert not any(SECRET_NAME.search(k) for k in keys), name


def test_example_secrets_carry_no_values() -> None:
    for secret in example_secrets().values():
        assert not secret.get("data"), secret["metadata"]["name"]
        assert set((secret.get("stringData") or {}).values()) == {""}, secret["metadata"]["name"]


def test_compose_env_file_has_the_same_settings_as_kubernetes() -> None:
    keys = env_file_keys(COMPOSE_ENV.read_text())
    assert keys - COMPOSE_ONLY == manifest_keys() - {"postgresql-password"}


def test_library_paths_in_the_configmap_are_where_the_transfer_pod_mounts_its_claims() -> None:
    at_config = by_kind(documents(BASE_CONFIGMAPS), "ConfigMap")["at-config"]["data"]
    assert LIBRARY_VOLUMES
    for volume in LIBRARY_VOLUMES:
        assert at_config[volume.setting] == volume.mount_path


def test_each_overlay_binds_the_transfer_claims_to_host_folders_and_sets_its_environment() -> None:
    claims = {v.claim for v in LIBRARY_VOLUMES}
    assert claims and OVERLAYS
    for env, _ in OVERLAYS.items():
        docs = documents(kustomize(env))
        pvcs = by_kind(docs, "PersistentVolumeClaim")
        pvs = by_kind(docs, "PersistentVolume")
        assert set(pvcs) == claims, env
        for claim, pvc in pvcs.items():
            assert pvc["metadata"]["namespace"] == f"media-{env}"
            pv = pvs[pvc["spec"]["volumeName"]]
            assert pv["spec"]["claimRef"] == {"namespace": f"media-{env}", "name": claim}
            assert pv["spec"]["hostPath"]["path"].startswith("/")
        assert by_kind(docs, "ConfigMap")["environment"]["data"] == {"ENVIRONMENT": env}
        namespace = by_kind(docs, "Namespace")[f"media-{env}"]
        assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
        assert {
            d["metadata"].get("namespace")
            for d in docs
            if d["kind"] not in ("Namespace", "PersistentVolume")
        } == {f"media-{env}"}
