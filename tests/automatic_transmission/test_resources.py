"""Optional pipeline settings: defaults, variables read at run start, errors naming the variable."""

from __future__ import annotations

import pytest

from automatic_transmission.clients.reel_driver import ReelDriverResource
from automatic_transmission.filters import FilterSettings
from automatic_transmission.settings import PipelineSettings, SettingsError


def test_batch_size_defaults_to_fifty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AT_BATCH_SIZE", raising=False)
    assert PipelineSettings().rows_per_batch() == 50


def test_batch_size_comes_from_the_variable_and_an_explicit_field_wins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AT_BATCH_SIZE", "200")
    assert PipelineSettings().rows_per_batch() == 200
    assert PipelineSettings(batch_size=7).rows_per_batch() == 7


@pytest.mark.parametrize("value", ["0", "-3", "2.5", "lots"])
def test_a_bad_batch_size_is_an_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("AT_BATCH_SIZE", value)
    with pytest.raises(SettingsError, match="AT_BATCH_SIZE"):
        PipelineSettings().rows_per_batch()


def test_stale_metadata_threshold_must_not_be_negative(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AT_STALE_METADATA_THRESHOLD", "-1")
    with pytest.raises(SettingsError, match="AT_STALE_METADATA_THRESHOLD must be at least 0"):
        FilterSettings().stale_after_days()


def test_reel_driver_threshold_must_be_a_probability(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REEL_DRIVER_HOST", "127.0.0.1")
    monkeypatch.setenv("AT_REEL_DRIVER_THRESHOLD", "1.5")
    with pytest.raises(SettingsError, match="AT_REEL_DRIVER_THRESHOLD must be between 0 and 1"):
        ReelDriverResource().resolved_threshold()
