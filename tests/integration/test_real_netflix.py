"""The real Netflix Prize excerpt and title list from ../shared/data (skipped when absent)."""

from __future__ import annotations

import shutil

import pytest

from movierec.ingest import ingest
from tests.conftest import needs, query, shared

EXCERPTS = shared("netflix-prize", "excerpts")
TITLES = shared("netflix-prize", "movie_titles.txt")
EXPECTED = {"ratings": 42_813, "movie_1": 547, "movie_8": 14_910, "movie_18": 10_722}


def counts(warehouse):
    total, movies = query(warehouse, "select count(*), count(distinct movie_id) from raw.ratings")[0]
    per_movie = dict(query(warehouse, "select movie_id, count(*) from raw.ratings group by movie_id"))
    return total, movies, per_movie


@needs(EXCERPTS)
@pytest.mark.parametrize("layout", ["combined_data", "training_set"])
def test_excerpt_gives_the_known_counts_from_both_layouts(tmp_path, layout):
    folder = tmp_path / "netflix"
    folder.mkdir()
    if layout == "combined_data":
        shutil.copy(EXCERPTS / "combined_data_1_head.txt", folder / "combined_data_1.txt")
    else:
        shutil.copytree(EXCERPTS / "training_set", folder / "training_set")
    summary = ingest(folder, warehouse=tmp_path / "w.duckdb", quiet=True)
    total, movies, per_movie = counts(tmp_path / "w.duckdb")
    assert summary["variant"] == layout
    assert (total, movies) == (EXPECTED["ratings"], 20)
    assert (per_movie[1], per_movie[8], per_movie[18]) == (547, 14_910, 10_722)
    assert summary["rejected"] == 0 and summary["duplicates"] == 0
    assert summary["headers"] == 20 and summary["lines"] == 42_833


@needs(EXCERPTS)
def test_both_layouts_hold_identical_ratings(tmp_path):
    results = []
    for layout in ("combined", "training"):
        folder = tmp_path / layout
        folder.mkdir()
        if layout == "combined":
            shutil.copy(EXCERPTS / "combined_data_1_head.txt", folder / "combined_data_1.txt")
        else:
            shutil.copytree(EXCERPTS / "training_set", folder / "training_set")
        ingest(folder, warehouse=folder / "w.duckdb", quiet=True)
        results.append(
            query(folder / "w.duckdb", "select movie_id, user_id, rating, rated_on from raw.ratings order by all")
        )
    assert results[0] == results[1]


@needs(TITLES)
def test_title_list_gives_17770_titles_with_commas_and_accents_intact(tmp_path):
    folder = tmp_path / "netflix"
    folder.mkdir()
    shutil.copy(EXCERPTS / "combined_data_1_head.txt", folder / "combined_data_1.txt")
    shutil.copy(TITLES, folder / "movie_titles.txt")
    summary = ingest(folder, warehouse=tmp_path / "w.duckdb", quiet=True)
    warehouse = tmp_path / "w.duckdb"
    assert query(
        warehouse, "select count(*), count(distinct movie_id), min(movie_id), max(movie_id) from raw.movies"
    ) == [(17_770, 17_770, 1, 17_770)]
    assert query(warehouse, "select title from raw.movies where movie_id = 6483") == [("Smokey Joe's Café",)]
    assert query(warehouse, "select count(*) from raw.movies where release_year is null")[0][0] > 0
    with_commas = query(warehouse, "select count(*) from raw.movies where title like '%,%'")[0][0]
    assert with_commas == 336  # lines of the file with more than two commas
    assert summary["rejected"] == 0
