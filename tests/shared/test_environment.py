"""ENVIRONMENT rules: required inside Kubernetes, `dev` on a workstation."""

from __future__ import annotations

import pytest

from dagstributor_shared.environment import (
    Environment,
    UnknownEnvironmentError,
    current_environment,
    in_kubernetes,
)

IN_POD = {"KUBERNETES_SERVICE_HOST": "10.43.0.1"}


def test_workstation_defaults_to_dev() -> None:
    assert current_environment({}) is Environment.DEV


@pytest.mark.parametrize("value", ["dev", "stg", "prod", " PROD "])
def test_known_values_are_accepted_anywhere(value: str) -> None:
    expected = Environment(value.strip().lower())
    assert current_environment({"ENVIRONMENT": value}) is expected
    assert current_environment({"ENVIRONMENT": value, **IN_POD}) is expected


def test_missing_inside_kubernetes_is_an_error_not_a_silent_dev() -> None:
    with pytest.raises(UnknownEnvironmentError, match="ENVIRONMENT must be set inside Kubernetes"):
        current_environment(IN_POD)


def test_unknown_value_is_an_error_naming_it() -> None:
    with pytest.raises(UnknownEnvironmentError, match="'production' is not one of dev, stg, prod"):
        current_environment({"ENVIRONMENT": "production"})


def test_namespace_follows_the_environment() -> None:
    assert [e.namespace for e in Environment] == ["media-dev", "media-stg", "media-prod"]


def test_kubernetes_is_detected_from_the_service_host_variable() -> None:
    assert in_kubernetes(IN_POD)
    assert not in_kubernetes({})
