"""`make setup` compiles the numba kernels (python -m movierec.models.warm) so that no fit pays for it."""

import subprocess
import sys


def test_warm_compiles_every_kernel_through_the_fits_code_paths():
    from movierec.models import _ials_kernel, _knn_kernel
    from movierec.models.warm import warm

    assert warm() > 0
    for kernel in (_ials_kernel.cg_rows, _knn_kernel._grid, _knn_kernel._pairs):
        assert kernel.signatures, f"{kernel.__name__} was not compiled"


def test_warm_runs_as_a_module_and_says_so():
    done = subprocess.run([sys.executable, "-m", "movierec.models.warm"], capture_output=True, text=True, check=True)
    assert "numba kernels compiled and cached" in done.stderr
