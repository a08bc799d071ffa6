"""Plex refresh: a partial scan of the section holding each changed folder; Plex down is logged."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from automatic_transmission.clients.plex import (
    PlexResource,
    Section,
    changed_folders,
    refresh_plex,
    section_for,
)
from tests.support.plex import PLEX_TOKEN, FakePlex, fake_plex
from tests.support.processes import free_port

SECTIONS = {
    "1": ("movie", "Movies", ["/library/movies"]),
    "2": ("show", "TV Shows", ["/library/tv", "/mnt/more-tv"]),
}


@pytest.fixture
def plex() -> Iterator[FakePlex]:
    with fake_plex(SECTIONS) as server:
        yield server


def test_changed_folders_are_the_files_folders_once_each() -> None:
    assert changed_folders([
        "/library/movies/Blade Runner (1982)/Blade Runner (1982).mkv",
        "/library/movies/Blade Runner (1982)/Blade Runner (1982).en.srt",
        "/library/tv/Severance (2022)/Season 02",
        "/library/tv/Severance (2022)/Season 02/",
        "/library/movies/Dr. Strangelove (1964)",  # a dot in a folder's name is no extension
        "",
    ]) == [
        "/library/movies/Blade Runner (1982)",
        "/library/movies/Dr. Strangelove (1964)",
        "/library/tv/Severance (2022)/Season 02",
    ]  # fmt: skip


def test_the_section_is_the_longest_location_holding_the_folder_path_wise() -> None:
    sections = [
        Section("1", "Movies", ("/library/movies",)),
        Section("3", "Kids", ("/library/movies/kids",)),
    ]
    assert section_for("/library/movies/kids/Up (2009)", sections) == sections[1]
    assert section_for("/library/movies/Up (2009)", sections) == sections[0]
    assert section_for("/library/movies-old/Up (2009)", sections) is None  # not a prefix match


def test_each_changed_folder_gets_a_partial_scan_of_its_section(plex: FakePlex) -> None:
    report = refresh_plex(
        [
            "/library/movies/Blade Runner (1982)/Blade Runner (1982).mkv",
            "/mnt/more-tv/Severance (2022)/Season 02/Severance S02E05.mkv",
            "/elsewhere/Film (2020)/Film (2020).mkv",
        ],
        environ={"PLEX_URL": plex.url, "PLEX_TOKEN": PLEX_TOKEN},
    )
    assert report is not None and report.error is None
    assert plex.scans() == [
        ("1", "/library/movies/Blade Runner (1982)"),
        ("2", "/mnt/more-tv/Severance (2022)/Season 02"),
    ]
    assert report.unmatched == ["/elsewhere/Film (2020)"]


def test_without_plex_url_nothing_is_asked(plex: FakePlex) -> None:
    assert refresh_plex(["/library/movies/a/a.mkv"], environ={"PLEX_TOKEN": PLEX_TOKEN}) is None
    assert plex.server.requests == []


def test_plex_down_is_logged_and_never_raised(caplog: pytest.LogCaptureFixture) -> None:
    environ = {"PLEX_URL": f"http://127.0.0.1:{free_port()}", "PLEX_TOKEN": PLEX_TOKEN}
    with caplog.at_level(logging.WARNING):
        report = refresh_plex(["/library/movies/a/a.mkv"], environ=environ)
    assert report is not None and report.error is not None and "ConnectionError" in report.error
    assert "not refreshed" in caplog.text
    assert PLEX_TOKEN not in caplog.text


def test_a_refused_token_is_logged_without_the_token(
    plex: FakePlex, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        refresher = PlexResource(url=plex.url, token="wrong-token-456").refresher()
        assert refresher is not None
        result = refresher.refresh(["/library/movies/a/a.mkv"])
    assert result.error is not None and "Unauthorized" in result.error
    assert "wrong-token-456" not in caplog.text and "wrong-token-456" not in result.error
    assert plex.scans() == []
