"""The BLAS limit holds while any overlapping fit runs, and is restored after the last."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

OVERLAP_SCRIPT = """
import json, threading
import numpy, scipy.linalg  # every BLAS library threadpoolctl can see, loaded before anything is read
from threadpoolctl import threadpool_info
from movierec.models.blas import one_blas_thread

def blas_threads():
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]

original = blas_threads()
started, second_entered, first_done, second_checked = (threading.Event() for _ in range(4))
seen = {}

def first():
    with one_blas_thread():
        started.set()
        second_entered.wait()
    first_done.set()

def second():
    started.wait()
    with one_blas_thread():
        second_entered.set()
        first_done.wait()
        seen["after the first left"] = blas_threads()
    second_checked.set()

threads = [threading.Thread(target=first), threading.Thread(target=second)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join(timeout=60)
print(json.dumps({"original": original, "checked": second_checked.is_set(),
                  "after the first left": seen.get("after the first left")}))
"""


def test_the_first_fit_to_finish_does_not_lift_the_limit_of_one_still_running():
    # in a fresh interpreter: a thread that another test left holding the limit (a server's
    # fold-in, say) would keep it set here, and the last check could not tell
    out = subprocess.run([sys.executable, "-c", OVERLAP_SCRIPT], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    if not result["original"] or max(result["original"]) < 2:
        pytest.skip("BLAS runs one thread anyway here: nothing to tell apart")
    assert result["checked"]
    assert set(result["after the first left"]) == {1}
    # Not asserted: that the count reads as the original again once the last holder left. The
    # restore is called (movierec.models.blas), but OpenBLAS 0.3.31 reports 1 thread afterwards in
    # about half of the runs when the limit was set and lifted on two other threads; with one
    # thread doing both it reads back every time.


def test_a_dbt_process_holds_one_blas_thread_after_its_fits_end():
    script = (
        "import threading\n"
        "from threadpoolctl import threadpool_info\n"
        "from movierec.models.blas import one_blas_thread_for_this_process\n"
        "def fit():\n"
        "    one_blas_thread_for_this_process()\n"
        "worker = threading.Thread(target=fit); worker.start(); worker.join()\n"
        "print(sorted({pool['num_threads'] for pool in threadpool_info() if pool['user_api'] == 'blas'}))\n"
    )
    before = subprocess.run(
        [
            sys.executable,
            "-c",
            "import numpy, scipy.linalg\n"
            + script.split("def fit")[0]
            + "print(sorted({p['num_threads'] for p in threadpool_info() if p['user_api'] == 'blas'}))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if before == "[1]":
        pytest.skip("BLAS runs one thread anyway here: nothing to tell apart")
    after = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.strip()
    assert after == "[1]"  # every BLAS library (numpy's and scipy's), from the fit's thread until the end
