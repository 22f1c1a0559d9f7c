"""Optional genre metadata beside Netflix-layout files (`movie_genres.csv`), and genre recovery."""

from __future__ import annotations

import numpy as np
import pytest

from movierec.genres import neighbour_genre_shares
from movierec.ingest import ingest
from tests.conftest import query, write_files

CLEAN = "1:\n10,3,2005-09-06\n11,5,2005-05-13\n2:\n10,4,2004-01-01\n"


def run(folder, tmp_path, **kwargs):
    warehouse = tmp_path / "w.duckdb"
    return warehouse, ingest(folder, warehouse=warehouse, quiet=True, **kwargs)


def test_genres_file_loads_one_row_per_movie_and_genre(tmp_path):
    folder = write_files(
        tmp_path / "in",
        {
            "combined_data_1.txt": CLEAN,
            "movie_genres.csv": "movie_id,genre\n1,Horror\n1,Thriller\n2,Kids\n",
        },
    )
    warehouse, summary = run(folder, tmp_path)
    assert query(warehouse, "select movie_id, genre from raw.movie_genres order by movie_id, genre") == [
        (1, "Horror"),
        (1, "Thriller"),
        (2, "Kids"),
    ]
    assert query(warehouse, "select kind, lines, headers, loaded, rejected from raw.files where kind = 'genres'") == [
        ("genres", 4, 1, 3, 0)
    ]
    assert summary["rejected"] == 0


def test_bad_genre_lines_are_rejected_with_line_and_reason(tmp_path):
    lines = (
        ["movie_id,genre"]
        + [f"{m},Drama" for m in range(1, 2001)]
        + [
            "x,Drama",  # 2002: bad id
            "3,",  # 2003: empty genre
            "4,Drama,Comedy",  # 2004: three fields
            "5,Drama",  # 2005: listed at line 6
            "",  # 2006: blank
        ]
    )
    folder = write_files(tmp_path / "in", {"combined_data_1.txt": CLEAN, "movie_genres.csv": "\n".join(lines) + "\n"})
    warehouse, _ = run(folder, tmp_path, reject_threshold=0.01)
    rejects = query(warehouse, "select line, reason from raw.rejects where file = 'movie_genres.csv' order by line")
    assert [line for line, _ in rejects] == [2002, 2003, 2004, 2005]
    assert "not a positive integer" in rejects[0][1]
    assert "empty genre" in rejects[1][1]
    assert "expected 2 fields" in rejects[2][1]
    assert "already listed at line 6" in rejects[3][1]
    files = query(warehouse, "select lines, headers, blank, loaded, rejected from raw.files where kind = 'genres'")
    lines_, headers, blank, loaded, rejected = files[0]
    assert (lines_, headers, blank, loaded, rejected) == (2006, 1, 1, 2000, 4)
    assert lines_ == headers + blank + loaded + rejected


def test_without_genres_file_the_table_is_empty(tmp_path):
    folder = write_files(tmp_path / "in", {"combined_data_1.txt": CLEAN})
    warehouse, _ = run(folder, tmp_path)
    assert query(warehouse, "select count(*) from raw.movie_genres") == [(0,)]


def test_neighbour_genre_shares_exact_values():
    # Two tight clusters in factor space, genres A (rows 0-2) and B (rows 3-5); row 5 is also A.
    factors = np.array([[1, 0], [0.9, 0.1], [0.95, 0.05], [0, 1], [0.1, 0.9], [0.05, 0.95]])
    genres = np.array([[1, 0], [1, 0], [1, 0], [0, 1], [0, 1], [1, 1]], dtype=bool)
    result = neighbour_genre_shares(factors, genres, n_neighbors=2)
    # Row 0's two nearest are rows 2 and 1 (both A); row 3's are 5 and 4 (both share B).
    assert result.neighbour_share.tolist() == [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    # Chance: row 0 shares A with rows 1, 2, 5 of the 5 others; row 3 shares B with 4, 5; row 5 with all.
    assert result.chance_share.tolist() == pytest.approx([0.6, 0.6, 0.6, 0.4, 0.4, 1.0])
    # Shuffled factors: neighbours no longer follow the genres.
    mixed = neighbour_genre_shares(factors[[0, 3, 1, 4, 2, 5]], genres, n_neighbors=2)
    assert mixed.neighbour_share.mean() < result.neighbour_share.mean()


def test_neighbour_genre_shares_rejects_bad_input():
    with pytest.raises(ValueError, match="more than 10"):
        neighbour_genre_shares(np.ones((5, 2)), np.ones((5, 1), dtype=bool))
    with pytest.raises(ValueError, match="at least one genre"):
        neighbour_genre_shares(np.eye(3), np.array([[1], [0], [1]], dtype=bool), n_neighbors=1)
