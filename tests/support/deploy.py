"""What the deploy/ tests share: the files, YAML documents, the checkers of the dev group, and the
settings the code reads, found in its source so the list stays true as settings are added."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from dagstributor_shared.pg_timeouts import (
    IDLE_TIMEOUT_SUFFIX,
    STATEMENT_TIMEOUT_SUFFIX,
    TCP_TIMEOUT_SUFFIX,
)
from dagstributor_shared.postgres import HOST_SUFFIXES, SETTING_SUFFIXES
from tests.support.source import parse_file

# Optional per-prefix settings with defaults (pg_timeouts.py): read, never required.
TIMEOUT_SUFFIXES = (STATEMENT_TIMEOUT_SUFFIX, TCP_TIMEOUT_SUFFIX, IDLE_TIMEOUT_SUFFIX)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY = REPO_ROOT / "deploy"
ENVIRONMENTS = ("dev", "stg", "prod")
# Environment -> the branch it follows and the image tag it runs.
BRANCHES = {"dev": "dev", "stg": "stg", "prod": "main"}
OVERLAYS = {env: DEPLOY / "k8s" / "overlays" / env for env in ENVIRONMENTS}
SECRETS_EXAMPLE = DEPLOY / "k8s" / "secrets.example.yaml"
BASE_CONFIGMAPS = DEPLOY / "k8s" / "base" / "configmaps.yaml"
COMPOSE_ENV = DEPLOY / "compose" / "example.env"
TOOL_TIMEOUT = 120

# Location -> the source folders whose code runs in its image.
SOURCES = {
    "automatic_transmission": [
        REPO_ROOT / "shared/src",
        REPO_ROOT / "locations/automatic_transmission/src",
    ],
    "wiring_schema_tics": [
        REPO_ROOT / "shared/src",
        REPO_ROOT / "locations/wiring_schema_tics/src",
    ],
}
# Variable names of this project: a string literal in the code spelled like one is a setting.
SETTING_NAME = re.compile(
    r"^(ENVIRONMENT|DAGSTER_WEBSERVER_URL|(AT|WST|TRANSMISSION|REEL_DRIVER|PLEX|DAGSTRIBUTOR)_[A-Z0-9_]+)$"
)
# A literal `<X>_PGSQL` is a PostgresResource prefix: the code reads `<X>_PGSQL_<suffix>`.
PGSQL_PREFIX = re.compile(r"^[A-Z]+_PGSQL$")
# AT_NOTIFY_URLS, WST_NOTIFY_URLS: Apprise URLs carry the targets' tokens in their paths.
SECRET_NAME = re.compile(
    r"(PASSWORD|API_KEY|TOKEN|SECRET)$|^postgresql-password$|^(AT|WST)_NOTIFY_URLS$|^AT_TORZNAB_URLS$|^AT_WATCHLIST_URLS$"
)


# Settings that only a workstation or a test sets: never in a ConfigMap or a Secret.
NOT_DEPLOYED = frozenset(
    {"DAGSTRIBUTOR_CONFIG_DIR", "DAGSTRIBUTOR_PGDATA", "DAGSTRIBUTOR_SCHEDULES"}
)


def tool(name: str) -> str:
    """A console script of the dev group (installed by `uv sync` next to this interpreter)."""
    path = Path(sys.executable).parent / name
    assert path.exists(), f"{name} is missing: run `uv sync` (it is in the dev dependency group)"
    return str(path)


def run_tool(name: str, *args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool(name), *args], cwd=cwd, capture_output=True, text=True, timeout=TOOL_TIMEOUT
    )


def documents(path: Path | str) -> list[dict[str, Any]]:
    text = path.read_text() if isinstance(path, Path) else path
    return [doc for doc in yaml.safe_load_all(text) if doc]


def kustomize(env: str) -> str:
    result = run_tool("kubectl", "kustomize", str(OVERLAYS[env]))
    assert result.returncode == 0, result.stderr
    return result.stdout


def by_kind(docs: Iterable[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def data_keys(resource: dict[str, Any]) -> set[str]:
    return set(resource.get("data") or {}) | set(resource.get("stringData") or {})


@dataclass(frozen=True)
class CodeSettings:
    """What one location's code reads: `names` read directly, `pgsql_prefixes` expanded below."""

    names: frozenset[str]
    pgsql_prefixes: frozenset[str]

    def read(self) -> set[str]:
        """Every variable the code may read (each host spelling, every suffix)."""
        return set(self.names) | {
            f"{p}_{s}"
            for p in self.pgsql_prefixes
            for s in (*HOST_SUFFIXES, *SETTING_SUFFIXES, *TIMEOUT_SUFFIXES)
        }

    def required_in(self, keys: set[str]) -> set[str]:
        """What `keys` lacks: each name, and per prefix one host spelling and the connection
        settings (the schema suffix is optional: only the pipeline uses it, with a default)."""
        missing = set(self.names) - keys
        for prefix in self.pgsql_prefixes:
            if not any(f"{prefix}_{s}" in keys for s in HOST_SUFFIXES):
                missing.add(f"{prefix}_{HOST_SUFFIXES[0]}")
            missing |= {f"{prefix}_{s}" for s in SETTING_SUFFIXES if s != "SCHEMA"} - keys
        return missing


def code_settings(location: str | None = None) -> CodeSettings:
    """Settings the code of one location (or of both) spells out as string literals."""
    folders = SOURCES[location] if location else {f for fs in SOURCES.values() for f in fs}
    names: set[str] = set()
    prefixes: set[str] = set()
    for folder in folders:
        for path in sorted(Path(folder).rglob("*.py")):
            for node in ast.walk(parse_file(path)):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    if PGSQL_PREFIX.match(node.value):
                        prefixes.add(node.value)
                    elif SETTING_NAME.match(node.value):
                        names.add(node.value)
    return CodeSettings(frozenset(names), frozenset(prefixes))


def readme_settings(readme: str) -> set[str]:
    """Variables of the README's configuration reference: `ENVIRONMENT` and the first cell of
    every table row; `_PORT` after `X_PGSQL_HOST` is `X_PGSQL_PORT`."""
    section = readme.split("## Configuration reference", 1)[1].split("\n## ", 1)[0]
    names = {"ENVIRONMENT"} if "`ENVIRONMENT`" in section else set()
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        previous = ""
        for token in re.findall(r"`([A-Z0-9_]+)`", line.split("|")[1]):
            if token.startswith("_"):
                names.add(previous.rsplit("_", 1)[0] + token)
            else:
                names.add(token)
                previous = token
    return names


def env_file_keys(text: str) -> set[str]:
    return {
        line.split("=", 1)[0].strip()
        for line in text.splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    }
