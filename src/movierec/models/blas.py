"""One BLAS thread for the whole process while any fit runs.

dbt runs several Python models at once as threads of one process, and every fit wants BLAS held
to one thread (thousands of small GEMMs split over threads are slow, and several pools of
several threads oversubscribe the cores: measured 10x slower iALS on 2 cores). BLAS's thread
count is process-wide, so a plain `threadpool_limits` per fit is wrong when fits overlap: the
first fit to finish restores the original count while the other is still running, which then
finishes with multi-threaded BLAS, whose float sums run in another order. Its results then
depend on when its neighbour happened to finish (seen: biased_mf biases differing by 1.4e-4
between two fits of the same training data). Here the first fit to enter sets the limit and
the last to leave restores it.

A dbt build goes further (`one_blas_thread_for_this_process`, called by every fit there): BLAS
stays at one thread for the rest of the process, because lifting a limit and setting it again
is not neutral either. OpenBLAS, once back at two threads after a call, answers later calls from
another thread in a different float order even at one thread (measured: a BiasedMF fit on a
worker thread after one on the main thread, 2.8e-3 apart on a movie bias; identical with the
limit never lifted). dbt runs fits on a pool of threads, so only a limit that never moves makes
two builds of the same data give the same parameters.

The restore itself is best effort: when the limit was set on one thread and lifted on another
while a third reads it, OpenBLAS 0.3.31 reports one thread afterwards in about half of the runs
(tests/unit/test_blas.py); BLAS calls after it may then run on one thread.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from threadpoolctl import threadpool_limits

_LOCK = threading.Lock()
_holders = 0
_limiter: threadpool_limits | None = None


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS limited to one thread until the last overlapping holder (any thread) leaves."""
    global _holders, _limiter
    with _LOCK:
        if _holders == 0:
            _limiter = threadpool_limits(limits=1, user_api="blas")
        _holders += 1
    try:
        yield
    finally:
        with _LOCK:
            _holders -= 1
            if _holders == 0 and _limiter is not None:
                _limiter.restore_original_limits()
                _limiter = None


_PROCESS_LIMIT: list[threadpool_limits] = []


def one_blas_thread_for_this_process() -> None:
    """Hold BLAS at one thread from now until the process ends (idempotent). For processes that
    only fit, such as a dbt build; a notebook keeps its BLAS threads with `one_blas_thread`."""
    with _LOCK:
        if not _PROCESS_LIMIT:
            import scipy.linalg  # noqa: F401  (scipy's own OpenBLAS must be loaded to be limited)

            _PROCESS_LIMIT.append(threadpool_limits(limits=1, user_api="blas"))
