"""Settings of steps 02 and 07-10 (README): read when a run starts, errors naming the variable."""

from __future__ import annotations

import pytest

from automatic_transmission.clients.transmission import TransmissionResource
from automatic_transmission.library.files import LibrarySettings
from automatic_transmission.pipeline.steps.cleanup import CleanupSettings
from automatic_transmission.settings import SettingsError


@pytest.fixture
def library_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for var, folder in (("AT_DOWNLOAD_DIR", "d"), ("AT_MOVIE_DIR", "m"), ("AT_TV_SHOW_DIR", "t")):
        monkeypatch.setenv(var, str(tmp_path / folder))
    for var in ("AT_UID", "AT_GID", "AT_LIBRARY_NAMING"):
        monkeypatch.delenv(var, raising=False)


def test_transmission_host_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRANSMISSION_HOST", raising=False)
    with pytest.raises(SettingsError, match="TRANSMISSION_HOST is not set"):
        TransmissionResource().client()


@pytest.mark.parametrize("port", ["0", "70000", "ninety"])
def test_a_bad_transmission_port_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, port: str
) -> None:
    monkeypatch.setenv("TRANSMISSION_HOST", "127.0.0.1")
    monkeypatch.setenv("TRANSMISSION_PORT", port)
    with pytest.raises(SettingsError, match="TRANSMISSION_PORT"):
        TransmissionResource().client()


def test_library_settings_come_from_the_variables(library_env: None, monkeypatch) -> None:
    monkeypatch.setenv("AT_UID", "1000")
    monkeypatch.setenv("AT_LIBRARY_NAMING", "slug")
    library = LibrarySettings().library()
    assert (library.uid, library.gid, library.naming.preset) == (1000, None, "slug")
    assert library.movie_dir.endswith("/m")


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        ("AT_UID", "-1", "AT_UID must be"),
        ("AT_GID", "staff", "AT_GID must be a number"),
        ("AT_LIBRARY_NAMING", "kodi", "no naming preset 'kodi'"),
        ("AT_MOVIE_DIR", "", "AT_MOVIE_DIR is not set"),
    ],
)
def test_a_bad_library_setting_is_an_error_naming_it(
    library_env: None, monkeypatch: pytest.MonkeyPatch, var: str, value: str, message: str
) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(ValueError, match=message):
        LibrarySettings().library()


def test_cleanup_defaults_and_negative_delays(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in (
        "AT_TARGET_ACTIVE_ITEMS",
        "AT_TRANSFERRED_ITEM_CLEANUP_DELAY",
        "AT_HUNG_ITEM_CLEANUP_DELAY",
    ):
        monkeypatch.delenv(var, raising=False)
    delays = CleanupSettings().delays()
    assert (delays.target_active_items, delays.transferred_days, delays.hung_days) == (10, 0, 1)
    monkeypatch.setenv("AT_TRANSFERRED_ITEM_CLEANUP_DELAY", "-0.5")
    with pytest.raises(SettingsError, match="AT_TRANSFERRED_ITEM_CLEANUP_DELAY must be at least 0"):
        CleanupSettings().delays()
    monkeypatch.setenv("AT_TRANSFERRED_ITEM_CLEANUP_DELAY", "0.5")
    monkeypatch.setenv("AT_TARGET_ACTIVE_ITEMS", "0")
    with pytest.raises(SettingsError, match="AT_TARGET_ACTIVE_ITEMS"):
        CleanupSettings().delays()
