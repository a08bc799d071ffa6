"""TrainingStore: upsert by imdb_id (human labels untouched), fresh lookups, labels; one round trip."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from automatic_transmission.model import (
    LabelType,
    MediaRow,
    MediaType,
    PipelineStatus,
    TrainingRecord,
)
from automatic_transmission.pipeline.steps.metadata_collection import match_stored
from automatic_transmission.store.training import TrainingStore
from tests.support.roundtrips import CountingConnection
from tests.support.steps import age_training, media_row


def record(n: int, **kw: object) -> TrainingRecord:
    values: dict[str, object] = {
        "imdb_id": f"tt{n:07d}",
        "tmdb_id": n,
        "media_type": MediaType.MOVIE,
        "media_title": f"Title {n}",
        "release_year": 2000 + n % 20,
        "genre": ("Drama", "Science Fiction"),
        "production_countries": ("US", "GB"),
        "spoken_languages": ("en",),
        "original_language": "en",
        "imdb_rating": 71.0,
        "imdb_votes": 1000,
        "tmdb_rating": 7.123,
        **kw,
    }
    return TrainingRecord(**values)  # type: ignore[arg-type]


def movie(title: str, year: int | None, **kw: Any) -> MediaRow:
    return media_row(PipelineStatus.FILE_ACCEPTED, media_title=title, release_year=year, **kw)


def sql(conn: CountingConnection, query: str) -> list[tuple[object, ...]]:
    with conn.cursor() as cursor:
        cursor.execute(query)
        rows = cursor.fetchall() if cursor.description else []
    conn.commit()
    return rows


def test_upsert_inserts_then_refreshes_by_imdb_id(db_connection: CountingConnection) -> None:
    store = TrainingStore(db_connection)
    assert store.upsert_metadata([record(1), record(2)]) == 2
    store.upsert_metadata([record(1, media_title="Renamed", imdb_votes=2000)])
    titles = store.titles(["tt0000001", "tt0000002"])
    assert titles["tt0000001"].record.media_title == "Renamed"
    assert titles["tt0000001"].record.imdb_votes == 2000
    assert titles["tt0000001"].record.genre == ("Drama", "Science Fiction")
    assert titles["tt0000002"].record == record(2)


def test_upsert_never_touches_human_labeled_rows(db_connection: CountingConnection) -> None:
    store = TrainingStore(db_connection)
    store.upsert_metadata([record(1)])
    sql(db_connection, "UPDATE atp.training SET (human_labeled, label) = (true, 'would_watch')")
    assert store.upsert_metadata([record(1, media_title="Changed")]) == 0
    assert store.titles(["tt0000001"])["tt0000001"].record.media_title == "Title 1"


def test_media_type_comes_from_the_record_not_from_what_was_stored(
    db_connection: CountingConnection,
) -> None:
    store = TrainingStore(db_connection)
    store.upsert_metadata([record(1, media_type=MediaType.TV_SEASON)])
    store.upsert_metadata([record(1, media_type=MediaType.TV_EPISODE_PACK)])
    assert store.titles(["tt0000001"])["tt0000001"].record.media_type is MediaType.TV_EPISODE_PACK


def test_a_tmdb_id_held_by_another_title_is_not_taken(db_connection: CountingConnection) -> None:
    """TMDB's movie and TV ids overlap but training.tmdb_id is unique: the batch must not fail."""
    store = TrainingStore(db_connection)
    store.upsert_metadata([record(1, tmdb_id=1399)])
    show = record(2, tmdb_id=1399, media_type=MediaType.TV_SHOW)
    clash_in_batch = [record(3, tmdb_id=77), record(4, tmdb_id=77)]
    assert store.upsert_metadata([show, *clash_in_batch]) == 3
    titles = store.titles(["tt0000002", "tt0000003", "tt0000004"])
    assert titles["tt0000002"].record.tmdb_id is None
    assert (titles["tt0000003"].record.tmdb_id, titles["tt0000004"].record.tmdb_id) == (77, None)


def test_values_that_do_not_fit_the_columns_are_fitted_not_fatal(
    db_connection: CountingConnection,
) -> None:
    store = TrainingStore(db_connection)
    odd = record(
        5, media_title="x" * 400, genre=("A very long genre name indeed",), budget=-1,
        origin_country=("USA", "FR"), original_language="eng", rt_score=140, season=40000,
        production_status="y" * 40,
    )  # fmt: skip
    assert store.upsert_metadata([odd]) == 1
    got = store.titles(["tt0000005"])["tt0000005"].record
    assert len(got.media_title) == 255 and got.genre == ("A very long genre na",)
    assert (got.budget, got.origin_country, got.original_language) == (None, ("FR",), None)
    assert (got.rt_score, got.season) == (None, None)


def test_nul_characters_odd_codes_and_out_of_range_ids_are_fitted_not_fatal(
    db_connection: CountingConnection,
) -> None:
    store = TrainingStore(db_connection)
    odd = record(
        6, media_title="Ti\x00tle", overview="Once\x00 upon", tagline="t\x00",
        genre=("Dra\x00ma",), production_companies=("A\x00CME",), tmdb_id=2**31,
        origin_country=("\x00\x00", "12", "FR"), original_language="e\x00",
    )  # fmt: skip
    assert store.upsert_metadata([odd]) == 1
    got = store.titles(["tt0000006"])["tt0000006"].record
    assert (got.media_title, got.overview, got.tagline) == ("Title", "Once upon", "t")
    assert (got.genre, got.production_companies) == (("Drama",), ("ACME",))
    assert (got.tmdb_id, got.origin_country, got.original_language) == (None, ("FR",), None)


def test_fresh_lookup_by_tmdb_id_or_year_skips_stale_rows_but_not_human_labeled_ones(
    db_connection: CountingConnection,
) -> None:
    store = TrainingStore(db_connection)
    store.upsert_metadata(
        [record(1), record(2, media_title="The Matrix", release_year=1999), record(3), record(4)]
    )
    sql(db_connection, "UPDATE atp.training SET human_labeled = true WHERE imdb_id = 'tt0000004'")
    age_training(db_connection, ["tt0000003", "tt0000004"], days=40)
    rows = [movie("x", None, tmdb_id=n) for n in (1, 3, 4)]
    found = store.fresh_metadata([*rows, movie("the matrix!", 1999)], 30)
    assert sorted(t.record.imdb_id for t in found) == ["tt0000001", "tt0000002", "tt0000004"]


# Stored title, and how a release names it: Latin, accented, Cyrillic, CJK, and their mix.
SPELLINGS = [
    ("The Matrix: Reloaded", "the matrix reloaded"),
    ("Amélie", "AMELIE"),
    ("Брат", "брат"),
    ("Брат 2", "БРАТ. 2"),
    ("鬼滅の刃", "鬼滅の刃"),
    ("進撃の巨人", "進撃の巨人!"),
]


@pytest.mark.parametrize(("stored", "released"), SPELLINGS)
def test_stored_metadata_is_found_and_matched_in_every_script(
    db_connection: CountingConnection, stored: str, released: str
) -> None:
    store = TrainingStore(db_connection)
    titles = [record(n, media_title=t, release_year=2001) for n, (t, _) in enumerate(SPELLINGS, 1)]
    store.upsert_metadata(titles)
    for year in (2001, None):  # with the row's year, and without one
        row = movie(released, year)
        found = match_stored(row, store.fresh_metadata([row], 30))
        assert found is not None and found.record.media_title == stored


def test_a_title_stored_for_another_year_or_kind_is_not_matched(
    db_connection: CountingConnection,
) -> None:
    store = TrainingStore(db_connection)
    store.upsert_metadata([record(1, media_title="Брат", release_year=1997)])
    for row in (movie("Брат", 2000), movie("Брат", None, media_type=MediaType.TV_SHOW)):
        assert match_stored(row, store.fresh_metadata([row], 30)) is None


def test_labels_are_written_except_to_human_labeled_rows(db_connection: CountingConnection) -> None:
    store = TrainingStore(db_connection)
    store.upsert_metadata([record(1), record(2), record(3)])
    sql(
        db_connection,
        "UPDATE atp.training SET human_labeled = true, label = 'would_watch' "
        "WHERE imdb_id = 'tt0000002'",
    )
    sql(db_connection, "UPDATE atp.training SET anomalous = true WHERE imdb_id = 'tt0000003'")
    changed = store.write_labels(
        {"tt0000001": LabelType.WOULD_NOT_WATCH, "tt0000002": LabelType.WOULD_NOT_WATCH}
    )
    assert changed == 1
    titles = store.titles(["tt0000001", "tt0000002", "tt0000003"])
    assert titles["tt0000001"].record == record(1)
    assert titles["tt0000001"].label is LabelType.WOULD_NOT_WATCH
    assert titles["tt0000002"].label is LabelType.WOULD_WATCH and titles["tt0000002"].human_labeled
    assert titles["tt0000003"].anomalous and titles["tt0000003"].label is None


@pytest.mark.parametrize("size", [1, 50, 500])
def test_each_method_costs_the_same_round_trips_whatever_the_batch_size(
    db_connection: CountingConnection, size: int
) -> None:
    store = TrainingStore(db_connection)
    records = [record(n) for n in range(1, size + 1)]
    with db_connection.counting() as upsert:
        store.upsert_metadata(records)
    with db_connection.counting() as lookup:
        store.fresh_metadata([movie(r.media_title, r.release_year) for r in records], 30)
    with db_connection.counting() as labels:
        store.write_labels({r.imdb_id: LabelType.WOULD_WATCH for r in records})
    with db_connection.counting() as read:
        store.titles([r.imdb_id for r in records])
    assert (upsert.value, lookup.value, labels.value, read.value) == (3, 3, 3, 3)


def test_a_stored_record_reads_back_equal(db_connection: CountingConnection) -> None:
    store = TrainingStore(db_connection)
    full = replace(record(9), overview="Plot.", tagline="Tag.", rt_score=88, metascore=70)
    store.upsert_metadata([full])
    assert store.titles(["tt0000009"])["tt0000009"].record == full
