"""Progress of long work as log lines on stderr, one reporter for the generator, the batch serving
engine and anything else that counts: `[label  12.3s] stage: 1,024/10,000 users (10%, 83 users/s)`.

Quiet unless enabled; at most one line every `every` seconds, plus the line that reaches the total
(or a forced one), so a CI log stays short.
"""

from __future__ import annotations

import sys
import time


class Progress:
    """Counts done of a total, with the elapsed time and the rate, on stderr."""

    def __init__(self, label: str, total: int = 0, unit: str = "", enabled: bool = True, every: float = 15.0) -> None:
        self.label, self.total, self.unit, self.enabled, self.every = label, int(total), unit, enabled, every
        self.done_count = 0
        self.start = self._last = time.perf_counter()
        self._printed = None

    def note(self, message: str) -> None:
        """A free line, e.g. what is about to start."""
        if self.enabled:
            print(f"[{self.label} {time.perf_counter() - self.start:6.1f}s] {message}", file=sys.stderr, flush=True)

    def update(
        self, done: int, total: int | None = None, *, stage: str = "", since: float | None = None, force: bool = False
    ) -> None:
        """`done` of `total` (default: the reporter's total) as a line, with the rate since `since` (a
        perf_counter time; default the start): when forced, when done reaches the total, or when the
        last line is `every` seconds old."""
        total = self.total if total is None else int(total)
        now = time.perf_counter()
        if not self.enabled or not (force or done >= total or now - self._last >= self.every):
            return
        self._last, self._printed = now, (stage, done)
        rate = done / max(now - (self.start if since is None else since), 1e-9)
        rate_text = f"{rate / 1e6:.1f}M" if rate >= 1e6 else f"{rate:,.0f}"
        unit = f" {self.unit}" if self.unit else ""
        self.note(
            f"{stage + ': ' if stage else ''}{done:,}/{total:,}{unit} "
            f"({100 * done / max(total, 1):.0f}%, {rate_text}{unit}/s)"
        )

    def step(self, n: int) -> None:
        """`n` more done (of the reporter's total)."""
        self.done_count += n
        self.update(self.done_count)

    def done(self) -> None:
        """The final count, unless that line was just printed."""
        if self._printed != ("", self.done_count):
            self.update(self.done_count, force=True)
