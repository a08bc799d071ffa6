"""Settings are read one way in both locations: dagstributor_shared.settings."""

from __future__ import annotations

import pytest

import automatic_transmission.settings as at_settings
from dagstributor_shared import settings
from dagstributor_shared.pg_timeouts import TimeoutSettingsError, timeout_settings
from dagstributor_shared.postgres import DatabaseSettingsError

VAR = "DAGSTRIBUTOR_TEST_SETTING"


def test_the_location_reads_settings_with_the_shared_helper() -> None:
    for name in ("setting", "required_setting", "number_setting", "owner_id", "SettingsError"):
        assert getattr(at_settings, name) is getattr(settings, name)
    assert issubclass(DatabaseSettingsError, settings.SettingsError)
    assert issubclass(TimeoutSettingsError, settings.SettingsError)


@pytest.mark.parametrize(
    ("explicit", "environ", "expected"),
    [
        ("given", {VAR: "env"}, "given"),
        (None, {VAR: "env"}, "env"),
        (None, {VAR: ""}, "default"),
        (None, {}, "default"),
    ],
)
def test_explicit_then_variable_then_default(
    explicit: str | None, environ: dict[str, str], expected: str
) -> None:
    assert settings.setting(explicit, VAR, "default", environ) == expected


def test_os_environ_when_no_environment_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(VAR, "from os")
    assert settings.setting(None, VAR, "default") == "from os"


@pytest.mark.parametrize("raw", ["nan", "inf", "-inf", "many"])
def test_a_number_that_is_not_finite_names_the_variable(raw: str) -> None:
    with pytest.raises(settings.SettingsError, match=VAR):
        settings.number_setting(None, VAR, 1, 0, environ={VAR: raw})


def test_number_bounds_and_whole() -> None:
    assert settings.number_setting(None, VAR, 1, 0, environ={VAR: "2.5"}) == 2.5
    with pytest.raises(settings.SettingsError, match="whole"):
        settings.number_setting(None, VAR, 1, 0, whole=True, environ={VAR: "2.5"})
    with pytest.raises(settings.SettingsError, match="between 0 and 3"):
        settings.number_setting(None, VAR, 1, 0, 3, environ={VAR: "4"})


def test_required_setting_names_the_missing_variable() -> None:
    with pytest.raises(settings.SettingsError, match=f"{VAR} is not set"):
        settings.required_setting(None, VAR, {VAR: ""})


def test_the_database_timeouts_read_through_it() -> None:
    env = {"X_STATEMENT_TIMEOUT": "nan", "X_TCP_TIMEOUT": ""}
    with pytest.raises(TimeoutSettingsError, match="X_STATEMENT_TIMEOUT must be a number"):
        timeout_settings("X", environ=env)
    assert timeout_settings("X", {"tcp_timeout": 5}, {}).tcp_timeout == 5
