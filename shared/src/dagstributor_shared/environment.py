"""Which environment this process serves, and whether it runs inside Kubernetes."""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum

ENVIRONMENT_VAR = "ENVIRONMENT"
# Set by the kubelet in every pod; the one signal that needs no import of the kubernetes client.
KUBERNETES_SERVICE_HOST_VAR = "KUBERNETES_SERVICE_HOST"


class Environment(StrEnum):
    DEV = "dev"
    STG = "stg"
    PROD = "prod"

    @property
    def namespace(self) -> str:
        return f"media-{self.value}"


class UnknownEnvironmentError(ValueError):
    """ENVIRONMENT is missing where it is required, or names no known environment."""


def in_kubernetes(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return bool(env.get(KUBERNETES_SERVICE_HOST_VAR))


def current_environment(environ: Mapping[str, str] | None = None) -> Environment:
    """Read ENVIRONMENT; required inside Kubernetes, `dev` on a workstation.

    A silent default once sent staging and production jobs into the dev namespace, so inside a
    cluster a missing value is an error rather than a guess.
    """
    env = os.environ if environ is None else environ
    raw = env.get(ENVIRONMENT_VAR, "").strip().lower()
    if not raw:
        if in_kubernetes(env):
            raise UnknownEnvironmentError(
                f"{ENVIRONMENT_VAR} must be set inside Kubernetes "
                f"(one of {', '.join(e.value for e in Environment)})"
            )
        return Environment.DEV
    try:
        return Environment(raw)
    except ValueError:
        raise UnknownEnvironmentError(
            f"{ENVIRONMENT_VAR}={raw!r} is not one of {', '.join(e.value for e in Environment)}"
        ) from None
