"""`movierec serve` sets one BLAS thread before numpy loads (the error wrapper must not import it first)."""

from __future__ import annotations

import os
import subprocess
import sys

DRIVER = """
import sys, types
from movierec import cli

def serve(*args, **kwargs):
    import numpy  # noqa: F401  (what the real server loads)
    from threadpoolctl import threadpool_info
    blas = [p["num_threads"] for p in threadpool_info() if p["internal_api"] in ("openblas", "mkl", "blis")]
    print("BLAS", blas)

server = types.ModuleType("movierec.server")
server.serve = serve
sys.modules["movierec.server"] = server
print("NUMPY BEFORE", "numpy" in sys.modules)
sys.exit(cli.main(["serve", "--warehouse", "unused.duckdb"]))
"""


def test_serve_sets_one_blas_thread_before_numpy_loads(tmp_path):
    env = {
        k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    }
    result = subprocess.run([sys.executable, "-c", DRIVER], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "NUMPY BEFORE False" in result.stdout, result.stdout
    blas = next(line for line in result.stdout.splitlines() if line.startswith("BLAS"))
    assert blas == "BLAS [1]", result.stdout
