"""Tiny benchmark harness: run a command, measure its wall time and peak memory, print a table.

Peak memory is the maximum resident set size of the command's process tree as the kernel
reports it for that child (`os.wait4`), so each step is measured on its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CACHE = PROJECT_ROOT / "benchmarks" / ".cache"
BIN = Path(sys.executable).parent


@dataclass
class Result:
    step: str
    seconds: float
    peak_gb: float
    target_seconds: float | None = None
    target_gb: float | None = None
    note: str = ""

    @property
    def verdict(self) -> str:
        ok = (self.target_seconds is None or self.seconds <= self.target_seconds) and (
            self.target_gb is None or self.peak_gb <= self.target_gb
        )
        return "within target" if ok else "OVER TARGET"


def load_average() -> str:
    """The machine's 1-minute load average, with the core count to read it against."""
    return f"{os.getloadavg()[0]:.1f} (1-minute average) on {os.cpu_count()} cores"


def run(
    step: str, cmd: list[str], target_seconds=None, target_gb=None, env=None, note="", stdout: Path | None = None
) -> Result:
    """Run `cmd` from the project root; fail loudly if it fails. `stdout`: a file that gets its output."""
    print(f"[bench] {step}: {' '.join(map(str, cmd))}", file=sys.stderr, flush=True)
    start = time.perf_counter()
    out = open(stdout, "w") if stdout is not None else None  # noqa: SIM115 (closed below, after the wait)
    try:
        proc = subprocess.Popen([str(c) for c in cmd], cwd=PROJECT_ROOT, env={**os.environ, **(env or {})}, stdout=out)
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        if out is not None:
            out.close()
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"[bench] {step} failed with exit code {proc.returncode}")
    return Result(step, seconds, usage.ru_maxrss / 1024 / 1024, target_seconds, target_gb, note)


def print_table(title: str, results: list[Result]) -> None:
    rows = [("step", "wall s", "target s", "peak GB", "target GB", "verdict", "note")]
    for r in results:
        rows.append(
            (
                r.step,
                f"{r.seconds:.1f}",
                "-" if r.target_seconds is None else f"{r.target_seconds:.0f}",
                f"{r.peak_gb:.2f}",
                "-" if r.target_gb is None else f"{r.target_gb:.0f}",
                r.verdict,
                r.note,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    print(f"\n{title}")
    for i, row in enumerate(rows):
        print(
            "  ".join(
                cell.ljust(w) if j in (0, 5, 6) else cell.rjust(w) for j, (cell, w) in enumerate(zip(row, widths))
            )
        )
        if i == 0:
            print("  ".join("-" * w for w in widths))
