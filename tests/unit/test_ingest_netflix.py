"""Netflix Prize parsers on small handwritten files with the quirks of the real ones."""

from __future__ import annotations

import datetime as dt
import io
import tarfile

import pytest

from movierec.ingest import IngestError, ingest, netflix
from tests.conftest import query, write_files

CLEAN = "1:\n10,3,2005-09-06\n11,5,2005-05-13\n2:\n10,4,2004-01-01\n12,1,1999-11-11\n"


def run(folder, tmp_path, **kwargs):
    warehouse = tmp_path / "w.duckdb"
    summary = ingest(folder, warehouse=warehouse, quiet=True, **kwargs)
    return warehouse, summary


def ratings(warehouse):
    return query(warehouse, "select movie_id, user_id, rating, rated_on, line from raw.ratings order by file_id, line")


def test_clean_file_gives_every_rating_with_its_movie_and_line(tmp_path):
    folder = write_files(tmp_path / "in", {"combined_data_1.txt": CLEAN})
    warehouse, summary = run(folder, tmp_path)
    assert ratings(warehouse) == [
        (1, 10, 3.0, dt.date(2005, 9, 6), 2),
        (1, 11, 5.0, dt.date(2005, 5, 13), 3),
        (2, 10, 4.0, dt.date(2004, 1, 1), 5),
        (2, 12, 1.0, dt.date(1999, 11, 11), 6),
    ]
    assert (summary["lines"], summary["headers"], summary["loaded"], summary["rejected"]) == (6, 2, 4, 0)


def test_files_are_read_in_numeric_order_and_crlf_is_accepted(tmp_path):
    folder = write_files(
        tmp_path / "in",
        {
            "combined_data_10.txt": "3:\r\n7,2,2005-01-01\r\n",
            "combined_data_2.txt": "1:\r\n7,4,2005-01-01\r\n",
        },
    )
    warehouse, _ = run(folder, tmp_path)
    assert query(warehouse, "select movie_id, rating from raw.ratings order by file_id") == [(1, 4.0), (3, 2.0)]
    assert [r[0] for r in query(warehouse, "select file from raw.files order by file_id")] == [
        "combined_data_2.txt",
        "combined_data_10.txt",
    ]


BAD = (
    "5,3,2005-01-01\n"  # 1: before any header
    "1:\n"  # 2
    "10,3,2005-09-06\n"  # 3 ok
    "11,5\n"  # 4: two fields
    "abc,4,2005-01-01\n"  # 5: non-integer user
    "12,7,2005-01-01\n"  # 6: rating off scale
    "13,4,2005-02-30\n"  # 7: impossible date
    "\n"  # 8: blank
    "x1:\n"  # 9: bad header
    "14,2,2005-01-01\n"  # 10 ok, still movie 1
    "15,0,2005-01-01\n"  # 11: rating 0
    "0,3,2005-01-01\n"  # 12: user 0
    "16,4,05-01-2005\n"  # 13: wrong date format
)


def test_every_bad_line_is_rejected_with_file_line_and_reason(tmp_path):
    folder = write_files(tmp_path / "in", {"combined_data_1.txt": BAD})
    warehouse, summary = run(folder, tmp_path, reject_threshold=1.0)
    rejects = query(warehouse, "select file, line, raw_text, reason from raw.rejects order by line")
    assert [(r[1], r[3]) for r in rejects] == [
        (1, "record before any movie header"),
        (4, "expected 3 fields (user_id,rating,rated_on), found 2"),
        (5, "user id 'abc' is not a positive integer"),
        (6, "rating 7 is off the 1-5 scale"),
        (7, "date '2005-02-30' is not a valid date"),
        (9, "movie header is not of the form <positive integer>:"),
        (11, "rating 0 is off the 1-5 scale"),
        (12, "user id '0' is not a positive integer"),
        (13, "date '05-01-2005' is not YYYY-MM-DD"),
    ]
    assert rejects[0][0] == "combined_data_1.txt" and rejects[1][2] == "11,5"
    assert [(r[0], r[1], r[4]) for r in ratings(warehouse)] == [(1, 10, 3), (1, 14, 10)]
    assert summary["lines"] == 13
    assert summary["lines"] == summary["headers"] + summary["blank"] + summary["loaded"] + summary["rejected"]
    assert (summary["headers"], summary["blank"], summary["loaded"], summary["rejected"]) == (1, 1, 2, 9)


def test_reject_rate_over_the_threshold_stops_and_keeps_the_old_warehouse(tmp_path):
    good = write_files(tmp_path / "good", {"combined_data_1.txt": CLEAN})
    warehouse, _ = run(good, tmp_path)
    bad = write_files(tmp_path / "bad", {"combined_data_1.txt": BAD})
    with pytest.raises(IngestError) as error:
        run(bad, tmp_path)  # default threshold 0.1%
    message = str(error.value)
    # Line 1 already breaks the limit whatever the remaining bytes hold: the run stops there.
    assert "1 of 1 ratings records rejected (100.000%) so far" in message
    assert "combined_data_1.txt:1: record before any movie header" in message
    assert len(ratings(warehouse)) == 4  # untouched
    with pytest.raises(IngestError) as error:
        run(bad, tmp_path, reject_threshold=0.5)  # not stopped early: judged on the whole file
    message = str(error.value)
    assert "9 of 11 ratings records rejected" in message and "so far" not in message
    assert "combined_data_1.txt:4: expected 3 fields" in message


def test_duplicate_rating_latest_date_wins_then_later_line(tmp_path):
    folder = write_files(
        tmp_path / "in",
        {
            "combined_data_1.txt": (
                "1:\n"
                "10,2,2005-01-01\n"  # 2 superseded by line 4 (later date)
                "11,3,2005-03-01\n"  # 3 superseded by line 5 (same date, later line)
                "10,5,2005-02-01\n"  # 4 kept
                "11,4,2005-03-01\n"  # 5 kept
                "10,1,2004-12-31\n"  # 6 superseded (earlier date, even though later line)
            )
        },
    )
    warehouse, summary = run(folder, tmp_path)
    assert [(r[1], r[2], r[4]) for r in ratings(warehouse)] == [(10, 5.0, 4), (11, 4.0, 5)]
    assert query(warehouse, "select line from raw.duplicates order by line") == [(2,), (3,), (6,)]
    assert summary["duplicates"] == 3 and summary["loaded"] == 2


def test_duplicates_across_files_and_chunks_are_resolved(tmp_path, monkeypatch):
    # Movie 1 appears in two files: the block is split, so the warehouse-wide pass decides.
    folder = write_files(
        tmp_path / "in",
        {
            "combined_data_1.txt": "1:\n10,2,2005-01-01\n11,3,2005-01-01\n",
            "combined_data_2.txt": "1:\n10,4,2005-01-01\n2:\n10,1,2005-01-01\n",
        },
    )
    warehouse, summary = run(folder, tmp_path)
    assert query(warehouse, "select movie_id, user_id, rating from raw.ratings order by all") == [
        (1, 10, 4.0),
        (1, 11, 3.0),
        (2, 10, 1.0),
    ]
    assert query(warehouse, "select file, line, rating from raw.duplicates") == [("combined_data_1.txt", 2, 2.0)]
    assert summary["duplicates"] == 1


def test_tiny_chunks_give_the_same_result_as_one_chunk(tmp_path, monkeypatch):
    text = "".join(
        f"{m}:\n" + "".join(f"{u},{(u + m) % 5 + 1},2005-01-{u % 28 + 1:02d}\n" for u in range(1, 40))
        for m in range(1, 30)
    )
    folder = write_files(tmp_path / "in", {"combined_data_1.txt": text})
    whole, _ = run(folder, tmp_path)
    expected = ratings(whole)
    monkeypatch.setattr(netflix, "CHUNK_BYTES", 50)
    monkeypatch.setattr(netflix.iter_chunks, "__defaults__", (50,))
    monkeypatch.setattr(netflix.parse_stream, "__defaults__", (50,))
    small_dir = tmp_path / "small"
    small_dir.mkdir()
    small = ingest(folder, warehouse=small_dir / "w.duckdb", quiet=True)
    assert ratings(small_dir / "w.duckdb") == expected
    assert small["loaded"] == 29 * 39 and small["duplicates"] == 0


def test_iter_chunks_cuts_at_movie_headers():
    text = b"1:\n1,1,2005-01-01\n2,1,2005-01-01\n2:\n3,1,2005-01-01\n3:\n4,1,2005-01-01"
    chunks = list(netflix.iter_chunks(io.BytesIO(text), chunk_bytes=40))
    assert b"".join(chunks) == text + b"\n"
    assert [c.split(b"\n")[0] for c in chunks] == [b"1:", b"2:", b"3:"]
    # A block longer than a chunk is cut at a line end; nothing is lost.
    small = list(netflix.iter_chunks(io.BytesIO(text), chunk_bytes=7))
    assert b"".join(small) == text + b"\n" and all(c.endswith(b"\n") for c in small)


def test_movie_titles_keep_commas_accents_and_null_years(tmp_path):
    titles = (
        "1,2003,Dinosaur Planet\n"
        "2,NULL,Ancient Civilizations: Rome and Pompeii\n"
        "3,1999,Love, Death, and Taxes\n"
        "4,2001,Smokey Joe's Caf\xe9\n"
        "5,19x9,Bad Year\n"
        "3,2000,Duplicate Id\n"
        "six,2000,Bad Id\n"
        "7,2000\n"
    )
    folder = write_files(tmp_path / "in", {"combined_data_1.txt": CLEAN, "movie_titles.csv": titles})
    warehouse, _ = run(folder, tmp_path, reject_threshold=1.0)
    assert query(warehouse, "select movie_id, release_year, title from raw.movies order by movie_id") == [
        (1, 2003, "Dinosaur Planet"),
        (2, None, "Ancient Civilizations: Rome and Pompeii"),
        (3, 1999, "Love, Death, and Taxes"),
        (4, 2001, "Smokey Joe's Café"),
    ]
    assert query(warehouse, "select line, reason from raw.rejects order by line") == [
        (5, "year '19x9' is neither a year nor NULL"),
        (6, "movie id 3 already listed at line 3"),
        (7, "movie id 'six' is not a positive integer"),
        (8, "expected 3 fields (movie_id,year,title), found 2"),
    ]


def test_probe_and_qualifying(tmp_path):
    folder = write_files(
        tmp_path / "in",
        {
            "combined_data_1.txt": CLEAN,
            "probe.txt": "1:\n10\n11\n2:\n12\n",
            "qualifying.txt": "1:\n20,2005-12-19\n2:\n21,2005-03-14\n",
        },
    )
    warehouse, _ = run(folder, tmp_path)
    assert query(warehouse, "select movie_id, user_id from raw.probe order by all") == [(1, 10), (1, 11), (2, 12)]
    assert query(warehouse, "select * from raw.qualifying order by all") == [
        (1, 20, dt.date(2005, 12, 19)),
        (2, 21, dt.date(2005, 3, 14)),
    ]


def test_training_set_folder_and_tar_give_the_same_ratings(tmp_path):
    files = {"mv_0000001.txt": "1:\n10,3,2005-09-06\n11,5,2005-05-13\n", "mv_0000002.txt": "2:\n10,4,2004-01-01\n"}
    folder = write_files(tmp_path / "dir", {f"training_set/{k}": v for k, v in files.items()})
    from_dir, summary = run(folder, tmp_path)
    assert summary["variant"] == "training_set"

    tar_dir = tmp_path / "tar"
    tar_dir.mkdir()
    with tarfile.open(tar_dir / "training_set.tar", "w") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"training_set/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    (tmp_path / "t").mkdir()
    summary = ingest(tar_dir, warehouse=tmp_path / "t" / "w.duckdb", quiet=True)
    assert summary["variant"] == "training_set.tar"
    strip = lambda rows: [r[:4] for r in rows]  # noqa: E731
    assert strip(ratings(tmp_path / "t" / "w.duckdb")) == strip(ratings(from_dir))
    assert query(tmp_path / "t" / "w.duckdb", "select file from raw.files order by file_id") == [
        ("training_set.tar/training_set/mv_0000001.txt",),
        ("training_set.tar/training_set/mv_0000002.txt",),
    ]


def test_rerun_gives_the_same_warehouse(tmp_path):
    folder = write_files(tmp_path / "in", {"combined_data_1.txt": BAD, "movie_titles.csv": "1,2000,A\n"})
    first, _ = run(folder, tmp_path, reject_threshold=1.0)
    tables = ["ratings", "movies", "rejects", "duplicates", "files", "dataset"]
    before = {t: query(first, f"select * from raw.{t} order by all") for t in tables}
    run(folder, tmp_path, reject_threshold=1.0)
    assert {t: query(first, f"select * from raw.{t} order by all") for t in tables} == before


@pytest.mark.parametrize(
    "setup, message",
    [
        (lambda p: None, "does not exist"),
        (lambda p: p.mkdir(), "is empty"),
        (lambda p: write_files(p, {"notes.txt": "hello"}), "format not recognized"),
    ],
)
def test_missing_empty_or_unknown_folder_is_a_clear_error(tmp_path, setup, message):
    folder = tmp_path / "in"
    setup(folder)
    with pytest.raises(IngestError, match=message):
        run(folder, tmp_path)
