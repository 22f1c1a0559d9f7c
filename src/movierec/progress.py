"""Progress of long work as log lines on stderr: the one reporter of the generator, ingestion, the
model fits and the batch serving engine. Every line reads `[label elapsed] message`, e.g.
`[generate  12.3s] pairs: 1,024/10,000 ratings (10%, 83 ratings/s)`,
`[ingest   4.0s] 512/2,048 MB (25%, 128 MB/s), 51,200,000 records (12.8M records/s)` or
`[biased_mf   9.1s] epoch   3  train RMSE 0.8123  (3.0 s)`.

Quiet unless enabled; at most one count line every `every` seconds, plus the line that reaches the
total (or a forced one), so a CI log stays short. With `live`, on a terminal the count line is
redrawn in place (every half second) instead.
"""

from __future__ import annotations

import sys
import time


def _rate(value: float) -> str:
    if value >= 1e6:
        return f"{value / 1e6:.1f}M"
    return f"{value:,.0f}" if value >= 10 else f"{value:.2f}"  # a slow rate still reads: 0.12 iterations/s


class Progress:
    """Counts done of a total, with the elapsed time and the rate, on stderr.

    `scale` divides the counts for display (1e6 with unit "MB" for bytes). A Progress is also a
    fit's per-epoch callback: calling it with any report (a model's `EpochLog`) prints that
    report's text as a line, the clock counting from the reporter's creation (the fit's start).
    """

    def __init__(
        self,
        label: str,
        total: int = 0,
        unit: str = "",
        enabled: bool = True,
        every: float = 15.0,
        *,
        scale: float = 1.0,
        live: bool = False,
    ) -> None:
        self.label, self.total, self.unit, self.enabled, self.every = label, int(total), unit, enabled, every
        self.scale = scale
        self.live = live and sys.stderr.isatty()  # redraw in place on a terminal only
        self.done_count = 0
        self.start = self._last = time.perf_counter()
        self._printed = None
        self._open = False  # a live line is on screen without its newline

    def note(self, message: str) -> None:
        """A free line, e.g. what is about to start."""
        if self.enabled:
            if self._open:  # keep the live count line above it
                print(file=sys.stderr, flush=True)
                self._open = False
            self._emit(message, final=True)

    def __call__(self, report: object) -> None:
        """Print `report` (e.g. a fit's EpochLog) as a line: the callback form of `note`."""
        self.note(str(report))

    def update(
        self,
        done: int,
        total: int | None = None,
        *,
        stage: str = "",
        since: float | None = None,
        force: bool = False,
        counts: dict[str, int] | None = None,
    ) -> None:
        """`done` of `total` (default: the reporter's total) as a line, with the rate since `since` (a
        perf_counter time; default the start): when forced, when done reaches the total, or when the
        last line is `every` seconds old (half a second when live). `counts` adds other running
        totals with their rates: `, 1,234 records (5.6M records/s)`."""
        total = self.total if total is None else int(total)
        now = time.perf_counter()
        every = 0.5 if self.live else self.every
        if not self.enabled or not (force or done >= total or now - self._last >= every):
            return
        self._last, self._printed = now, (stage, done)
        elapsed = max(now - (self.start if since is None else since), 1e-9)
        unit = f" {self.unit}" if self.unit else ""
        shown, shown_total = done / self.scale, total / self.scale
        text = (
            f"{stage + ': ' if stage else ''}{shown:,.0f}/{shown_total:,.0f}{unit} "
            f"({100 * done / max(total, 1):.0f}%, {_rate(shown / elapsed)}{unit}/s)"
        )
        for name, count in (counts or {}).items():
            text += f", {count:,} {name} ({_rate(count / elapsed)} {name}/s)"
        self._emit(text, final=force or done >= total)

    def step(self, n: int) -> None:
        """`n` more done (of the reporter's total)."""
        self.done_count += n
        self.update(self.done_count)

    def done(self, counts: dict[str, int] | None = None) -> None:
        """The final count, unless that line was just printed."""
        if self._printed != ("", self.done_count):
            self.update(self.done_count, force=True, counts=counts)
        elif self._open:
            print(file=sys.stderr, flush=True)
            self._open = False

    def _emit(self, message: str, final: bool) -> None:
        line = f"[{self.label} {time.perf_counter() - self.start:6.1f}s] {message}"
        if self.live:  # redraw the one line; end it when the count is final or a free line follows
            print("\r" + line, end="\n" if final else "", file=sys.stderr, flush=True)
            self._open = not final
        else:
            print(line, file=sys.stderr, flush=True)
