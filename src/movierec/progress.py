"""Progress of long work as log lines on stderr: counts done of the total, elapsed time and rate."""

from __future__ import annotations

import sys
import time


class Progress:
    """A log line on stderr every 15 s (and at the end) with counts and rate."""

    def __init__(self, what: str, total: int, unit: str, enabled: bool = True, every: float = 15.0) -> None:
        self.what, self.total, self.unit, self.enabled, self.every = what, int(total), unit, enabled, every
        self.done_count = 0
        self.start = self.last = time.perf_counter()

    def step(self, n: int) -> None:
        self.done_count += n
        now = time.perf_counter()
        if self.enabled and now - self.last >= self.every:
            self.last = now
            self._print(now)

    def done(self) -> None:
        if self.enabled:
            self._print(time.perf_counter())

    def _print(self, now: float) -> None:
        seconds = max(now - self.start, 1e-9)
        print(f"[{self.what}] {self.done_count:,}/{self.total:,} {self.unit} in {seconds:.1f} s "
              f"({self.done_count / seconds:,.0f} {self.unit}/s)", file=sys.stderr, flush=True)
