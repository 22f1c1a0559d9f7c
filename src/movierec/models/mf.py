"""Biased matrix factorization of explicit ratings: ALS (`BiasedMF`) and Gibbs-sampled BPMF
(`BayesianMF`), both fitted on the observed ratings only.

    r(u, i) = mu + b_u + b_i + p_u . q_i

Built on numpy and numba. Both models alternate between the two sides: every user's (b_u, p_u)
given the movies, then every movie's (b_i, q_i) given the users. For one side, each row's
(k+1)x(k+1) normal equations are formed in batches of rows with similar rating counts: up to 12
factors by a compiled kernel straight from the ratings grouped by row, above by one gather of
the other side's design rows [1, factors] into a (batch, n, k+1) float32 block padded to a
common length and one stacked GEMM (X^T X); then one stacked `np.linalg.solve` (ALS) or Cholesky
draw (BPMF). The batching is `movierec.models.rows` (`RowBatches.sweep`), shared with iALS and
the Bayesian timeSVD++. No Python loop over ratings and no (ratings x k) array. Batches run on
a small thread pool (the kernels and numpy release the GIL) with BLAS limited to one thread
(`movierec.models.blas`): thousands of small GEMMs each split over threads are slow, and much
slower still when other processes share the cores.

Cost: one epoch is 2 x ratings rank-one updates of (k+1)x(k+1) matrices plus one small solve per
user and per movie; memory is the ratings by user and by movie (int32 index + float32 value) on top
of the `Ratings` passed in. Measured times and the settings chosen on ml-100k are in
benchmarks/README.md (bench_mf_full.py, bench_ml100k.py --tune).

Defaults of `BiasedMF`: ALS-WR style for Netflix-size data (Zhou et al. 2008 weight the penalty by
counts): reg 0.05 weighted, 10 epochs, n_factors = 50. BPMF (`BayesianMF`) averages over the
posterior instead of picking one regularized point, and learns each parameter's shrinkage.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.stats import wishart

from movierec.metrics import rmse
from movierec.models.base import FactorModel, renamed_keyword, ridge_user_step
from movierec.models.data import Ratings
from movierec.models.rows import BatchRunner, RowBatches
from movierec.progress import Progress as Reporter


@dataclass(frozen=True)
class EpochLog:
    """What one training epoch (ALS) or sweep (Gibbs) reports: the train RMSE (ALS: of the model
    as `predict` answers, clipped; Gibbs: of the current sample, unclipped, as the likelihood
    sees it) and, if a validation set was given, the validation RMSE of the model as `predict`
    would answer at that point."""

    epoch: int
    train_rmse: float
    validation_rmse: float | None
    seconds: float

    def __str__(self) -> str:
        valid = "" if self.validation_rmse is None else f"  validation RMSE {self.validation_rmse:.4f}"
        return f"epoch {self.epoch:3d}  train RMSE {self.train_rmse:.4f}{valid}  ({self.seconds:.1f} s)"


Progress = Callable[[EpochLog], None]


class _ValidatedFit(FactorModel):
    """`fit(train, validation=None)`: with validation ratings (any ids: unknown ones get the
    fallback), `_fit` reports their RMSE as it goes (in `history` and to the progress callback:
    `progress`, else with `verbose` one `movierec.progress` line per epoch)."""

    _validation: Ratings | None = None
    _report: Progress | None = None
    progress: Progress | None = None
    verbose: bool = False

    def fit(self, train: Ratings, validation: Ratings | None = None):
        self._validation = validation
        self._report = self.progress if self.progress is not None else (Reporter(self.name) if self.verbose else None)
        try:
            return super().fit(train)
        finally:
            self._validation = None
            self._report = None


class BiasedMF(_ValidatedFit):
    """Regularized biased matrix factorization, fitted by alternating least squares.

    Learns user and movie biases and k latent factors per user and movie (mu is the training
    mean, fixed) by minimizing over the observed ratings

        sum (r_ui - mu - b_u - b_i - p_u . q_i)^2
            + reg * (sum_u n_u^a |p_u|^2 + sum_i n_i^a |q_i|^2)
            + reg_bias * (sum_u n_u^a b_u^2 + sum_i n_i^a b_i^2)

    with a = 1 when `weighted_reg` (ALS-WR, Zhou et al. 2008: the penalty grows with the number
    of ratings) and a = 0 otherwise. Each epoch updates every user's (b_u, p_u) given the movies,
    then every movie's (b_i, q_i) given the users: with `cg_steps` conjugate-gradient steps on
    the row's ridge normal equations, warm-started from its previous value (ALS-CG, Takacs et al.
    2011; 3 steps reach the exact-ALS validation RMSE on ml-100k for ~25% less time, and far less
    at k = 50, where an exact 51x51 solve costs as much as forming the normal equations), or
    exactly with `cg_steps=None`. Either way the objective never increases.
    Movie factors start as N(0, init_std^2) draws from `seed`, biases at 0; the fit is
    deterministic for a given seed and thread count.

    Assumes ratings are missing at random (which movies a user rated carries no signal) and a
    low-rank interaction. Unknown users get mu + b_i, unknown movies mu + b_u (`FactorModel`).
    `threads` runs batches of rows in parallel (default: one below 1M ratings, else the CPU
    count); `block_entries` caps the padded ratings per batch (memory per thread).
    """

    predicts_ratings = True

    def __init__(
        self,
        n_factors: int = 50,
        reg: float = 0.05,
        reg_bias: float | None = None,
        epochs: int = 10,
        weighted_reg: bool = True,
        cg_steps: int | None = 3,
        init_std: float = 0.1,
        seed: int = 0,
        verbose: bool = False,
        progress: Progress | None = None,
        threads: int | None = None,
        block_entries: int = 1 << 16,
        *,
        k: int | None = None,
    ) -> None:
        super().__init__(name="biased_mf")
        self.n_factors = int(renamed_keyword(n_factors, k, "k", "n_factors", "BiasedMF"))
        self.reg = float(reg)
        self.reg_bias = float(reg if reg_bias is None else reg_bias)
        self.epochs = int(epochs)
        self.weighted_reg = bool(weighted_reg)
        self.cg_steps = None if cg_steps is None else int(cg_steps)
        self.init_std = float(init_std)
        self.seed = int(seed)
        self.progress, self.verbose = progress, bool(verbose)
        self.threads = threads
        self.block_entries = int(block_entries)
        self.history: list[EpochLog] = []

    def hyperparameters(self) -> dict:
        return {
            "k": self.n_factors,
            "reg": self.reg,
            "reg_bias": self.reg_bias,
            "epochs": self.epochs,
            "weighted_reg": self.weighted_reg,
            "cg_steps": self.cg_steps,
            "init_std": self.init_std,
            "seed": self.seed,
        }

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
        """The user step of the fit, exactly (`ridge_user_step`), with the run's reg, reg_bias and
        weighted_reg (this class's defaults for a run that does not name them). The fit's own step
        is a few CG steps from the previous value, so a trained user's fold-in equals their stored
        vector once the fit has converged."""
        reg = float(cls.stored_setting(hyperparameters, "reg"))
        reg_bias = cls.stored_setting(hyperparameters, "reg_bias")
        reg_bias = reg if reg_bias is None else float(reg_bias)
        weighted = bool(cls.stored_setting(hyperparameters, "weighted_reg"))
        return ridge_user_step(
            global_mean, movie_bias, movie_factors, movie_index, ratings, reg, reg_bias, weighted, has_user_bias
        )

    def _fit(self, train: Ratings, batches: tuple[RowBatches, RowBatches] | None = None) -> None:
        """`batches`: the ratings grouped by user and by movie, when the caller has them already
        (the Gibbs samplers' start); else built here."""
        k = self.n_factors
        rng = np.random.default_rng(self.seed)
        mu = train.global_mean
        self._set_range(train)
        by_user, by_movie = batches or RowBatches.both_sides(train, mu, self.block_entries)
        users = np.zeros((train.n_users, k + 1), dtype=np.float32)  # [b_u, p_u]
        movies = np.zeros((train.n_movies, k + 1), dtype=np.float32)  # [b_i, q_i]
        movies[:, 1:] = rng.normal(0.0, self.init_std, size=(train.n_movies, k))
        penalty = np.full(k + 1, self.reg)
        penalty[0] = self.reg_bias

        def solve(rows, gram, rhs, count, current):
            return _ridge_solve(gram, rhs, penalty, count, self.weighted_reg, current, self.cg_steps)

        self.history = []
        self._export(mu, users, movies)  # the starting point, which epochs = 0 keeps
        with BatchRunner(self.threads, len(train)) as runner:
            for epoch in range(1, self.epochs + 1):
                start = time.perf_counter()
                by_user.sweep(movies, solve, users, runner)
                _, sse = by_movie.sweep(users, solve, movies, runner, errors=(mu, self.rating_min, self.rating_max))
                self._export(mu, users, movies)
                self._log(epoch, sse, len(train), start)

    def _train_rmse(self, train: Ratings) -> float:
        # the last epoch already measured the exported model on the training ratings
        return self.history[-1].train_rmse if self.history else super()._train_rmse(train)

    def _export(self, mu: float, users: np.ndarray, movies: np.ndarray) -> None:
        self.global_mean = mu
        self.user_bias = users[:, 0].astype(np.float64)
        self.movie_bias = movies[:, 0].astype(np.float64)
        self.user_factors = np.ascontiguousarray(users[:, 1:])
        self.movie_factors = np.ascontiguousarray(movies[:, 1:])

    def _log(self, epoch: int, sse: float, n: int, start: float) -> None:
        valid = self._validation
        valid_rmse = None
        if valid is not None:
            valid_rmse = rmse(self.predict(valid.user_ids[valid.user], valid.movie_ids[valid.movie]), valid.rating)
        log = EpochLog(epoch, math.sqrt(max(sse, 0.0) / max(n, 1)), valid_rmse, time.perf_counter() - start)
        self.history.append(log)
        if self._report is not None:
            self._report(log)


class BayesianMF(_ValidatedFit):
    """Bayesian probabilistic matrix factorization with biases (BPMF, Salakhutdinov & Mnih 2008),
    by Gibbs sampling.

    Model: r_ui ~ N(mu + b_u + b_i + p_u . q_i, 1/alpha) on the observed ratings; each user's
    (b_u, p_u) ~ N(m_U, L_U^-1), each movie's (b_i, q_i) ~ N(m_V, L_V^-1), with Gaussian-Wishart
    hyperpriors on (m_U, L_U) and (m_V, L_V) (mean 0, beta_0 = 2, W_0 = I, nu_0 = k + 1). The bias
    rides along as one more latent dimension, so how strongly each parameter is shrunk is learned
    from the data instead of tuned. The noise precision alpha is sampled under a Gamma(1, 1)
    prior, or fixed with `noise_precision`.

    Starts from `init_epochs` of `BiasedMF` (reg `init_reg`), then each sweep draws the user
    hyperparameters, every user's vector given the movies (a batched (k+1)x(k+1) Cholesky draw
    per user, the normal equations of `BiasedMF`), the same for movies, then alpha. The first
    `burn_in` sweeps are discarded and the prediction is the average over the next `samples`.
    The average of S rank-k models is one rank-kS factor model, so the export stacks the sampled
    factors side by side, each scaled by 1/sqrt(S), and averages the biases: `predict` returns
    exactly the posterior-mean prediction (then clipped). Deterministic for a given seed and
    thread count. Made for small and medium data: a sweep costs about one `BiasedMF` epoch, and
    the export holds k x samples factors per user and movie (at the Netflix size use far fewer
    samples, or `BiasedMF`).

    Assumes ratings are missing at random and Gaussian around a low-rank mean. Unknown users
    get mu + b_i, unknown movies mu + b_u (averaged over the samples).
    """

    predicts_ratings = True
    serves_factors = False  # its k x samples stacked factors do not fit the FLOAT[k] factor tables

    def __init__(
        self,
        n_factors: int = 10,
        samples: int = 200,
        burn_in: int = 10,
        noise_precision: float | None = None,
        init_epochs: int = 5,
        init_reg: float = 0.1,
        seed: int = 0,
        verbose: bool = False,
        progress: Progress | None = None,
        threads: int | None = None,
        block_entries: int = 1 << 16,
        *,
        k: int | None = None,
    ) -> None:
        super().__init__(name="bayesian_mf")
        self.n_factors = int(renamed_keyword(n_factors, k, "k", "n_factors", "BayesianMF"))
        self.samples = int(samples)
        self.burn_in = int(burn_in)
        self.noise_precision = None if noise_precision is None else float(noise_precision)
        self.init_epochs = int(init_epochs)
        self.init_reg = float(init_reg)
        self.seed = int(seed)
        self.progress, self.verbose = progress, bool(verbose)
        self.threads = threads
        self.block_entries = int(block_entries)
        self.history: list[EpochLog] = []
        self.alpha: float | None = None

    def hyperparameters(self) -> dict:
        return {
            "k": self.n_factors,
            "samples": self.samples,
            "burn_in": self.burn_in,
            "noise_precision": self.noise_precision,
            "init_epochs": self.init_epochs,
            "init_reg": self.init_reg,
            "seed": self.seed,
        }

    def _fit(self, train: Ratings) -> None:
        k = self.n_factors
        rng = np.random.default_rng(self.seed)
        by_user, by_movie = RowBatches.both_sides(train, train.global_mean, self.block_entries)
        mu, users, movies = _start_from_biased_mf(self, train, k, (by_user, by_movie))
        alpha = 2.0 if self.noise_precision is None else self.noise_precision
        valid = self._validation
        if valid is not None:
            valid_user = train.user_index(valid.user_ids[valid.user])
            valid_movie = train.movie_index(valid.movie_ids[valid.movie])
            valid_sum = np.zeros(len(valid))
        kept_users, kept_movies = [], []
        self.history = []
        with BatchRunner(self.threads, len(train)) as runner:
            for sweep in range(1, self.burn_in + self.samples + 1):
                start = time.perf_counter()
                for side, this, other in ((by_user, users, movies), (by_movie, movies, users)):
                    mean, precision = _sample_gaussian_wishart(this, rng)
                    noise = rng.standard_normal(this.shape)

                    def draw(rows, gram, rhs, count, current, mean=mean, precision=precision, noise=noise):
                        return _sample_rows(gram, rhs, alpha, mean, precision, noise[rows])

                    sse, _ = side.sweep(
                        other,
                        draw,
                        this,
                        runner,
                        errors=(mu, self.rating_min, self.rating_max) if side is by_movie else None,
                    )
                if self.noise_precision is None:
                    alpha = float(rng.gamma(1.0 + len(train) / 2.0, 1.0 / (1.0 + sse / 2.0)))
                valid_rmse = None
                if sweep > self.burn_in:
                    kept_users.append(users.copy())
                    kept_movies.append(movies.copy())
                    if valid is not None:
                        valid_sum += _predict_rows(mu, users, movies, valid_user, valid_movie)
                        mean_prediction = np.clip(valid_sum / len(kept_users), self.rating_min, self.rating_max)
                        valid_rmse = rmse(mean_prediction, valid.rating)
                log = EpochLog(
                    sweep, math.sqrt(max(sse, 0.0) / max(len(train), 1)), valid_rmse, time.perf_counter() - start
                )
                self.history.append(log)
                if self._report is not None:
                    self._report(log)
        self.alpha = alpha
        if not kept_users:  # samples = 0: the last state
            kept_users, kept_movies = [users], [movies]
        self.user_bias = np.mean([u[:, 0] for u in kept_users], axis=0, dtype=np.float64)
        self.movie_bias = np.mean([v[:, 0] for v in kept_movies], axis=0, dtype=np.float64)
        scale = np.float32(1.0 / math.sqrt(len(kept_users)))
        self.user_factors = np.hstack([u[:, 1:] for u in kept_users]) * scale
        self.movie_factors = np.hstack([v[:, 1:] for v in kept_movies]) * scale


# --- the shared machinery ---------------------------------------------------------------------


def _start_from_biased_mf(
    model, train: Ratings, n_factors: int, batches: tuple[RowBatches, RowBatches] | None = None
) -> tuple[float, np.ndarray, np.ndarray]:
    """The Gibbs samplers' starting point: a short BiasedMF fit (`model.init_epochs` sweeps at
    `model.init_reg`), on the sampler's own `batches` when given (built once: at 100M ratings each
    build is two sorts of every rating). Sets the model's global mean and rating range; returns
    the mean and the user and movie rows as float32 [bias, factors...]."""
    init = BiasedMF(
        n_factors=n_factors,
        reg=model.init_reg,
        epochs=model.init_epochs,
        seed=model.seed,
        threads=model.threads,
        block_entries=model.block_entries,
    )
    init._fit(train, batches)
    model.global_mean = init.global_mean
    model._set_range(train)
    users = np.hstack([init.user_bias[:, None], init.user_factors]).astype(np.float32)
    movies = np.hstack([init.movie_bias[:, None], init.movie_factors]).astype(np.float32)
    return init.global_mean, users, movies


def _ridge_solve(
    gram: np.ndarray,
    rhs: np.ndarray,
    penalty: np.ndarray,
    count: np.ndarray,
    weighted: bool,
    current: np.ndarray,
    cg_steps: int | None,
) -> np.ndarray:
    """Solve (X^T X + diag(penalty * n^a)) w = X^T t for a stack of rows: exactly (LU, float64)
    when `cg_steps` is None, else by that many conjugate-gradient steps from `current`
    (float32). Each CG step lowers the row's quadratic objective, so ALS stays monotone."""
    diag = np.arange(gram.shape[1])
    scale = np.maximum(count, 1) if weighted else np.ones(len(count))
    if cg_steps is None:
        a = gram.astype(np.float64)
        a[:, diag, diag] += scale[:, None] * penalty[None, :]
        return np.linalg.solve(a, rhs.astype(np.float64)[:, :, None])[:, :, 0].astype(np.float32)
    a = gram  # a fresh array per batch: safe to modify
    a[:, diag, diag] += (scale[:, None] * penalty[None, :]).astype(np.float32)
    w = current.astype(np.float32)  # a copy
    r = rhs - np.einsum("bij,bj->bi", a, w)
    p = r.copy()
    rs = np.einsum("bi,bi->b", r, r)
    tiny = np.float32(1e-30)
    for _ in range(cg_steps):
        ap = np.einsum("bij,bj->bi", a, p)
        step = rs / np.maximum(np.einsum("bi,bi->b", p, ap), tiny)
        w += step[:, None] * p
        r -= step[:, None] * ap
        rs_next = np.einsum("bi,bi->b", r, r)
        p = r + (rs_next / np.maximum(rs, tiny))[:, None] * p
        rs = rs_next
    return w


def _sample_gaussian_wishart(
    rows: np.ndarray, rng: np.random.Generator, beta0: float = 2.0
) -> tuple[np.ndarray, np.ndarray]:
    """Draw (mean, precision) of the rows' Gaussian from its Gaussian-Wishart posterior
    (prior mean 0, beta_0, W_0 = I, nu_0 = dimension)."""
    x = rows.astype(np.float64)
    n, d = x.shape
    x_bar = x.mean(axis=0)
    centered = x - x_bar
    w_inv = np.eye(d) + centered.T @ centered + (beta0 * n / (beta0 + n)) * np.outer(x_bar, x_bar)
    w_post = np.linalg.inv(w_inv)
    precision = wishart.rvs(df=d + n, scale=(w_post + w_post.T) / 2.0, random_state=rng)
    chol = np.linalg.cholesky(np.linalg.inv((beta0 + n) * precision))
    mean = n * x_bar / (beta0 + n) + chol @ rng.standard_normal(d)
    return mean, precision


def _sample_rows(
    gram: np.ndarray, rhs: np.ndarray, alpha: float, mean: np.ndarray, precision: np.ndarray, noise: np.ndarray
) -> np.ndarray:
    """Draw each row from N(A^-1 b, A^-1), A = precision + alpha X^T X, b = alpha X^T t +
    precision mean, as w = A^-1 (b + L z) with L L^T = A and z = `noise` ~ N(0, I)."""
    a = alpha * gram.astype(np.float64) + precision[None]
    b = alpha * rhs.astype(np.float64) + (precision @ mean)[None]
    b += np.einsum("bij,bj->bi", np.linalg.cholesky(a), noise)
    return np.linalg.solve(a, b[:, :, None])[:, :, 0].astype(np.float32)


def _predict_rows(
    mu: float, users: np.ndarray, movies: np.ndarray, u: np.ndarray, i: np.ndarray, chunk: int = 1 << 20
) -> np.ndarray:
    """mu + b_u + b_i + p_u . q_i for index pairs from [bias, factors] arrays, unclipped; an
    unknown index (-1) contributes nothing."""
    out = np.full(len(u), mu, dtype=np.float64)
    for start in range(0, len(u), chunk):
        uu, ii = u[start : start + chunk], i[start : start + chunk]
        known_u, known_i = uu >= 0, ii >= 0
        part = out[start : start + chunk]
        part[known_u] += users[uu[known_u], 0]
        part[known_i] += movies[ii[known_i], 0]
        both = known_u & known_i
        part[both] += np.einsum("ij,ij->i", users[uu[both], 1:], movies[ii[both], 1:], dtype=np.float64)
    return out
