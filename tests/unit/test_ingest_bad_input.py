"""Hostile input: every bad line is a reject with file, line and a true reason; every user error is
one line and exit code 1; counts always add up (lines = headers + blank + loaded + rejected + duplicates)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from movierec.cli import main
from movierec.ingest import IngestError, ingest, movielens
from tests.conftest import query, write_files

TODAY = dt.date.today().isoformat()


def run(folder, tmp_path, **kwargs):
    warehouse = tmp_path / "w.duckdb"
    summary = ingest(folder, warehouse=warehouse, quiet=True, **kwargs)
    return warehouse, summary


def rejects(warehouse):
    return [
        (file, line, reason)
        for file, line, _, reason in query(
            warehouse, "select file, line, raw_text, reason from raw.rejects order by file, line"
        )
    ]


def counts_add_up(warehouse):
    for row in query(warehouse, "select file, lines, headers + blank + loaded + rejected + duplicates from raw.files"):
        assert row[1] == row[2], row


def cli(capsys, *args) -> tuple[int, str]:
    try:
        code = main(["ingest", *map(str, args)])
    except SystemExit as exit:  # argparse: option errors
        code = exit.code
    err = capsys.readouterr().err
    return code, err


def one_error_line(err: str) -> str:
    errors = [line for line in err.splitlines() if line.startswith("movierec ingest: error:")]
    assert len(errors) == 1 and "Traceback" not in err, err
    return errors[0]


# --- Netflix lines --------------------------------------------------------------------------------


def test_empty_fields_in_any_column_are_rejects_not_an_abort(tmp_path):
    folder = write_files(
        tmp_path / "in",
        {
            "combined_data_1.txt": (
                "1:\n"
                "777001,3,2005-01-01\n"
                "777011,3,\n"  # 3: empty date
                ",3,2005-01-01\n"  # 4: empty user
                "777020,,2005-01-01\n"  # 5: empty rating
                "777030,4,2005-01-02\n"
            )
        },
    )
    warehouse, summary = run(folder, tmp_path, reject_threshold=1.0)
    assert rejects(warehouse) == [
        ("combined_data_1.txt", 3, "empty date field"),
        ("combined_data_1.txt", 4, "empty user id field"),
        ("combined_data_1.txt", 5, "empty rating field"),
    ]
    assert (summary["lines"], summary["headers"], summary["loaded"], summary["rejected"]) == (6, 1, 2, 3)
    counts_add_up(warehouse)


def test_cr_only_line_endings_are_lines(tmp_path):
    folder = write_files(
        tmp_path / "in", {"combined_data_1.txt": b"1:\r10,3,2005-01-01\r11,4,2005-01-02\r2:\r10,5,2005-02-01"}
    )
    warehouse, summary = run(folder, tmp_path)
    assert query(warehouse, "select movie_id, user_id, rating, line from raw.ratings order by line") == [
        (1, 10, 3.0, 2),
        (1, 11, 4.0, 3),
        (2, 10, 5.0, 5),
    ]
    assert (summary["lines"], summary["headers"], summary["rejected"]) == (5, 2, 0)


def test_a_stray_carriage_return_inside_a_line_is_named(tmp_path):
    folder = write_files(tmp_path / "in", {"combined_data_1.txt": b"1:\n10,3,2005-01-01\n11,4,2005\r-01-02\n"})
    warehouse, _ = run(folder, tmp_path, reject_threshold=1.0)
    assert rejects(warehouse) == [("combined_data_1.txt", 3, "carriage return inside the line (mixed line endings)")]


def test_byte_order_marks_are_stripped(tmp_path):
    bom = b"\xef\xbb\xbf"
    folder = write_files(
        tmp_path / "in",
        {
            "combined_data_1.txt": bom + b"1:\n10,3,2005-01-01\n",
            "movie_titles.csv": bom + "1,2003,Café\n".encode(),
        },
    )
    warehouse, summary = run(folder, tmp_path)
    assert query(warehouse, "select movie_id, title from raw.movies") == [(1, "Café")]
    assert summary["rejected"] == 0 and summary["headers"] == 1
    assert query(warehouse, "select bytes from raw.files order by file_id") == [(len(bom) + 19,), (len(bom) + 13,)]


def test_dates_outside_the_netflix_window_and_dates_with_a_time(tmp_path):
    folder = write_files(
        tmp_path / "in",
        {
            "combined_data_1.txt": (
                "1:\n10,3,1890-01-01\n11,3,2030-01-01\n12,3,2005-01-01 10:00:00\n13,3,1998-01-01\n14,3,2006-12-31\n"
            )
        },
    )
    warehouse, _ = run(folder, tmp_path, reject_threshold=1.0)
    assert rejects(warehouse) == [
        ("combined_data_1.txt", 2, "date 1890-01-01 is outside the netflix window 1998-01-01..2006-12-31"),
        ("combined_data_1.txt", 3, "date 2030-01-01 is outside the netflix window 1998-01-01..2006-12-31"),
        ("combined_data_1.txt", 4, "date '2005-01-01 10:00:00' has a time of day: expected YYYY-MM-DD only"),
    ]
    assert query(warehouse, "select user_id from raw.ratings order by user_id") == [(13,), (14,)]
    # the window the dbt test on fct_ratings.rated_on reads
    assert query(warehouse, "select has_dates, date_window_start, date_window_end from raw.dataset") == [
        (True, dt.date(1998, 1, 1), dt.date(2006, 12, 31))
    ]


def test_superscript_digits_and_one_non_utf8_byte_in_titles(tmp_path):
    folder = write_files(
        tmp_path / "in",
        {
            "combined_data_1.txt": "1:\n10,3,2005-01-01\n",
            "movie_titles.csv": (
                "1,2003,Amélie\n".encode()
                + "²,2001,Superscript id\n".encode()
                + "3,¹999,Superscript year\n".encode()
                + b"4,2004,Caf\xe9 latin-1\n"
                + "5,2005,Smokey Joe's Café\n".encode()
            ),
        },
    )
    warehouse, summary = run(folder, tmp_path, reject_threshold=1.0)
    assert query(warehouse, "select movie_id, title from raw.movies order by movie_id") == [
        (1, "Amélie"),
        (5, "Smokey Joe's Café"),
    ]  # accents intact: the file is UTF-8
    assert rejects(warehouse) == [
        ("movie_titles.csv", 2, "movie id '²' is not a positive integer"),
        ("movie_titles.csv", 3, "year '¹999' is neither a year nor NULL"),
        ("movie_titles.csv", 4, "not UTF-8 like the rest of the file: byte 0xe9 at column 11 is not UTF-8"),
    ]
    counts_add_up(warehouse)


def test_a_latin1_titles_file_stays_latin1(tmp_path):
    folder = write_files(
        tmp_path / "in",
        {"combined_data_1.txt": "1:\n10,3,2005-01-01\n", "movie_titles.csv": b"1,2003,Caf\xe9\n2,2004,Na\xefve\n"},
    )
    warehouse, _ = run(folder, tmp_path)
    assert query(warehouse, "select title from raw.movies order by movie_id") == [("Café",), ("Naïve",)]


def test_rejects_are_written_in_bulk_and_the_limit_is_checked_as_the_run_goes(tmp_path, monkeypatch):
    """A file in the wrong layout stops after its first chunk, not at the end."""
    monkeypatch.setattr(movielens, "CHUNK_BYTES", 4096)
    lines = "".join(f"{i},{i % 50 + 1},3,881250949\n" for i in range(1, 5001))  # commas in a tab-separated u.data
    folder = write_files(tmp_path / "in", {"u.data": lines})
    with pytest.raises(IngestError) as error:
        run(folder, tmp_path)
    message = str(error.value)
    assert "ratings records rejected (100.000%) so far" in message
    rejected = int(message.split(" of ")[0].replace(",", ""))
    assert 0 < rejected < 1000  # the first chunk or so, not the 5,000 lines
    assert "u.data:1: expected 4 fields (user_id,movie_id,rating,timestamp), found 1" in message
    assert not (tmp_path / "w.duckdb").exists()  # a failed first ingest leaves no warehouse behind


def test_a_run_that_would_pass_is_not_stopped_early(tmp_path, monkeypatch):
    monkeypatch.setattr(movielens, "CHUNK_BYTES", 256)
    good = "".join(f"{i}\t{i % 50 + 1}\t3\t881250949\n" for i in range(1, 3001))
    folder = write_files(tmp_path / "in", {"u.data": "x\ty\n" + good})  # 1 bad line first, then 3,000 good
    warehouse, summary = run(folder, tmp_path, reject_threshold=0.001)
    assert (summary["loaded"], summary["rejected"]) == (3000, 1)


# --- MovieLens files --------------------------------------------------------------------------------


def test_ratings_csv_missing_its_timestamp_column_says_so(tmp_path):
    folder = write_files(tmp_path / "in", {"ratings.csv": "userId,movieId,rating\n1,1,4.0\n"})
    with pytest.raises(IngestError) as error:
        run(folder, tmp_path)
    assert "lacks timestamp" in str(error.value) and "--format csv --columns" in str(error.value)
    assert "another order" not in str(error.value)


def test_ml_1m_without_users_dat_is_still_ml_1m_and_unread_files_are_named(tmp_path, capsys):
    folder = write_files(
        tmp_path / "in", {"ratings.dat": "1::1193::5::978300760\n", "movies.dat": "1193::One Flew (1975)::Drama\n"}
    )
    warehouse, _ = run(folder, tmp_path)
    assert query(warehouse, "select variant from raw.dataset") == [("ml-1m",)]
    folder = write_files(
        tmp_path / "latest",
        {
            "ratings.csv": "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n",
            "tags.csv": "userId,movieId,tag,timestamp\n",
            "links.csv": "movieId,imdbId,tmdbId\n",
        },
    )
    ingest(folder, warehouse=tmp_path / "w2.duckdb", progress=False)
    assert "not loaded: tags.csv, links.csv" in capsys.readouterr().err


def test_movielens_timestamps_outside_the_window(tmp_path):
    folder = write_files(tmp_path / "in", {"u.data": "1\t1\t3\t881250949\n2\t1\t3\t100\n3\t1\t3\t1893456000\n"})
    warehouse, _ = run(folder, tmp_path, reject_threshold=1.0)
    assert rejects(warehouse) == [
        ("u.data", 2, f"timestamp 100 (1970-01-01) is outside the movielens window 1995-01-01..{TODAY}"),
        ("u.data", 3, f"timestamp 1893456000 (2030-01-01) is outside the movielens window 1995-01-01..{TODAY}"),
    ]


# --- user errors: one line, exit 1 ------------------------------------------------------------------


def good_folder(tmp_path):
    return write_files(tmp_path / "good", {"combined_data_1.txt": "1:\n10,3,2005-01-01\n"})


def test_max_reject_rate_must_be_a_share(tmp_path, capsys):
    folder = good_folder(tmp_path)
    for value in ("nan", "inf", "-0.1", "2", "abc"):
        code, err = cli(capsys, folder, "--warehouse", tmp_path / "w.duckdb", "--max-reject-rate", value)
        assert code == 1 and "--max-reject-rate" in one_error_line(err)
    with pytest.raises(IngestError, match="not a share from 0 to 1"):
        run(folder, tmp_path, reject_threshold=float("nan"))
    assert not (tmp_path / "w.duckdb").exists()


def test_missing_paths_broken_links_and_folders_named_like_files(tmp_path, capsys):
    warehouse = tmp_path / "w.duckdb"
    code, err = cli(capsys, tmp_path / "nowhere", "--warehouse", warehouse)
    assert code == 1 and "does not exist" in one_error_line(err)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "combined_data_1.txt").symlink_to(tmp_path / "gone.txt")
    code, err = cli(capsys, broken, "--warehouse", warehouse)
    assert code == 1 and "broken symbolic link" in one_error_line(err)
    folder = tmp_path / "dir"
    (folder / "combined_data_1.txt").mkdir(parents=True)
    code, err = cli(capsys, folder, "--warehouse", warehouse)
    assert code == 1 and "combined_data_1.txt is a folder, not a file" in one_error_line(err)
    assert not warehouse.exists()


def test_an_unreadable_file(tmp_path, capsys, monkeypatch):
    import builtins

    from movierec.ingest import common

    folder = good_folder(tmp_path)
    real_open = builtins.open

    def deny(path, *args, **kwargs):
        if str(path).endswith("combined_data_1.txt"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(common, "open", deny, raising=False)  # what a chmod 000 file does (tests may run as root)
    code, err = cli(capsys, folder, "--warehouse", tmp_path / "w.duckdb")
    assert code == 1 and "cannot read rating file" in one_error_line(err) and "Permission denied" in err
    assert not (tmp_path / "w.duckdb").exists()


def test_warehouse_errors(tmp_path, capsys):
    folder = good_folder(tmp_path)
    (tmp_path / "a_file").write_text("x")
    code, err = cli(capsys, folder, "--warehouse", tmp_path / "a_file" / "w.duckdb")
    assert code == 1 and "cannot create the warehouse folder" in one_error_line(err)
    foreign = tmp_path / "foreign.duckdb"
    foreign.write_bytes(b"this is not a database" * 1000)
    code, err = cli(capsys, folder, "--warehouse", foreign)
    assert code == 1 and "is not a DuckDB database" in one_error_line(err)
    assert foreign.read_bytes().startswith(b"this is not")  # left as it was
    code, err = cli(capsys, folder, "--warehouse", tmp_path)
    assert code == 1 and "is a folder" in one_error_line(err)


def test_a_warehouse_locked_by_another_process(tmp_path, capsys):
    from tests.serving_warehouse import Writer

    folder = good_folder(tmp_path)
    warehouse = tmp_path / "w.duckdb"
    duckdb.connect(str(warehouse)).close()
    writer = Writer(warehouse)
    try:
        code, err = cli(capsys, folder, "--warehouse", warehouse)
    finally:
        writer.release()
    assert code == 1 and "in use by another process" in one_error_line(err)


def test_a_failed_first_ingest_leaves_no_warehouse_and_a_failed_later_one_keeps_the_old(tmp_path, capsys):
    warehouse = tmp_path / "w.duckdb"
    bad = write_files(tmp_path / "bad", {"combined_data_1.txt": "no header here\n"})
    code, err = cli(capsys, bad, "--warehouse", warehouse)
    assert code == 1 and "over the limit" in err and not warehouse.exists()
    assert cli(capsys, good_folder(tmp_path), "--warehouse", warehouse)[0] == 0
    assert cli(capsys, bad, "--warehouse", warehouse)[0] == 1
    assert query(warehouse, "select count(*) from raw.ratings") == [(1,)]


def test_option_errors_are_one_line_and_exit_1(tmp_path, capsys):
    folder = good_folder(tmp_path)
    for args, expected in [
        (["--format", "nope"], "invalid choice"),
        (["--columns", "user=1,movie=2,rating=3", "--format", "netflix"], "--columns applies to --format csv"),
        (["--delimiter", ";"], "--delimiter and --titles apply to --format csv"),
        (["--format", "csv"], "--format csv needs --columns"),
    ]:
        code, err = cli(capsys, folder, *args)
        assert code == 1 and expected in one_error_line(err), (args, err)


def test_movielens_names_that_are_not_files(tmp_path, capsys):
    folder = tmp_path / "ml"
    (folder / "ratings.csv").mkdir(parents=True)
    code, err = cli(capsys, folder, "--warehouse", tmp_path / "w.duckdb")
    assert code == 1 and "ratings.csv is a folder, not a file" in one_error_line(err)
    folder = write_files(tmp_path / "ml2", {"u.data": "1\t1\t3\t881250949\n"})
    (folder / "u.item").symlink_to(tmp_path / "gone")
    code, err = cli(capsys, folder, "--warehouse", tmp_path / "w.duckdb")
    assert code == 1 and "u.item is a broken symbolic link" in one_error_line(err)


def test_the_limit_is_checked_inside_a_chunk_too(tmp_path, monkeypatch):
    """One 16 MB chunk can hold a million lines: a chunk that fails the bulk parse is read in pieces
    (checked after each), and a piece read line by line is checked every CHECK_EVERY lines."""
    from movierec.ingest import reading

    lines = "".join(f"{i},{i % 50 + 1},3,881250949\n" for i in range(1, 50_001))
    folder = write_files(tmp_path / "in", {"u.data": lines})
    with pytest.raises(IngestError) as error:
        run(folder, tmp_path)
    message = str(error.value)
    first_piece = reading.split_pieces(lines.encode())[0][0].count(b"\n")
    assert message.startswith(f"{first_piece:,} of {first_piece:,} ratings records rejected (100.000%) so far")
    monkeypatch.setattr(reading, "PIECE_BYTES", 1 << 30)  # one piece: the check inside the line-by-line parser
    with pytest.raises(IngestError) as error:
        run(folder, tmp_path)
    assert str(error.value).startswith("20,000 of 20,000 ratings records rejected (100.000%) so far")


def test_good_lines_of_the_chunk_count_in_a_mid_chunk_check(tmp_path, monkeypatch):
    """Half bad, half good: the mid-chunk check counts the good lines parsed so far (10,000 of 20,000)."""
    from movierec.ingest import reading

    monkeypatch.setattr(reading, "PIECE_BYTES", 1 << 30)
    lines = "".join(f"{i}\t{i % 50 + 1}\t3\t881250949\n" if i % 2 else f"{i},1,3,881250949\n" for i in range(1, 50_001))
    folder = write_files(tmp_path / "in", {"u.data": lines})
    with pytest.raises(IngestError) as error:
        run(folder, tmp_path)
    assert str(error.value).startswith("10,000 of 20,000 ratings records rejected (50.000%) so far")


@pytest.mark.parametrize("layout", ["netflix", "movielens", "csv"])
def test_a_chunk_with_a_few_bad_lines_is_reread_in_pieces_with_the_same_result(tmp_path, monkeypatch, layout):
    """Pieces parsed in bulk and pieces parsed line by line give the rows, lines and rejects that a
    whole line-by-line read gives."""
    from movierec.ingest import reading

    if layout == "netflix":
        body = "".join(
            f"{m}:\n" + "".join(f"{u},{(u + m) % 5 + 1},2005-01-{u % 28 + 1:02d}\n" for u in range(1, 400))
            for m in range(1, 30)
        )
        bad = body.replace("7,3,2005-01-08\n", "7,9,2005-01-08\n").replace("300,", "x300,")
        files, kwargs = {"combined_data_1.txt": bad}, {}
    elif layout == "movielens":
        body = "".join(f"{u}\t{m}\t{(u + m) % 5 + 1}\t8812{u:05d}\n" for m in range(1, 30) for u in range(1, 400))
        bad = body.replace("\t7\t", "\t-7\t").replace("300\t", "x300\t")
        files, kwargs = {"u.data": bad}, {}
    else:
        body = "".join(f"{m},{u},{(u + m) % 5 + 1}\n" for m in range(1, 30) for u in range(1, 400))
        bad = body.replace(",300,", ",x300,").replace(",7,3\n", ",7,9\n")
        files, kwargs = {"r.csv": bad}, {"fmt": "csv", "columns": "movie=1,user=2,rating=3"}
    folder = write_files(tmp_path / "in", files)
    path = folder if layout != "csv" else folder / "r.csv"

    def load(name, piece_bytes):
        monkeypatch.setattr(reading, "PIECE_BYTES", piece_bytes)
        warehouse = tmp_path / f"{name}.duckdb"
        ingest(path, warehouse=warehouse, quiet=True, reject_threshold=1.0, **kwargs)
        return (
            query(warehouse, "select movie_id, user_id, rating, rated_on, line from raw.ratings order by line"),
            query(warehouse, "select line, reason from raw.rejects order by line"),
            query(warehouse, "select lines, headers, loaded, rejected, duplicates from raw.files"),
        )

    in_pieces = load("pieces", 2048)
    whole = load("whole", 1 << 30)
    assert in_pieces == whole
    assert len(whole[1]) > 10 and len(whole[0]) > 10_000
