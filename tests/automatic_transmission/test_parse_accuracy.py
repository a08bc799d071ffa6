"""The parser's per-field accuracy on the dev and extra sets must not fall below today's level."""

from __future__ import annotations

import pytest

from tests.support.release_names import (
    DEV_SET,
    EXTRA_SET,
    FIELDS,
    HELDOUT_SET,
    ROUND2_SET,
    ROUND3_SET,
    Score,
    scored,
)

# Issue 9 (numbering rules): episode 0.9972 -> 0.9930 on purpose: three parsett rows read
# "[Cap.1103]" as episode 1103, the issue (and guessit) read it as S11E03. Year 0.9964 ->
# 0.9982. Measured before the generalisation work: title 0.9665, title_ci 0.9665, year 0.9964,
# season 0.9969, episode 0.9972, resolution 0.9964, media_type 0.9804. Title is now 0.9617:
# dotted acronyms are kept in dotted names ("S.W.A.T.2017.S08E01" -> "S.W.A.T."), which
# parsett's own suite spells "S W A T" (5 dev rows). Then 0.9776 after the leading-word,
# edition/genre/a.k.a., ellipsis and abbreviation-dot rules. Floors sit just below; raise
# them when accuracy rises.
FLOORS = {
    "title": 0.97,
    "title_ci": 0.97,
    "year": 0.99,
    "season": 0.99,
    "episode": 0.99,
    "resolution": 0.99,
    "media_type": 0.975,
}


@pytest.fixture(scope="module")
def dev_score() -> Score:
    return scored(DEV_SET, at_least=801, typed=False)


def test_every_scored_field_has_a_floor() -> None:
    assert set(FLOORS) == set(FIELDS)


def _assert_above_floor(result: Score, field: str, floor: float) -> None:
    accuracy = result.accuracy(field)
    misses = "\n".join(f"  {n!r}: want {w!r} got {g!r}" for n, w, g in result.failures[field][:15])
    assert accuracy >= floor, f"{field} accuracy {accuracy:.4f} < {floor}\n{misses}"


@pytest.mark.parametrize("field", FIELDS)
def test_field_accuracy_stays_above_floor(dev_score: Score, field: str) -> None:
    _assert_above_floor(dev_score, field, FLOORS[field])


# The hand-written extra set (numbers in titles, anime, packs, daily shows, foreign season
# words, Sonarr/Radarr file names). Measured: title 0.9959, year 1.0, season 0.9959, episode
# 0.9959, resolution 1.0, media_type 0.9959 (the one miss: "Lost.102" as S01E02).
# 88 rows added (source "dagstributor-r2": prefixes, country tags, punctuation, editions,
# a.k.a., season words, three-digit episodes) scored title 0.75 before the rules written for
# them; the whole set now: title 0.9970, season 0.9970, episode 0.9940, media_type 0.9970,
# year/resolution 1.0 (misses: "Firefly - 101 - Serenity", "John.Adams.Part.II").
# 176 rows added (source "dagstributor-r3": CAM/TS/TC, full discs, web sources, site
# prefixes/suffixes, samples, diacritics, apostrophes, tag-like and one-word titles, numbers
# as words, year-less titles with numbers, episode-number styles, complete series, anime
# batches, sports). Before any rule written for them (ours / guessit / parsett): title
# 0.9824 / 0.8941 / 0.9647, year 0.9886 / 0.9602 / 0.9659, season 1.0 / 0.9655 / 1.0,
# episode 0.9830 / 0.9716 / 0.9830, resolution 1.0 / 0.9886 / 0.9943, media_type
# 0.9716 / 0.9773 / 0.9489. The whole 510-row set after: title 0.9960, year 0.9980, season
# 0.9980, episode 0.9961, resolution 1.0, media_type 0.9980 (misses: "Firefly - 101",
# "John.Adams.Part.II", "2001.A.Space.Odyssey.1080p" with no year, which the dev set's
# "2008 The Incredible Hulk" row forbids reading as title). Dev set unchanged except
# media_type 0.9804 -> 0.9778: two "Complete Series" rows whose movie kind is only derived
# from an absent season; a complete series is TV.
EXTRA_FLOORS = {
    "title": 0.995,
    "title_ci": 0.995,
    "year": 0.995,
    "season": 0.995,
    "episode": 0.995,
    "resolution": 0.995,
    "media_type": 0.995,
}


@pytest.fixture(scope="module")
def extra_score() -> Score:
    return scored(EXTRA_SET, at_least=150)


def test_every_scored_field_has_an_extra_floor() -> None:
    assert set(EXTRA_FLOORS) == set(FIELDS)


@pytest.mark.parametrize("field", FIELDS)
def test_extra_set_accuracy_stays_above_floor(extra_score: Score, field: str) -> None:
    _assert_above_floor(extra_score, field, EXTRA_FLOORS[field])


# The issue-9 set: 172 invented names in the eight numbering families plus movie controls,
# written and scored before its rules (ours / guessit / parsett): title 0.7849 / 0.9593 /
# 0.7093, year 0.9419 / 0.7965 / 0.8663, season 0.7882 / 0.9529 / 0.7412, episode 0.5647 /
# 0.9765 / 0.5000, resolution 0.9884 / 1.0 / 0.9884, media_type 0.6919 / 1.0 / 0.5640.
# After the rules in parsing/numbering.py: 1.0 on every field. The floors leave room for a
# rule traded for generality elsewhere, not for a family falling back.
HELDOUT_FLOORS = dict.fromkeys(FIELDS, 0.98)


@pytest.fixture(scope="module")
def heldout_score() -> Score:
    return scored(HELDOUT_SET, at_least=150)


def test_every_scored_field_has_a_heldout_floor() -> None:
    assert set(HELDOUT_FLOORS) == set(FIELDS)


@pytest.mark.parametrize("field", FIELDS)
def test_heldout_set_accuracy_stays_above_floor(heldout_score: Score, field: str) -> None:
    _assert_above_floor(heldout_score, field, HELDOUT_FLOORS[field])


# Issue 9 round two: 260 invented names across the shapes other projects' parser suites hold
# (Sonarr-style names, anime fansubs, season packs, multi-episode, daily shows, specials,
# numbers in titles, foreign numbering, file paths, site prefixes, odd separators, country
# and year tags, editions/REMUX/3D/HDR, resolution spellings). Written and scored before
# any rule was changed for them (ours / guessit / parsett): title 0.9462 / 0.9769 / 0.9077,
# year 1.0 / 0.9498 / 0.9537, season 0.9962 / 0.9846 / 0.9731, episode 0.9846 / 0.9923 /
# 0.9308, resolution 1.0 / 0.9885 / 0.9885, media_type 0.9885 / 0.9962 / 0.9077.
# After the path, title-before-marker, joined-marker, 3D and Batch/OVA rules: title 0.9962,
# season 0.9962, 1.0 on the rest (the one miss: "[Group] Title 3 - 07" read as season 3 by
# the older fansub-season rule). Those after-figures are no longer held-out: rules were
# written against this set's misses; its before-figures are the honest measure.
ROUND2_FLOORS = dict.fromkeys(FIELDS, 0.99)


@pytest.fixture(scope="module")
def round2_score() -> Score:
    return scored(ROUND2_SET, at_least=200)


def test_every_scored_field_has_a_round2_floor() -> None:
    assert set(ROUND2_FLOORS) == set(FIELDS)


@pytest.mark.parametrize("field", FIELDS)
def test_round2_set_accuracy_stays_above_floor(round2_score: Score, field: str) -> None:
    _assert_above_floor(round2_score, field, ROUND2_FLOORS[field])


# Issue 9 round three: 236 invented names in the shapes that make titles hard (paths with
# show/season folders, Windows paths, dashes, apostrophes, ampersands, numbers and roman
# numerals, dotted acronyms, non-English and native-script titles, fansub brackets, site
# prefixes, AKA, episode titles after the code, dashed group suffixes, lowercase scene names,
# release tags, trailing site tags). Written and scored before any rule was changed for them
# (ours / guessit / parsett): title 0.9619 / 0.9237 / 0.8220, title_ci 0.9703 / 0.9280 /
# 0.8220, year 0.9915 / 0.9958 / 0.9915, season 1.0 / 0.9915 / 1.0, episode 0.9958 / 1.0 /
# 0.9703, resolution 1.0 / 0.9958 / 1.0, media_type 0.9958 / 0.9958 / 0.9788.
# After the folder-title, leading-tag, bracket/bar, CJK-marker and episode-title-year rules:
# title 0.9958, 1.0 on the rest (the one miss: "Copper.Dawn.Trilogy.2019-2021", which
# guessit and parsett miss too). Those after-figures are no longer held-out.
ROUND3_FLOORS = dict.fromkeys(FIELDS, 0.99)


@pytest.fixture(scope="module")
def round3_score() -> Score:
    return scored(ROUND3_SET, at_least=200)


def test_every_scored_field_has_a_round3_floor() -> None:
    assert set(ROUND3_FLOORS) == set(FIELDS)


@pytest.mark.parametrize("field", FIELDS)
def test_round3_set_accuracy_stays_above_floor(round3_score: Score, field: str) -> None:
    _assert_above_floor(round3_score, field, ROUND3_FLOORS[field])
