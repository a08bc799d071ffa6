"""deploy/, the Dockerfiles and the workflows, checked without a Docker engine or a cluster:
hadolint, `kubectl kustomize` + kubernetes-validate, and the vendored JSON schemas of
check-jsonschema (GitHub workflows, the compose spec). Each checker is first shown a broken input,
so a checker that passes everything cannot pass these tests."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.support.deploy import (
    DEPLOY,
    ENVIRONMENTS,
    REPO_ROOT,
    SECRETS_EXAMPLE,
    kustomize,
    run_tool,
)

DOCKERFILES = {
    "automatic_transmission": REPO_ROOT / "Dockerfile.at",
    "wiring_schema_tics": REPO_ROOT / "Dockerfile.wst",
}
WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))
COMPOSE = DEPLOY / "compose" / "compose.yaml"
KUBERNETES_VERSION = "1.33.0"  # an older supported release: nothing may need the newest API


def hadolint(*paths: Path) -> tuple[int, str]:
    result = run_tool("hadolint", "--no-color", *map(str, paths))
    return result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize("location", DOCKERFILES)
def test_dockerfile_is_clean_under_hadolint(location: str) -> None:
    code, output = hadolint(DOCKERFILES[location])
    assert code == 0, output


def test_hadolint_rejects_a_sloppy_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get install curl\nADD . /app\n")
    code, output = hadolint(bad)
    assert code != 0 and "DL3007" in output


@pytest.mark.parametrize("location", DOCKERFILES)
def test_image_holds_only_its_location_runs_as_a_numeric_user_and_has_no_entrypoint(
    location: str,
) -> None:
    text = DOCKERFILES[location].read_text()
    other = next(name for name in DOCKERFILES if name != location)
    copies = re.findall(r"^COPY (?!--from)(.*)$", text, flags=re.M)
    code_copies = [c for c in copies if "pyproject.toml" not in c]
    assert not any(other in c for c in code_copies), code_copies
    assert any(f"locations/{location}/" in c for c in code_copies)
    assert not any(word in c for c in copies for word in ("tests", "benchmarks", ".env")), copies
    assert re.search(r"^USER \d+:\d+$", text, flags=re.M)
    assert "ENTRYPOINT" not in text
    base = re.findall(r"^FROM (\S+)", text, flags=re.M)
    assert base and all(":" in b and not b.endswith(":latest") for b in base), base
    assert (
        f"uv sync --frozen --no-dev --no-install-workspace --package {location.replace('_', '-')}"
        in text
    )
    assert f'"{location}.definitions"' in text  # the CMD serves this location


def test_dockerignore_keeps_tests_benchmarks_and_local_state_out() -> None:
    ignored = set((REPO_ROOT / ".dockerignore").read_text().split())
    assert {"tests", "benchmarks", ".venv", ".local", ".git"} <= ignored


def kubernetes_validate(*paths: Path) -> tuple[int, str]:
    result = run_tool("kubernetes-validate", "--strict", "-k", KUBERNETES_VERSION, *map(str, paths))
    return result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_overlay_renders_and_every_manifest_is_valid_kubernetes(env: str, tmp_path: Path) -> None:
    rendered = tmp_path / f"{env}.yaml"
    rendered.write_text(kustomize(env))
    code, output = kubernetes_validate(rendered)
    assert code == 0, output
    assert output.count("passed for resource") >= 15, output


def test_example_secrets_and_dev_service_are_valid_kubernetes() -> None:
    code, output = kubernetes_validate(
        SECRETS_EXAMPLE, DEPLOY / "k8s/overlays/dev/webserver-nodeport.yaml"
    )
    assert code == 0, output


def test_kubernetes_validate_rejects_a_misspelled_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndatta: {A: b}\n")
    code, _ = kubernetes_validate(bad)
    assert code != 0


def check_jsonschema(schema: str, *paths: Path) -> tuple[int, str]:
    result = run_tool("check-jsonschema", "--builtin-schema", schema, *map(str, paths))
    return result.returncode, result.stdout + result.stderr


def test_workflows_are_valid_github_workflows() -> None:
    assert {p.name for p in WORKFLOWS} >= {"ci.yml", "image.yml"}
    code, output = check_jsonschema("vendor.github-workflows", *WORKFLOWS)
    assert code == 0, output


def test_workflow_schema_rejects_a_job_without_steps(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    stepz: []\n")
    assert check_jsonschema("vendor.github-workflows", bad)[0] != 0


def test_compose_file_is_valid_under_the_compose_spec(tmp_path: Path) -> None:
    code, output = check_jsonschema("vendor.compose-spec", COMPOSE)
    assert code == 0, output
    bad = tmp_path / "compose.yaml"
    bad.write_text(COMPOSE.read_text().replace("    healthcheck:", "    healthchek:", 1))
    assert check_jsonschema("vendor.compose-spec", bad)[0] != 0


def test_each_image_is_built_when_its_inputs_change_and_pushed_only_after_the_tests() -> None:
    ci = yaml.safe_load((REPO_ROOT / ".github/workflows/ci.yml").read_text())
    jobs = ci["jobs"]
    filter_step = next(s for s in jobs["changes"]["steps"] if s.get("id") == "filter")
    filters = yaml.safe_load(filter_step["with"]["filters"])
    inputs = {
        "automatic-transmission": {
            "locations/automatic_transmission/**",
            "config/**",
            "Dockerfile.at",
        },
        "wiring-schema-tics": {"locations/wiring_schema_tics/**", "Dockerfile.wst"},
    }
    for image, own in inputs.items():
        assert own | {"shared/**", "uv.lock"} <= set(filters[image]), image
        other = (
            "wiring_schema_tics" if image == "automatic-transmission" else "automatic_transmission"
        )
        assert not any(other in path for path in filters[image]), image
        job = jobs[f"image-{image}"]
        assert set(job["needs"]) == {"test", "changes"}
        assert job["if"] == f"needs.changes.outputs.{image} == 'true'"
        assert job["uses"] == "./.github/workflows/image.yml"
    assert "bash .ci/run" in [s.get("run") for s in jobs["test"]["steps"]]
    image_yml = (REPO_ROOT / ".github/workflows/image.yml").read_text()
    assert "${GITHUB_REF_NAME}" in image_yml and "sha-${GITHUB_SHA::7}" in image_yml
