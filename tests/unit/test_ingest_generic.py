"""The generic ratings format (`--format csv --columns ...`) on handwritten files shaped like the
Kaggle Netflix subsets and other exports."""

from __future__ import annotations

import datetime as dt

import pytest

from movierec.cli import main
from movierec.ingest import IngestError, detect, generic, ingest
from tests.conftest import query, write_files

KAGGLE_COLUMNS = "user=User_ID,movie=Movie_ID,rating=Rating"
TESTING_COLUMNS = "movie=1,user=2,rating=3"


def run(path, tmp_path, columns, **kwargs):
    warehouse = tmp_path / "w.duckdb"
    summary = ingest(path, fmt="csv", columns=columns, warehouse=warehouse, quiet=True, **kwargs)
    return warehouse, summary


def ratings(warehouse):
    return query(warehouse, "select user_id, movie_id, rating, rated_on, rated_at, line from raw.ratings order by line")


def test_netflix_dataset_rating_csv_with_its_titles(tmp_path):
    folder = write_files(
        tmp_path / "kaggle",
        {
            "Netflix_Dataset_Rating.csv": "User_ID,Rating,Movie_ID\n712664,5,3\n1331154,4,3\n2632461,3,3\n44937,5,4\n",
            "Netflix_Dataset_Movie.csv": 'Movie_ID,Year,Name\n3,1997,Character\n4,1994,"Paula Abdul\'s Get Up, Dance"\n',
        },
    )
    warehouse, summary = run(
        folder / "Netflix_Dataset_Rating.csv", tmp_path, KAGGLE_COLUMNS, titles=folder / "Netflix_Dataset_Movie.csv"
    )
    assert ratings(warehouse) == [
        (712664, 3, 5.0, None, None, 2),
        (1331154, 3, 4.0, None, None, 3),
        (2632461, 3, 3.0, None, None, 4),
        (44937, 4, 5.0, None, None, 5),
    ]
    assert query(warehouse, "select movie_id, title, release_year from raw.movies order by movie_id") == [
        (3, "Character", 1997),
        (4, '"Paula Abdul\'s Get Up, Dance"', 1994),
    ]
    assert query(warehouse, "select file, kind, lines, headers, loaded from raw.files order by file_id") == [
        ("Netflix_Dataset_Rating.csv", "ratings", 5, 1, 4),
        ("Netflix_Dataset_Movie.csv", "movies", 3, 1, 2),
    ]
    assert query(warehouse, "select format, variant, has_dates, ratings, users, movies from raw.dataset") == [
        ("csv", "csv", False, 4, 4, 2)
    ]
    assert summary["rejected"] == 0


def test_testing_ratings_txt_crlf_no_header_columns_by_number(tmp_path):
    path = tmp_path / "TestingRatings.txt"
    path.write_bytes(b"8,1744889,1\r\n8,1395430,2\r\n28,716091,5\r\n")
    warehouse, summary = run(path, tmp_path, TESTING_COLUMNS)
    assert ratings(warehouse) == [
        (1744889, 8, 1.0, None, None, 1),
        (1395430, 8, 2.0, None, None, 2),
        (716091, 28, 5.0, None, None, 3),
    ]
    assert (summary["lines"], summary["headers"], summary["loaded"]) == (3, 0, 3)


def test_dates_as_iso_dates_times_and_unix_seconds(tmp_path):
    path = (
        write_files(
            tmp_path,
            {
                "export.tsv": (
                    "user\titem\tscore\twhen\n"
                    "1\t10\t4.5\t2005-01-02\n"
                    "2\t10\t3\t2005-01-02 10:30:00\n"
                    "3\t11\t0.5\t2005-01-02T10:30:00Z\n"
                    "4\t11\t5\t1104661800\n"
                )
            },
        )
        / "export.tsv"
    )
    warehouse, summary = run(path, tmp_path, "user=user,movie=item,rating=score,date=when")
    assert ratings(warehouse) == [
        (1, 10, 4.5, dt.date(2005, 1, 2), None, 2),
        (2, 10, 3.0, dt.date(2005, 1, 2), dt.datetime(2005, 1, 2, 10, 30), 3),
        (3, 11, 0.5, dt.date(2005, 1, 2), dt.datetime(2005, 1, 2, 10, 30), 4),
        (4, 11, 5.0, dt.date(2005, 1, 2), dt.datetime(2005, 1, 2, 10, 30), 5),
    ]
    assert query(warehouse, "select has_dates, date_window_start from raw.dataset") == [(True, dt.date(1970, 1, 1))]


def test_fast_path_dates_match_the_line_by_line_parser(tmp_path):
    """A clean file goes through pyarrow in bulk; the same lines with one bad line go line by line."""
    body = "".join(
        f"{u},{m},{(u + m) % 5 + 1},2004-0{m % 9 + 1}-1{u % 9} 0{u % 10}:15:00\n"
        for u in range(1, 40)
        for m in range(1, 6)
    )
    clean = write_files(tmp_path / "a", {"r.csv": "u,m,r,d\n" + body})
    dirty = write_files(tmp_path / "b", {"r.csv": "u,m,r,d\n" + body + "x,1,1,2004-01-01\n"})
    fast, _ = run(clean / "r.csv", tmp_path / "a", "user=u,movie=m,rating=r,date=d")
    slow, summary = run(dirty / "r.csv", tmp_path / "b", "user=u,movie=m,rating=r,date=d", reject_threshold=0.1)
    assert ratings(fast) == ratings(slow) and summary["rejected"] == 1


def test_every_bad_line_is_a_reject_with_its_reason(tmp_path):
    path = (
        write_files(
            tmp_path,
            {
                "r.csv": (
                    "userId;movieId;rating;date\n"  # 1 header
                    "1;10;4;2005-01-01\n"  # 2 ok
                    ";10;4;2005-01-01\n"  # 3 empty user
                    "2;;4;2005-01-01\n"  # 4 empty movie
                    "3;10;;2005-01-01\n"  # 5 empty rating
                    "4;10;4;\n"  # 6 empty date
                    "5;10;4\n"  # 7 three fields
                    "u6;10;4;2005-01-01\n"  # 8 bad user
                    "7;10;4.2;2005-01-01\n"  # 9 off the half-star scale
                    "8;10;six;2005-01-01\n"  # 10 not a number
                    "9;10;4;1969-12-31\n"  # 11 before the window
                    f"10;10;4;{dt.date.today().year + 1}-01-01\n"  # 12 after the window
                    "11;10;4;2005-02-30\n"  # 13 not a date
                    "12;10;4;yesterday\n"  # 14 not a date format
                    "\n"  # 15 blank
                    "1;10;5;2005-03-01\n"  # 16 duplicate of line 2, later date: wins
                )
            },
        )
        / "r.csv"
    )
    warehouse, summary = run(path, tmp_path, "user=userId,movie=movieId,rating=rating,date=date", reject_threshold=1.0)
    reasons = query(warehouse, "select line, reason from raw.rejects order by line")
    next_year = dt.date.today().year + 1
    assert reasons == [
        (3, "empty user field (column userId)"),
        (4, "empty movie field (column movieId)"),
        (5, "empty rating field (column rating)"),
        (6, "empty date field (column date)"),
        (7, "expected 4 fields separated by ';', found 3"),
        (8, "user id 'u6' is not a positive integer"),
        (9, "rating 4.2 is off the 0.5-5 scale (steps of 0.5)"),
        (10, "rating 'six' is not a number"),
        (11, f"date 1969-12-31 is outside the csv window 1970-01-01..{dt.date.today()}"),
        (12, f"date {next_year}-01-01 is outside the csv window 1970-01-01..{dt.date.today()}"),
        (13, "date '2005-02-30' is not a valid date"),
        (14, "date 'yesterday' is neither YYYY-MM-DD, an ISO date and time, nor Unix seconds"),
    ]
    assert ratings(warehouse) == [(1, 10, 5.0, dt.date(2005, 3, 1), None, 16)]
    assert query(warehouse, "select line, rating from raw.duplicates") == [(2, 4.0)]
    s = summary
    assert s["lines"] == s["headers"] + s["blank"] + s["loaded"] + s["rejected"] + s["duplicates"] == 16
    assert (s["headers"], s["blank"], s["loaded"], s["rejected"], s["duplicates"]) == (1, 1, 1, 12, 1)


@pytest.mark.parametrize("delimiter, option", [("::", None), ("|", None), (" ", "space"), (";", ";"), ("\t", "tab")])
def test_delimiters(tmp_path, delimiter, option):
    path = write_files(tmp_path, {"r.dat": f"1{delimiter}10{delimiter}3\n2{delimiter}11{delimiter}4\n"}) / "r.dat"
    warehouse, _ = run(path, tmp_path, "user=1,movie=2,rating=3", delimiter=option)
    assert query(warehouse, "select user_id, movie_id, rating from raw.ratings order by line") == [
        (1, 10, 3.0),
        (2, 11, 4.0),
    ]


def test_header_detected_with_numbered_columns_and_names_matched_without_case(tmp_path):
    path = write_files(tmp_path, {"r.csv": "MOVIE,USER,RATING\n5,1,3\n"}) / "r.csv"
    warehouse, summary = run(path, tmp_path, "movie=1,user=2,rating=3")
    assert summary["headers"] == 1
    warehouse, summary = run(path, tmp_path, "movie=movie,user=user,rating=rating")
    assert query(warehouse, "select user_id, movie_id from raw.ratings") == [(1, 5)]


@pytest.mark.parametrize(
    "columns, message",
    [
        ("user=1,movie=2", "rating missing"),
        ("user=1,movie=2,rating=3,stars=4", "unknown role 'stars'"),
        ("user=1,movie=User_ID,rating=3", "every column by name"),
        ("user=1,movie=1,rating=3", "the same column"),
        ("user=0,movie=1,rating=3", "start at 1"),
        ("user,movie=1,rating=3", "is not role=column"),
        ("user=1,movie=2,rating=9", "rating=9 points past its end"),
        (
            "user=Customer,movie=Movie_ID,rating=Rating",
            "no column 'Customer' (user) in the header 'User_ID,Rating,Movie_ID'",
        ),
    ],
)
def test_column_mapping_errors(tmp_path, columns, message):
    path = write_files(tmp_path, {"r.csv": "User_ID,Rating,Movie_ID\n1,3,10\n"}) / "r.csv"
    with pytest.raises(IngestError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run(path, tmp_path, columns)
    assert not (tmp_path / "w.duckdb").exists()


def test_auto_detection_suggests_the_command(tmp_path):
    folder = write_files(
        tmp_path / "kaggle", {"Netflix_Dataset_Rating.csv": "User_ID,Rating,Movie_ID\n1,3,10\n", "notes.txt": "hello\n"}
    )
    with pytest.raises(IngestError) as error:
        detect(folder)
    assert (
        "load it with: movierec ingest "
        + str(folder / "Netflix_Dataset_Rating.csv")
        + " --format csv --columns user=User_ID,movie=Movie_ID,rating=Rating"
    ) in str(error.value)
    assert generic.suggest(write_files(tmp_path, {"t.txt": "8,1744889,1\r\n"}) / "t.txt").startswith(
        f"movierec ingest {tmp_path / 't.txt'} --format csv --columns user=1,movie=2,rating=3"
    )
    assert generic.suggest(write_files(tmp_path, {"r.tsv": "userId\tmovieId\trating\ttimestamp\n"}) / "r.tsv") == (
        f"movierec ingest {tmp_path / 'r.tsv'} --format csv --columns user=userId,movie=movieId,rating=rating,"
        "date=timestamp --delimiter tab"
    )


def test_cli(tmp_path, capsys):
    path = write_files(tmp_path, {"r.csv": "User_ID,Rating,Movie_ID\n1,3,10\n"}) / "r.csv"
    warehouse = tmp_path / "w.duckdb"
    assert (
        main(["ingest", str(path), "--format", "csv", "--columns", KAGGLE_COLUMNS, "--warehouse", str(warehouse)]) == 0
    )
    assert "no date column" in capsys.readouterr().err
    assert main(["ingest", str(path), "--warehouse", str(warehouse)]) == 1  # a file without --format csv
    err = capsys.readouterr().err
    assert "is a file" in err and "--format csv --columns user=User_ID,movie=Movie_ID,rating=Rating" in err
