"""Benchmark: how fast bad input is dealt with.

Targets (issue "Any ratings file a user has"): a 100,000-line file in the wrong layout fails in
under 5 s (the reject limit is checked after every chunk and rejects are written in bulk; it
took 357 s when rejects were written one row at a time and the limit was checked at the end);
and rejects cost little when a run has many of them but stays under the limit.

    .venv/bin/python benchmarks/bench_rejects.py

Each step runs `movierec ingest` in its own process (start-up and imports included), on files
written to benchmarks/.cache/rejects.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time

from _harness import BIN, CACHE, PROJECT_ROOT, Result, print_table

LINES = 100_000


def ingest(step: str, args: list, expect_failure: bool, target: float | None, note: str = "") -> Result:
    warehouse = CACHE / "rejects" / "w.duckdb"
    warehouse.unlink(missing_ok=True)
    cmd = [str(BIN / "movierec"), "ingest", *map(str, args), "--warehouse", str(warehouse)]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    err = proc.stderr.read()
    code = os.waitstatus_to_exitcode(status)
    if (code != 0) != expect_failure:
        raise SystemExit(f"[bench] {step}: exit code {code}\n{err}")
    lines = err.strip().splitlines()
    shown = next((line for line in lines if "error:" in line), lines[-1] if lines else "")
    return Result(step, seconds, usage.ru_maxrss / 1024 / 1024, target, None, note or shown[:100])


def main() -> None:
    root = CACHE / "rejects"
    shutil.rmtree(root, ignore_errors=True)
    # MovieLens-style comma lines in a tab-separated u.data
    (root / "udata").mkdir(parents=True)
    with open(root / "udata" / "u.data", "w") as f:
        f.writelines(f"{i % 900 + 1},{i % 1600 + 1},{i % 5 + 1},881250949\n" for i in range(LINES))
    # ratings.dat lines in a Netflix combined_data file (no movie headers)
    (root / "netflix").mkdir()
    with open(root / "netflix" / "combined_data_1.txt", "w") as f:
        f.writelines(f"{i % 900 + 1}::{i % 1600 + 1}::{i % 5 + 1}::881250949\n" for i in range(LINES))
    # a generic file mapped with the wrong columns (the date column read as the rating)
    with open(root / "export.csv", "w") as f:
        f.write("user,movie,rating,date\n")
        f.writelines(f"{i % 900 + 1},{i % 1600 + 1},{i % 5 + 1},2005-01-01\n" for i in range(LINES))
    # 1,000,000 good Netflix lines and 1% bad ones, under a 2% limit: the cost of many rejects
    (root / "many").mkdir()
    with open(root / "many" / "combined_data_1.txt", "w") as f:
        for movie in range(1, 101):
            f.write(f"{movie}:\n")
            f.writelines(
                f"{u},{u % 5 + 1},2005-01-01\n" if u % 100 else f"{u},9,2005-01-01\n" for u in range(1, 10_001)
            )

    results = [
        ingest(f"u.data in the wrong layout ({LINES:,} lines)", [root / "udata"], True, 5),
        ingest(f"combined_data in the wrong layout ({LINES:,} lines)", [root / "netflix"], True, 5),
        ingest(
            f"csv with a wrong --columns mapping ({LINES:,} lines)",
            [root / "export.csv", "--format", "csv", "--columns", "user=1,movie=2,rating=4"],
            True,
            5,
        ),
        ingest(
            "1,000,000 lines, 10,000 rejected, --max-reject-rate 0.02",
            [root / "many", "--max-reject-rate", "0.02"],
            False,
            None,
            note="loads 990,000; every bad line in raw.rejects",
        ),
    ]
    print_table(f"Bad input ({os.cpu_count()} cores; wall time includes start-up and imports)", results)


if __name__ == "__main__":
    main()
