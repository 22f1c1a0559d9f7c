"""MovieLens parsers on small handwritten files with the quirks of the real ones, then the real files.

The real datasets are read from ../shared/data/movielens beside the project (never copied into
the repository); those tests skip when the folder is missing.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from movierec.ingest import IngestError, ingest, movielens
from tests.conftest import query

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "movielens"
ML_100K = REAL / "ml-100k"
ML_LATEST_SMALL = REAL / "ml-latest-small"

GENRES_100K = "\n".join(f"{name}|{i}" for i, name in enumerate(movielens.STANDARD_100K_GENRES)) + "\n\n"


def write(folder: Path, files: dict[str, str | bytes], encoding: str = "utf-8") -> Path:
    """Write {name: text or bytes} under folder (text encoded with `encoding`) and return folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        data = content.encode(encoding) if isinstance(content, str) else content
        (folder / name).write_bytes(data)
    return folder


def run(folder: Path, tmp_path: Path, **kwargs) -> tuple[Path, dict]:
    warehouse = tmp_path / "w.duckdb"
    return warehouse, ingest(folder, warehouse=warehouse, quiet=True, **kwargs)


def assert_counts_add_up(warehouse: Path) -> None:
    rows = query(warehouse, "select file, lines, headers, blank, loaded, rejected, duplicates from raw.files")
    assert rows
    for file, lines, headers, blank, loaded, rejected, duplicates in rows:
        assert lines == headers + blank + loaded + rejected + duplicates, file
    # every reject and every duplicate is accounted for in its file's row
    per_file = {r[0]: r for r in rows}
    for file, n in query(warehouse, "select file, count(*) from raw.rejects group by file"):
        assert per_file[file][5] == n
    for file, n in query(warehouse, "select file, count(*) from raw.duplicates group by file"):
        assert per_file[file][6] == n


def u_item_line(movie_id: int, title: str, release: str, genre_flags: set[int]) -> str:
    flags = "|".join("1" if i in genre_flags else "0" for i in range(19))
    return f"{movie_id}|{title}|{release}||http://us.imdb.com/M/title-exact?x|{flags}"


def ts(year, month, day, hour=12) -> int:
    return int(dt.datetime(year, month, day, hour, tzinfo=dt.UTC).timestamp())


# --- ml-100k ------------------------------------------------------------------------------------------

T1, T2 = ts(1997, 9, 20), ts(1998, 4, 22)
U_DATA = (
    f"196\t242\t3\t{T1}\n"  # 1 ok
    f"186\t302\t3\t{T1}\n"  # 2 ok
    f"22\t377\t1\n"  # 3: three fields
    f"\n"  # 4: blank
    f"x7\t51\t2\t{T1}\n"  # 5: non-integer user
    f"244\t5l\t2\t{T1}\n"  # 6: non-integer movie
    f"166\t346\t7\t{T1}\n"  # 7: rating off scale
    f"298\t474\t3.7\t{T1}\n"  # 8: rating not whole
    f"115\t265\t2\tyesterday\n"  # 9: timestamp not an integer
    f"253\t465\t5\t-5\n"  # 10: negative timestamp
    f"305\t451\t3\t4200000000\n"  # 11: after 2100
    f"196\t242\t5\t{T2}\n"  # 12 same user and movie as line 1, later: wins
    f"6\t86\t3.5\t{T1}\n"  # 13: half star, not on the ml-100k scale
    f"62\t257\t2\t{T2}"  # 14 ok, no final newline
)


def ml_100k(folder: Path) -> Path:
    u_item = (
        "\n".join(
            [
                u_item_line(242, "Kolya (1996)", "24-Jan-1997", {5}),
                u_item_line(302, "L.A. Confidential (1997)", "01-Jan-1997", {6, 10, 11, 16}),
                u_item_line(257, "Misérables, Les (1995)", "01-Jan-1995", {8, 12}),
                u_item_line(267, "unknown", "", {0}),
                u_item_line(1373, "Good Morning (1971)", "4-Feb-1971", {0}),
                u_item_line(377, "Heidi Fleiss: Hollywood Madam (1995) ", "09-Jun-1995", {7}),
                "9|Dead Man Walking (1995)|01-Jan-1995",  # 7: too few fields
                u_item_line(242, "Kolya again (1996)", "24-Jan-1997", {5}),  # 8: id already listed
                u_item_line(12, "Usual Suspects, The (1995)", "14-08-1995", {6}),  # 9: bad release date
            ]
        )
        + "\n"
    )
    return write(
        folder,
        {
            "u.data": U_DATA,
            "u.item": u_item.encode("latin-1"),
            "u.genre": GENRES_100K,
            "u1.base": f"1\t1\t5\t{T1}\n2\t3\t4\t{T1}\n",
            "u1.test": f"1\t2\t3\t{T1}\n\n1\t2\n",
            "ua.base": f"1\t1\t5\t{T1}\n",
            "ua.test": f"3\t1\t1\t{T2}\n",
            "README": "not read\n",
        },
    )


def test_ml_100k_ratings_rejects_and_duplicates(tmp_path):
    folder = ml_100k(tmp_path / "ml-100k")
    warehouse, summary = run(folder, tmp_path, reject_threshold=1.0)
    assert query(warehouse, "select format, variant from raw.dataset") == [("movielens", "ml-100k")]
    rows = query(warehouse, "select user_id, movie_id, rating, rated_on, rated_at, line from raw.ratings order by line")
    day1, day2 = dt.date(1997, 9, 20), dt.date(1998, 4, 22)
    assert rows == [
        (186, 302, 3.0, day1, dt.datetime(1997, 9, 20, 12), 2),
        (196, 242, 5.0, day2, dt.datetime(1998, 4, 22, 12), 12),
        (62, 257, 2.0, day2, dt.datetime(1998, 4, 22, 12), 14),
    ]
    assert query(warehouse, "select file, line, user_id, movie_id, rating from raw.duplicates") == [
        ("u.data", 1, 196, 242, 3.0)
    ]
    rejects = query(warehouse, "select line, reason, raw_text from raw.rejects where file = 'u.data' order by line")
    assert [(r[0], r[1]) for r in rejects] == [
        (3, "expected 4 fields (user_id,movie_id,rating,timestamp), found 3"),
        (5, "user id 'x7' is not a positive integer"),
        (6, "movie id '5l' is not a positive integer"),
        (7, "rating '7' is off the 1-5 scale (whole stars)"),
        (8, "rating '3.7' is off the 1-5 scale (whole stars)"),
        (9, "timestamp 'yesterday' is not an integer (seconds since 1970-01-01 UTC)"),
        (10, "timestamp -5 is negative"),
        (11, f"timestamp 4200000000 (2103-02-04) is outside the movielens window 1995-01-01..{dt.date.today()}"),
        (13, "rating '3.5' is off the 1-5 scale (whole stars)"),
    ]
    assert rejects[0][2] == "22\t377\t1"
    files = {
        r[0]: r[1:]
        for r in query(
            warehouse, "select file, kind, lines, headers, blank, loaded, rejected, duplicates from raw.files"
        )
    }
    assert files["u.data"] == ("ratings", 14, 0, 1, 3, 9, 1)
    assert "README" not in files and "u.genre" not in files
    assert_counts_add_up(warehouse)
    assert (summary["loaded"], summary["duplicates"]) == (3 + 6 + 5, 1)


def test_ml_100k_movies_titles_years_genres_and_latin1(tmp_path):
    folder = ml_100k(tmp_path / "ml-100k")
    warehouse, _ = run(folder, tmp_path, reject_threshold=1.0)
    movies = query(warehouse, "select movie_id, title, release_year, genres from raw.movies order by movie_id")
    assert movies == [
        (242, "Kolya", 1996, "Comedy"),
        (257, "Misérables, Les", 1995, "Drama|Musical"),
        (267, "unknown", None, None),  # no year anywhere, only the 'unknown' genre
        (302, "L.A. Confidential", 1997, "Crime|Film-Noir|Horror|Thriller"),
        (377, "Heidi Fleiss: Hollywood Madam", 1995, "Documentary"),  # trailing blank trimmed
        (1373, "Good Morning", 1971, None),
    ]
    rejects = query(warehouse, "select line, reason from raw.rejects where file = 'u.item' order by line")
    assert rejects == [
        (7, "expected 24 fields (movie id|title|release date|video release date|IMDb URL|19 genre flags), found 3"),
        (8, "movie id 242 already listed at line 1"),
        (9, "release date '14-08-1995' is not like 01-Jan-1995"),
    ]
    assert_counts_add_up(warehouse)


def test_ml_100k_without_u_genre_uses_the_standard_names(tmp_path):
    folder = write(
        tmp_path / "in",
        {
            "u.data": f"1\t242\t3\t{T1}\n",
            "u.item": u_item_line(242, "Kolya (1996)", "24-Jan-1997", {1, 18}) + "\n",
        },
    )
    warehouse, _ = run(folder, tmp_path)
    assert query(warehouse, "select genres from raw.movies") == [("Action|Western",)]


def test_ml_100k_splits(tmp_path):
    folder = ml_100k(tmp_path / "ml-100k")
    warehouse, _ = run(folder, tmp_path, reject_threshold=1.0)
    assert query(warehouse, "select split, part, user_id, movie_id from raw.splits order by all") == [
        ("u1", "test", 1, 2),
        ("u1", "train", 1, 1),
        ("u1", "train", 2, 3),
        ("ua", "test", 3, 1),
        ("ua", "train", 1, 1),
    ]
    assert query(warehouse, "select line, reason from raw.rejects where file = 'u1.test'") == [
        (3, "expected 4 fields (user_id,movie_id,rating,timestamp), found 2")
    ]
    assert query(warehouse, "select kind, lines, blank, loaded, rejected from raw.files where file = 'u1.test'") == [
        ("splits", 3, 1, 1, 1)
    ]
    assert query(warehouse, "select count(*) from raw.ratings where line <= 2 and user_id in (1, 2, 3)") == [(0,)]
    assert_counts_add_up(warehouse)


# --- ml-latest (csv) ------------------------------------------------------------------------------------

RATINGS_CSV = (
    "userId,movieId,rating,timestamp\r\n"  # 1 header, CRLF line endings as in the real files
    f"1,1,4.0,{ts(2000, 7, 30)}\r\n"  # 2
    f"1,11,0.5,{ts(2000, 7, 30)}\r\n"  # 3 half star, lowest
    f"2,11,3.5,{ts(2016, 1, 1)}\r\n"  # 4
    f"2,1,2.5,{ts(2015, 1, 1)}\r\n"  # 5 superseded by line 6
    f"2,1,4.5,{ts(2015, 1, 1, hour=18)}\r\n"  # 6 same day, later time: wins
    f"3,1,5.0,{ts(2010, 1, 1)}\r\n"  # 7 wins over line 8 (later date)
    f"3,1,1.0,{ts(2009, 1, 1)}\r\n"  # 8
    "\r\n"  # 9 blank
    f"4,1,5.5,{ts(2010, 1, 1)}\r\n"  # 10 off scale
    f"4,1,3.25,{ts(2010, 1, 1)}\r\n"  # 11 not a half star
    f"4,1,0,{ts(2010, 1, 1)}\r\n"  # 12 zero
    f"4,1,four,{ts(2010, 1, 1)}\r\n"  # 13 not a number
    "4,1,4.0,1.5e9\r\n"  # 14 timestamp not an integer
    f"0,1,4.0,{ts(2010, 1, 1)}\r\n"  # 15 user 0
    f"4,1,4.0,{ts(2010, 1, 1)},extra\r\n"  # 16 five fields
)

MOVIES_CSV = (
    "movieId,title,genres\n"
    "1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy\n"
    '11,"American President, The (1995)",Comedy|Drama|Romance\n'
    "73,Misérables, Les (1995),Drama\n"  # 4: unquoted comma: 4 fields
    '74,"Misérables, Les (1995)",Drama|War\n'
    "149830,Pride and Prejudice,Drama|Romance\n"  # no year
    '170705,"Death Note: Desu nôto (2006–2007)",(no genres listed)\n'
    '"7","The ""Quoted"" One (2001)",Comedy\n'  # quoted id, doubled quotes
    '8,"Unclosed (2001),Comedy\n'  # 9: bad quoting
    "x9,Bad Id (2001),Drama\n"  # 10
    "\n"  # 11 blank
    "10, GoldenEye (1995) ,Action\n"  # title trimmed
)


def test_ml_latest_ratings_half_stars_duplicates_and_rejects(tmp_path):
    folder = write(
        tmp_path / "ml-latest-small",
        {"ratings.csv": RATINGS_CSV, "movies.csv": MOVIES_CSV, "tags.csv": "userId,movieId,tag,timestamp\n"},
    )
    warehouse, summary = run(folder, tmp_path, reject_threshold=1.0)
    assert query(warehouse, "select variant, rating_min, rating_max from raw.dataset") == [("ml-latest", 0.5, 5.0)]
    assert query(warehouse, "select user_id, movie_id, rating, line from raw.ratings order by line") == [
        (1, 1, 4.0, 2),
        (1, 11, 0.5, 3),
        (2, 11, 3.5, 4),
        (2, 1, 4.5, 6),
        (3, 1, 5.0, 7),
    ]
    assert query(warehouse, "select file, line, user_id, movie_id, rating from raw.duplicates order by line") == [
        ("ratings.csv", 5, 2, 1, 2.5),
        ("ratings.csv", 8, 3, 1, 1.0),
    ]
    assert query(warehouse, "select line, reason from raw.rejects where file = 'ratings.csv' order by line") == [
        (10, "rating '5.5' is off the 0.5-5.0 scale (half stars)"),
        (11, "rating '3.25' is off the 0.5-5.0 scale (half stars)"),
        (12, "rating '0' is off the 0.5-5.0 scale (half stars)"),
        (13, "rating 'four' is not a number"),
        (14, "timestamp '1.5e9' is not an integer (seconds since 1970-01-01 UTC)"),
        (15, "user id '0' is not a positive integer"),
        (16, "expected 4 fields (user_id,movie_id,rating,timestamp), found 5"),
    ]
    assert query(
        warehouse,
        "select lines, headers, blank, loaded, rejected, duplicates from raw.files where file = 'ratings.csv'",
    ) == [(16, 1, 1, 5, 7, 2)]
    assert query(warehouse, "select raw_text from raw.rejects where line = 16 and file = 'ratings.csv'") == [
        (f"4,1,4.0,{ts(2010, 1, 1)},extra",)
    ]
    assert_counts_add_up(warehouse)
    assert summary["headers"] == 2


def test_ml_latest_movies_quoting_years_and_genres(tmp_path):
    folder = write(tmp_path / "in", {"ratings.csv": RATINGS_CSV, "movies.csv": MOVIES_CSV})
    warehouse, _ = run(folder, tmp_path, reject_threshold=1.0)
    assert query(warehouse, "select movie_id, title, release_year, genres from raw.movies order by movie_id") == [
        (1, "Toy Story", 1995, "Adventure|Animation|Children|Comedy|Fantasy"),
        (7, 'The "Quoted" One', 2001, "Comedy"),
        (10, "GoldenEye", 1995, "Action"),
        (11, "American President, The", 1995, "Comedy|Drama|Romance"),
        (74, "Misérables, Les", 1995, "Drama|War"),
        (149830, "Pride and Prejudice", None, "Drama|Romance"),
        (170705, "Death Note: Desu nôto", 2006, None),
    ]
    rejects = query(warehouse, "select line, reason from raw.rejects where file = 'movies.csv' order by line")
    assert [line for line, _ in rejects] == [4, 9, 10]
    assert rejects[0][1] == "expected 3 fields (movieId,title,genres), found 4"
    assert rejects[1][1].startswith("bad CSV quoting")
    assert rejects[2][1] == "movie id 'x9' is not a positive integer"
    assert query(
        warehouse, "select lines, headers, blank, loaded, rejected from raw.files where file = 'movies.csv'"
    ) == [(12, 1, 1, 7, 3)]
    assert_counts_add_up(warehouse)


def test_csv_without_header_and_header_in_another_order(tmp_path):
    folder = write(tmp_path / "a", {"ratings.csv": f"5,6,3.0,{T1}\n"})
    warehouse, summary = run(folder, tmp_path)
    assert (summary["headers"], summary["loaded"]) == (0, 1)
    assert query(warehouse, "select user_id, movie_id, line from raw.ratings") == [(5, 6, 1)]
    folder = write(tmp_path / "b", {"ratings.csv": f"movieId,userId,rating,timestamp\n5,6,3.0,{T1}\n"})
    with pytest.raises(IngestError, match=r"ratings.csv:1: column header"):
        ingest(folder, warehouse=tmp_path / "b.duckdb", quiet=True)


# --- ml-1m / ml-10m (::) ------------------------------------------------------------------------------


def test_ml_1m_dat_files_latin1(tmp_path):
    folder = write(
        tmp_path / "ml-1m",
        {
            "ratings.dat": f"1::1193::5::{T1}\n1::661::3::{T1}\n1::914::4.5::{T1}\n1:914::4::{T1}\n2::3\t4::5::{T1}\n",
            "movies.dat": (
                "1193::One Flew Over the Cuckoo's Nest (1975)::Drama\n"
                "661::James and the Giant Peach (1996)::Animation|Children's|Musical\n"
                "3::Misérables, Les (1995)::Drama|Musical\n"
                "4::no genres\n"
            ).encode("latin-1"),
            "users.dat": "1::F::1::10::48067\n",
        },
    )
    warehouse, _ = run(folder, tmp_path, reject_threshold=1.0)
    assert query(warehouse, "select variant from raw.dataset") == [("ml-1m",)]
    assert query(warehouse, "select user_id, movie_id, rating, line from raw.ratings order by line") == [
        (1, 1193, 5.0, 1),
        (1, 661, 3.0, 2),
    ]
    assert query(warehouse, "select line, reason from raw.rejects where file = 'ratings.dat' order by line") == [
        (3, "rating '4.5' is off the 1-5 scale (whole stars)"),
        (4, "expected 4 fields (user_id,movie_id,rating,timestamp), found 3"),
        (5, "movie id '3\\t4' is not a positive integer"),
    ]
    assert query(warehouse, "select movie_id, title, release_year, genres from raw.movies order by movie_id") == [
        (3, "Misérables, Les", 1995, "Drama|Musical"),
        (661, "James and the Giant Peach", 1996, "Animation|Children's|Musical"),
        (1193, "One Flew Over the Cuckoo's Nest", 1975, "Drama"),
    ]
    assert query(warehouse, "select line, reason from raw.rejects where file = 'movies.dat'") == [
        (4, "expected 3 fields (movie_id::title::genres), found 2")
    ]
    assert_counts_add_up(warehouse)


def test_ml_10m_dat_files_half_stars_utf8(tmp_path):
    folder = write(
        tmp_path / "ml-10M100K",
        {
            "ratings.dat": f"1::122::4.5::{T1}\n1::185::0.5::{T1}\n",
            "movies.dat": "122::Boomerang (1992)::Comedy|Romance\n185::Ça tourne à Manhattan (1993)::(no genres listed)\n",
            "tags.dat": "15::4973::excellent!::1215184630\n",
        },
    )
    warehouse, _ = run(folder, tmp_path)
    assert query(warehouse, "select variant from raw.dataset") == [("ml-10m",)]
    assert query(warehouse, "select rating from raw.ratings order by line") == [(4.5,), (0.5,)]
    assert query(warehouse, "select title, genres from raw.movies order by movie_id") == [
        ("Boomerang", "Comedy|Romance"),
        ("Ça tourne à Manhattan", None),
    ]


# --- streaming, detection, threshold ------------------------------------------------------------------


def test_chunks_mix_fast_and_line_by_line_parsing_with_right_line_numbers(tmp_path, monkeypatch):
    lines = ["userId,movieId,rating,timestamp"]
    for i in range(1, 3000):
        lines.append(f"{i},{i % 97 + 1},{(i % 10 + 1) / 2},{T1 + i}")
    lines[1234] = "1234,x,3.0,1"
    lines[2500] = ""
    folder = write(tmp_path / "in", {"ratings.csv": "\n".join(lines) + "\n"})
    monkeypatch.setattr(movielens, "CHUNK_BYTES", 1000)  # about 40 chunks
    warehouse, summary = run(folder, tmp_path, reject_threshold=1.0)
    assert (summary["lines"], summary["headers"], summary["blank"], summary["rejected"], summary["loaded"]) == (
        3000,
        1,
        1,
        1,
        2997,
    )
    assert query(warehouse, "select line, reason from raw.rejects") == [
        (1235, "movie id 'x' is not a positive integer")
    ]
    # every rating sits on its own line: line number = user id + 1
    assert query(warehouse, "select count(*) from raw.ratings where line <> user_id + 1") == [(0,)]
    assert query(warehouse, "select min(rating), max(rating) from raw.ratings") == [(0.5, 5.0)]


def test_detect_finds_the_single_subfolder_and_refuses_ambiguity(tmp_path):
    ml_100k(tmp_path / "downloads" / "ml-100k")
    layout = movielens.detect(tmp_path / "downloads")
    assert layout.variant == "ml-100k" and layout.root.name == "ml-100k"
    assert layout.total_bytes == sum(p.stat().st_size for p in layout.files)
    assert [(s, part) for s, part, _ in layout.splits] == [
        ("u1", "train"),
        ("u1", "test"),
        ("ua", "train"),
        ("ua", "test"),
    ]
    write(tmp_path / "downloads" / "ml-latest-small", {"ratings.csv": RATINGS_CSV})
    with pytest.raises(IngestError, match="several MovieLens datasets"):
        movielens.detect(tmp_path / "downloads")
    write(tmp_path / "both", {"u.data": U_DATA, "ratings.csv": RATINGS_CSV})
    with pytest.raises(IngestError, match="more than one MovieLens ratings file"):
        movielens.detect(tmp_path / "both")
    assert movielens.detect(write(tmp_path / "other", {"notes.txt": "x"})) is None


@pytest.mark.parametrize(
    "title, expected",
    [
        ("Toy Story (1995)", ("Toy Story", 1995)),
        ("  Heat (1995)  ", ("Heat", 1995)),
        ("Babylon 5", ("Babylon 5", None)),
        ("(500) Days of Summer (2009)", ("(500) Days of Summer", 2009)),
        ("Cosmos (1980-1981)", ("Cosmos", 1980)),
        ("1984 (1956)", ("1984", 1956)),
        ("(1995)", ("(1995)", None)),
        ("Land Before Time III (1995) (V)", ("Land Before Time III (1995) (V)", None)),
    ],
)
def test_split_title(title, expected):
    assert movielens.split_title(title) == expected


def test_reject_rate_over_threshold_raises_and_keeps_the_previous_warehouse(tmp_path):
    good = write(tmp_path / "good", {"ratings.csv": RATINGS_CSV.split("\r\n\r\n")[0] + "\r\n"})
    warehouse, first = run(good, tmp_path)
    assert first["rejected"] == 0
    before = query(warehouse, "select * from raw.ratings order by line")
    bad = write(tmp_path / "bad", {"u.data": U_DATA})
    with pytest.raises(IngestError) as info:
        ingest(bad, warehouse=warehouse, quiet=True)  # default threshold 0.1%
    message = str(info.value)
    assert "u.data:3: expected 4 fields" in message and "u.data:13:" in message
    assert "nothing was written" in message
    assert query(warehouse, "select * from raw.ratings order by line") == before
    assert query(warehouse, "select variant from raw.dataset") == [("ml-latest",)]
    assert query(warehouse, "select count(*) from raw.rejects") == [(0,)]


# --- the real files ---------------------------------------------------------------------------------


@pytest.mark.skipif(not ML_100K.is_dir(), reason=f"real data not present: {ML_100K}")
def test_real_ml_100k(tmp_path):
    warehouse, summary = run(ML_100K, tmp_path)
    assert summary["rejected"] == 0 and summary["duplicates"] == 0
    assert query(
        warehouse,
        "select count(*), count(distinct user_id), count(distinct movie_id), min(rating), "
        "max(rating), min(rated_on), max(rated_on) from raw.ratings",
    ) == [(100_000, 943, 1_682, 1.0, 5.0, dt.date(1997, 9, 20), dt.date(1998, 4, 22))]
    assert query(warehouse, "select count(*), count(distinct movie_id) from raw.movies") == [(1_682, 1_682)]
    assert query(warehouse, "select title, release_year from raw.movies where movie_id in (1, 543) order by 1") == [
        ("Misérables, Les", 1995),
        ("Toy Story", 1995),
    ]
    splits = dict(
        ((s, p), n) for s, p, n in query(warehouse, "select split, part, count(*) from raw.splits group by all")
    )
    for fold in ("u1", "u2", "u3", "u4", "u5"):
        assert (splits[(fold, "train")], splits[(fold, "test")]) == (80_000, 20_000)
    for fold in ("ua", "ub"):
        assert (splits[(fold, "train")], splits[(fold, "test")]) == (90_570, 9_430)
    assert query(warehouse, "select count(*) from raw.rejects") == [(0,)]
    assert_counts_add_up(warehouse)


@pytest.mark.skipif(not ML_LATEST_SMALL.is_dir(), reason=f"real data not present: {ML_LATEST_SMALL}")
def test_real_ml_latest_small(tmp_path):
    warehouse, summary = run(ML_LATEST_SMALL, tmp_path)
    assert summary["rejected"] == 0 and summary["duplicates"] == 0
    assert query(
        warehouse,
        "select count(*), count(distinct user_id), count(distinct movie_id), min(rating), max(rating) from raw.ratings",
    ) == [(100_836, 610, 9_724, 0.5, 5.0)]
    assert query(warehouse, "select count(*) from raw.movies") == [(9_742,)]
    assert query(warehouse, "select title, release_year, genres from raw.movies where movie_id = 11") == [
        ("American President, The", 1995, "Comedy|Drama|Romance")
    ]
    assert query(warehouse, "select count(*) from raw.rejects") == [(0,)]
    assert_counts_add_up(warehouse)
