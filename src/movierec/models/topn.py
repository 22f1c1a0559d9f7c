"""Top-N models for implicit feedback: EASE and implicit ALS (iALS).

Both read the training data as a binary users x movies matrix X (x_ui = 1 if u rated i, whatever
the rating): they learn what a user is likely to watch next, not how they would rate it, which
is what the top-N hit metrics (precision, recall, nDCG, MAP of held-out ratings) reward.

- `EASE` (Steck 2019): item-item weights B from one ridge regression of X on itself with a zero
  diagonal, in closed form. Dense movies x movies; fine up to ~20K movies.
- `ImplicitALS` (Hu, Koren & Volinsky 2008, in the form of Rendle et al. 2021, "Revisiting the
  performance of iALS on item recommendation benchmarks"): user and movie factors, so it is a
  `FactorModel` with zero biases that can be served with SQL over the factor tables
  (score = dot product).

What dbt runs: `fit_ials` with the dbt vars (`factors` 50, `ials_reg` 0.03,
`ials_unobserved_weight` 0.1, `ials_iterations` 8) serves recommendations (var `serving_model`);
`fit_ease` with `ease_reg` 500 is the alternative. The class defaults (n_factors 64, 16 iterations)
are the setting tuned on ml-100k by benchmarks/bench_ranking.py --tune; dbt uses 50 factors (the
width of the factor tables) and 8 iterations, which that tuning found to score alike (32 to 128
factors alike, 5 to 20 iterations within 0.002 nDCG@10) at a fraction of the full-size build's
time. The tuning grid, the test table, and why iALS rather than EASE: benchmarks/README.md.
"""

from __future__ import annotations

import time

import numpy as np

from movierec.models.base import FactorModel, Recommender, renamed_keyword
from movierec.models.data import Ratings
from movierec.models.rows import RowBatches
from movierec.progress import Progress


class EASE(Recommender):
    """Embarrassingly shallow autoencoder (Steck 2019): score = x_u B.

    Learns the movies x movies weights B minimizing ||X - X B||^2 + reg ||B||^2 subject to
    diag(B) = 0, whose closed form is

        P = (X^T X + reg I)^-1,   B_ij = -P_ij / P_jj  (i != j),   B_jj = 0.

    Assumes a user's next movies are a linear function of all the movies they have seen (no
    user parameters: a score needs only the user's history and B).
    Memory: X^T X is accumulated into one dense n_movies^2 float32 array (in blocks of movies,
    never as a sparse product of the whole matrix; its entries are co-rating counts, exact in
    float32 up to 2^24 users), inverted in place by Cholesky (X^T X + reg I is symmetric positive
    definite: half the work of a general inverse and no second matrix), and B is kept in float32,
    so the peak is about 8 * n_movies^2 bytes: 23 MB for ml-100k's 1,682 movies, 2.5 GB for
    Netflix's 17,770. Raises `MemoryError` before allocating when the peak would exceed
    `max_memory_gb` (then fit on fewer movies, dbt var subset_top_n_movies).
    Time: the Gram matrix costs sum over users of (movies rated)^2; above `max_gram_pairs`
    (default movierec.models.scale.EASE_PAIR_BUDGET) it is estimated from a fixed hash sample of
    users (logged), scaled by their share of the ratings; the inverse is n_movies^3 flops of BLAS,
    in float32: half the time of float64 (82 s against 164 s for 17,770 movies, one thread) for
    the same lists (medium sample: B within 1.8e-5 of float64's in relative Frobenius norm,
    99.75% of 2,000 users' top-10 lists identical, benchmarks/README.md). Should the float32
    Cholesky fail (a matrix too ill-conditioned for it), the fit says so and inverts in float64
    (12 bytes per movie pair).
    """

    name = "ease"

    def __init__(
        self, reg: float = 500.0, max_memory_gb: float = 6.0, verbose: bool = False, max_gram_pairs: float | None = None
    ) -> None:
        super().__init__()
        if reg <= 0:
            raise ValueError("reg must be positive")
        self.reg = float(reg)
        self.max_memory_gb = float(max_memory_gb)
        self.verbose = verbose
        self.max_gram_pairs = max_gram_pairs  # None: movierec.models.scale.EASE_PAIR_BUDGET
        self.weights = np.zeros((0, 0), dtype=np.float32)
        self._seen = None

    def hyperparameters(self) -> dict:
        return {"reg": self.reg}

    def _fit(self, train: Ratings) -> None:
        from scipy.linalg import lapack

        n = train.n_movies
        need_gb = 8 * n * n / 1e9
        if need_gb > self.max_memory_gb:
            raise MemoryError(
                f"EASE needs about {need_gb:,.1f} GB for {n:,} movies, more than max_memory_gb="
                f"{self.max_memory_gb:g}; fit on fewer movies (dbt var subset_top_n_movies) or raise the cap"
            )
        started = time.perf_counter()
        from movierec.models.scale import EASE_PAIR_BUDGET, similarity_users

        x = train.csr(np.ones(len(train), dtype=np.float32))
        self._seen = x
        budget = EASE_PAIR_BUDGET if self.max_gram_pairs is None else self.max_gram_pairs
        sample = similarity_users(np.diff(x.indptr), budget, model="ease", what="Gram matrix X^T X")
        gram_seconds = 0.0
        for dtype, potrf, potri in (
            (np.float32, lapack.spotrf, lapack.spotri),
            (np.float64, lapack.dpotrf, lapack.dpotri),
        ):
            begun = time.perf_counter()
            p = self._regularized_gram(x, sample, len(train), dtype)
            gram_seconds += time.perf_counter() - begun
            # P = (X^T X + reg I)^-1 from the Cholesky factor, in place (upper triangle; the array
            # is C-ordered, so LAPACK's column-major "lower" is our upper: read the transpose).
            p, info = potrf(p.T, lower=True, overwrite_a=True, clean=False)
            if info == 0:
                p, info = potri(p, lower=True, overwrite_c=True)
            if info == 0:
                break
            if dtype == np.float64:
                raise np.linalg.LinAlgError(f"EASE: X^T X + reg I could not be inverted (LAPACK info {info})")
            p = None  # free the float32 matrix before the float64 one
            Progress("ease", enabled=True).note(
                f"the float32 Cholesky inverse failed (LAPACK info {info}): inverting in float64 instead"
            )
        p = p.T  # C-ordered again; only the upper triangle (i <= j) holds P
        weights = np.empty((n, n), dtype=np.float32)
        diag = p.diagonal().copy()
        for start in range(0, n, 1024):  # mirror the triangle and scale, a block of rows at a time
            stop = min(start + 1024, n)
            block = np.triu(p[start:stop], k=start)  # rows start..stop, columns j >= i
            lower = np.tril(p[:, start:stop].T, k=start - 1)  # P_ij = P_ji for j < i
            weights[start:stop] = (block + lower) / -diag[None, :]
        del p
        np.fill_diagonal(weights, 0.0)
        self.weights = weights
        Progress("ease", enabled=self.verbose).note(
            f"{n:,} movies: Gram {gram_seconds:.1f} s, inverse and weights "
            f"{time.perf_counter() - started - gram_seconds:.1f} s"
        )

    def _regularized_gram(self, x, sample, n_ratings: int, dtype) -> np.ndarray:
        """X^T X + reg I as a dense `dtype` array: of every user, or of the `sample` of users scaled
        by the share of the ratings they hold."""
        if sample is None:
            p = gram_matrix(x, dtype=dtype)
        else:  # a hash sample of users: X^T X estimated as (its Gram) / (its share of the ratings)
            sampled = x[sample]
            p = gram_matrix(sampled, dtype=dtype)
            p *= dtype(n_ratings / sampled.nnz)
        p[np.diag_indices(len(p))] += self.reg
        return p

    def score_users(self, user_index: np.ndarray) -> np.ndarray:
        return np.asarray(self._seen[np.asarray(user_index)] @ self.weights)


def gram_matrix(x, block: int = 2048, dtype=np.float64) -> np.ndarray:
    """X^T X of a sparse users x movies matrix as a dense array of `dtype`, a block of movie columns
    at a time: each sparse product holds only n_movies x `block` results."""
    import scipy.sparse as sp

    n = x.shape[1]
    xt = sp.csr_matrix(x.T)
    xc = sp.csc_matrix(x)
    gram = np.empty((n, n), dtype=dtype)
    for start in range(0, n, block):
        stop = min(start + block, n)
        gram[:, start:stop] = (xt @ xc[:, start:stop]).toarray()
    return gram


class ImplicitALS(FactorModel):
    """Implicit-feedback matrix factorization by alternating least squares (iALS).

    Learns user factors w_u and movie factors h_i (k each) minimizing (Rendle et al. 2021)

        sum_{(u,i) observed} (w_u . h_i - 1)^2  +  unobserved_weight * sum_{all u,i} (w_u . h_i)^2
          + reg * ( sum_u (n_u + unobserved_weight * n_movies)^reg_exponent |w_u|^2
                  + sum_i (n_i + unobserved_weight * n_users)^reg_exponent |h_i|^2 )

    i.e. every observed pair is a positive with target 1 and every pair, observed or not, is
    pulled towards 0 with a small weight (the "all unobserved are weak negatives" assumption of
    Hu et al. 2008). Each half-sweep solves every user's (then every movie's) k x k system
    exactly, using the Gramian trick for the all-pairs term:

        (sum_{i in I_u} h_i h_i^T + unobserved_weight * H^T H + reg_u I) w_u = sum_{i in I_u} h_i

    The systems are formed for batches of rows with similar counts (padded, one stacked GEMM) and
    solved with one stacked `np.linalg.solve`: no Python loop over ratings. Above a size budget
    (`solver="auto"`, movierec.models.scale.ials_solver, logged) each row instead takes `cg_steps`
    conjugate-gradient steps from its previous factors (Takacs et al. 2011), which never forms
    the k x k systems: ratings x k per step instead of ratings x k^2. That sweep is one compiled
    loop over the ratings (numba, movierec.models._ials_kernel; compiled on its first use, then
    cached). Movie factors start as N(0, init_std^2 / k) from `seed`; deterministic for a given
    seed, machine and thread count.

    Scores are w_u . h_i; the biases and global mean of the `FactorModel` are zero, so `predict`
    returns that preference score, not a rating. Unknown users are not scored (`recommend`
    skips them).
    """

    predicts_ratings = False

    def __init__(
        self,
        n_factors: int = 64,
        reg: float = 0.03,
        unobserved_weight: float = 0.1,
        reg_exponent: float = 1.0,
        iterations: int = 16,
        init_std: float = 0.1,
        seed: int = 0,
        verbose: bool = False,
        block_mb: float = 128.0,
        solver: str = "auto",
        cg_steps: int = 3,
        *,
        factors: int | None = None,
    ) -> None:
        super().__init__(name="ials")
        if solver not in ("auto", "exact", "cg"):
            raise ValueError("solver must be 'auto', 'exact' or 'cg'")
        if cg_steps < 1:
            raise ValueError("cg_steps must be at least 1")
        self.n_factors = int(renamed_keyword(n_factors, factors, "factors", "n_factors", "ImplicitALS"))
        self.reg = float(reg)
        self.unobserved_weight = float(unobserved_weight)
        self.reg_exponent = float(reg_exponent)
        self.iterations = int(iterations)
        self.init_std = float(init_std)
        self.seed = int(seed)
        self.verbose = bool(verbose)
        self.block_mb = float(block_mb)
        self.solver = solver
        self.cg_steps = int(cg_steps)
        self.solver_used = solver  # "auto" resolved by the fit (movierec.models.scale.ials_solver)

    def hyperparameters(self) -> dict:
        params = {
            "factors": self.n_factors,
            "reg": self.reg,
            "unobserved_weight": self.unobserved_weight,
            "reg_exponent": self.reg_exponent,
            "iterations": self.iterations,
            "init_std": self.init_std,
            "seed": self.seed,
        }
        if self.solver_used == "cg":
            params.update(solver="cg", cg_steps=self.cg_steps)
        return params

    def _fit(self, train: Ratings) -> None:
        k = self.n_factors
        rng = np.random.default_rng(self.seed)
        by_user = _Rows.build(train.user, train.movie, train.n_users, train.n_movies)
        by_movie = _Rows.build(train.movie, train.user, train.n_movies, train.n_users)
        alpha = self.unobserved_weight
        reg_user = self.reg * (by_user.counts + alpha * train.n_movies) ** self.reg_exponent
        reg_movie = self.reg * (by_movie.counts + alpha * train.n_users) ** self.reg_exponent
        movies = rng.normal(0.0, self.init_std / np.sqrt(k), size=(train.n_movies, k))
        users = np.zeros((train.n_users, k))  # replaced by the first half-sweep
        solver = self.solver
        if solver == "auto":
            from movierec.models.scale import ials_solver

            solver = ials_solver(len(train), k, self.iterations, self.cg_steps)
        self.solver_used = solver
        log = Progress("ials", self.iterations, "iterations", enabled=self.verbose, every=0.0)
        for iteration in range(1, self.iterations + 1):
            if solver == "cg":  # a few conjugate-gradient steps from the previous sweep's factors
                users = by_user.solve_cg(movies, alpha, reg_user, users, self.cg_steps)
                movies = by_movie.solve_cg(users, alpha, reg_movie, movies, self.cg_steps)
            else:
                users = by_user.solve(movies, alpha, reg_user, self.block_mb)
                movies = by_movie.solve(users, alpha, reg_movie, self.block_mb)
            log.update(iteration, stage=f"{solver} solves")
        self.global_mean = 0.0
        self.user_bias = np.zeros(train.n_users)
        self.movie_bias = np.zeros(train.n_movies)
        self.user_factors = users.astype(np.float32)
        self.movie_factors = movies.astype(np.float32)

    @classmethod
    def fold_in_stored(
        cls,
        hyperparameters,
        global_mean,
        movie_bias,
        movie_factors,
        movie_index,
        ratings,
        *,
        has_user_bias=True,
        gram=None,
    ):
        """iALS's user step for one user, exactly: every rated movie is a positive (the ratings' values
        do not matter), alpha = unobserved_weight, e = reg_exponent,

            p_u = (Q_rated^T Q_rated + alpha Q^T Q + reg (n + alpha n_movies)^e I)^-1 Q_rated^T 1

        No biases (b_u = 0). Defaults: the class's, for a run that does not name a setting."""
        movie_index = np.asarray(movie_index, dtype=np.int64)
        n, k = len(movie_index), movie_factors.shape[1]
        if n == 0 or k == 0:
            return 0.0, np.zeros(k, dtype=np.float32)
        alpha = float(cls.stored_setting(hyperparameters, "unobserved_weight"))
        reg = float(cls.stored_setting(hyperparameters, "reg"))
        reg *= (n + alpha * len(movie_factors)) ** float(cls.stored_setting(hyperparameters, "reg_exponent"))
        if gram is None:
            q_all = movie_factors.astype(np.float64)
            gram = q_all.T @ q_all
        q = movie_factors[movie_index].astype(np.float64)
        p = np.linalg.solve(q.T @ q + alpha * gram + reg * np.eye(k), q.sum(axis=0))
        return 0.0, p.astype(np.float32)


class _Rows(RowBatches):
    """iALS's two solvers: the exact one over the shared row batches (one batch per run of
    similar counts, cut into chunks by memory), the conjugate-gradient one over the CSR."""

    def solve(self, design: np.ndarray, alpha: float, reg: np.ndarray, block_mb: float) -> np.ndarray:
        """Each row's exact iALS solution given the other side's factors `design` (n_other x k)."""
        n_other, k = design.shape
        padded = np.vstack([design, np.zeros((1, k))])
        base = alpha * (design.T @ design)
        diag = np.arange(k)
        out = np.zeros((len(self.counts), k))
        for group, width in self.batches():
            # a chunk holds (rows, width, k) gathered factors and (rows, k, k) systems in float64
            size = max(1, int(block_mb * 2**20 / (8 * k * (width + k + 1))))
            for lo in range(0, len(group), size):
                rows = group[lo : lo + size]
                x = self.gather(padded, rows, width)  # (rows, width, k)
                gram = np.matmul(x.transpose(0, 2, 1), x) + base  # (rows, k, k)
                gram[:, diag, diag] += reg[rows][:, None]
                out[rows] = np.linalg.solve(gram, x.sum(axis=1)[:, :, None])[:, :, 0]
        return out

    def solve_cg(
        self,
        design: np.ndarray,
        alpha: float,
        reg: np.ndarray,
        start: np.ndarray,
        steps: int,
    ) -> np.ndarray:
        """Each row's iALS system solved approximately by `steps` conjugate-gradient steps from
        `start` (the row's previous factors), as in Takacs, Pilaszy & Tikk 2011 and implicit's
        `use_cg`: the system matrix A_u = sum_{i in I_u} h_i h_i^T + alpha H^T H + reg_u I is never
        formed; each step applies it to a vector, which costs (ratings + k) x k per row instead of
        the exact solve's ratings x k^2 + k^3. alpha H^T H is one BLAS product per half-sweep; the
        rows run in one compiled loop over this side's CSR (movierec.models._ials_kernel.cg_rows:
        float32 factors, float64 sums), which gathers each row's factors once into a buffer and
        needs no padded copy."""
        from movierec.models._ials_kernel import cg_rows

        n_rows, k = len(self.counts), design.shape[1]
        # the kernel does not check bounds: a wrong shape here would read or write past the arrays
        if design.shape != (self.n_other, k) or np.shape(start) != (n_rows, k) or np.shape(reg) != (n_rows,):
            raise ValueError(
                f"solve_cg: design {design.shape}, start {np.shape(start)}, reg {np.shape(reg)} do not fit "
                f"{n_rows} rows of {self.n_other} others"
            )
        base = alpha * (design.T @ design)
        out = np.array(start, dtype=np.float64, order="C", copy=True)
        cg_rows(
            self.indptr,
            self.other,
            np.ascontiguousarray(design, dtype=np.float32),
            np.ascontiguousarray(base, dtype=np.float64),
            np.ascontiguousarray(reg, dtype=np.float64),
            out,
            int(steps),
        )
        return out
