"""`make setup` compiles the numba kernels (python -m movierec.models.warm) so that no fit pays for it,
and the kernels let the other fit of a dbt build run meanwhile (they release the GIL)."""

import subprocess
import sys
import threading
import time

import numpy as np

# In a fresh process: warm up, then fit on data indexed the way the dbt models' shared training
# ratings are (Ratings.from_indexed), and count the kernels' compiled signatures before and after.
FITS_ADD_NO_SIGNATURE = """
import duckdb
import numpy as np
from movierec.models import _factor_kernel, _ials_kernel, _knn_kernel, _rows_kernel, _sweep_kernel, _topk_kernel
from movierec.arrays import top_k_rows
from movierec.models.data import Ratings, training_ratings
from movierec.models.knn import ItemKNN, UserKNN
from movierec.models.mf import BayesianMF, BiasedMF
from movierec.models.topn import ImplicitALS
from movierec.models.warm import warm

kernels = (_ials_kernel.cg_rows, _knn_kernel._grid, _knn_kernel._pairs, _rows_kernel._group, _rows_kernel._counting_scatter, _topk_kernel.top_k_into, _factor_kernel.predict_into)
kernels += (_sweep_kernel.normal_equations, _sweep_kernel.squared_errors)
warm()
before = [len(k.signatures) for k in kernels]
assert all(before), before
rng = np.random.default_rng(3)
pairs = np.unique(np.c_[rng.integers(0, 300, 6000), rng.integers(0, 120, 6000)], axis=0)
user, movie = pairs[:, 0].astype(np.int32), pairs[:, 1].astype(np.int32)
ratings = Ratings.from_indexed(
    user, movie, rng.integers(1, 6, len(pairs)).astype(np.float32), np.arange(300) + 10, np.arange(120) + 5
)
for model in (ItemKNN(n_neighbors=20, min_neighbors=3), UserKNN(n_neighbors=20, min_neighbors=3)):
    model.fit(ratings)
    model.predict(ratings.user_ids[:50], ratings.movie_ids[:50])
    model.recommend(ratings.user_ids[:20], k=5)
ImplicitALS(n_factors=8, iterations=2, solver="cg").fit(ratings)
con = duckdb.connect()  # the shared load of int_ratings_train, which sorts what it reads
con.execute(
    "create table t as select (i % 7)::integer as user_id, (i // 7)::integer as movie_id, 3.0 as rating, "
    "(i % 7)::integer as user_index, (i // 7)::integer as movie_index from range(70) r(i)"
)
training_ratings(con.table("t"))
mf = BiasedMF(n_factors=4, epochs=1).fit(ratings)
mf.predict(ratings.user_ids[:50], ratings.movie_ids[:50])
mf._train_rmse(ratings)
factors = rng.standard_normal((30, 8)).astype(np.float32)
top_k_rows(factors[:10] @ factors.T, 5)  # the serving's float32 blocks
BayesianMF(n_factors=3, samples=1, burn_in=1, init_epochs=1).fit(ratings)
after = [len(k.signatures) for k in kernels]
assert after == before, (before, after)
print("ok")
"""


def test_warm_compiles_the_signatures_the_fits_use():
    done = subprocess.run([sys.executable, "-c", FITS_ADD_NO_SIGNATURE], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_warm_runs_as_a_module_and_says_so():
    done = subprocess.run([sys.executable, "-m", "movierec.models.warm"], capture_output=True, text=True, check=True)
    assert "numba kernels compiled and cached" in done.stderr


def test_a_kernel_lets_another_thread_run():
    from movierec.models._knn_kernel import grid_averages
    from movierec.models.warm import warm

    warm()
    rng = np.random.default_rng(0)
    n, users, per_user = 3000, 40, 400
    similarity = rng.standard_normal((n, n)).astype(np.float32)
    indptr = np.arange(0, (users + 1) * per_user, per_user, dtype=np.int32)
    indices = np.concatenate([np.sort(rng.choice(n, per_user, replace=False)) for _ in range(users)]).astype(np.int32)
    residuals = rng.standard_normal(len(indices))
    ticks = []

    def other_fit():  # pure Python: runs only while nobody holds the GIL
        end = time.perf_counter() + 10
        while not done.is_set() and time.perf_counter() < end:
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    done = threading.Event()
    thread = threading.Thread(target=other_fit)
    started = time.perf_counter()
    thread.start()
    grid_averages(similarity, indptr, indices, residuals, np.arange(users), np.arange(n), 80, 20)
    elapsed = time.perf_counter() - started
    done.set()
    thread.join()
    assert elapsed > 0.1, "the kernel call was too short to tell"
    gaps = np.diff([started, *ticks])
    assert gaps.max() < elapsed / 2, f"the other thread stalled for {gaps.max():.2f} s of a {elapsed:.2f} s call"
