"""Settings that follow the size of the training data, decided from the data and logged.

Someone who points the project at the full Netflix Prize data should not need to know which
settings stop fitting the build's time budget at 100M ratings. Each rule here takes the
configured value and the data's shape and returns the value to use. When it changes anything it
says so on stderr (dbt shows it in the build's output), and the fit's hyperparameters in
model_runs record the value used.

The budgets aim at the 15-minute full build of issue 11 on 2 cores (measured: 14.4 minutes,
README "The real Netflix Prize in one `dbt build`"):

- `BPMF_RATING_SWEEPS`: Bayesian MF visits every training rating once per Gibbs sweep (burn-in
  and kept samples alike), so its cost is ratings x sweeps. At the full size even the floor of
  10 samples after 10 burn-in sweeps is a third of the build, so from `BPMF_LARGE_RATINGS` the
  chain is short (5 + 5): with 100M ratings the posterior is narrow and the chain, started from
  a BiasedMF fit, is settled after a few sweeps (measured at the full size: the training RMSE of
  the sample moves by 0.0004 from sweep 5 to sweep 20). The opt-in Bayesian SVD++ and
  timeSVD++ (and the blend's members) follow the same rule with their own vars: their sweeps
  cost more per rating, so on the medium sample they keep 10 samples after 5 burn-in sweeps,
  not 30.
- `KNN_PAIR_BUDGET`: item kNN's similarities cost sum over users of (movies rated)^2 co-rating
  pairs, four sparse products of them; above the budget they are estimated from a fixed hash
  sample of users (all movies stay, the shrinkage counts scaled back to the whole data).
- `MF_GRAM_WORK`: biased MF forms every row's (k+1) x (k+1) normal equations each epoch, ratings x
  (k+1)^2 per half-epoch, which is most of its time at k = 50 (one epoch of the full data costs
  about 100 core-seconds). Above the budget it fits fewer factors, the most that fit, and pads
  the factor tables with zeros (which changes no inner product). Fewer factors cost little
  accuracy at this size: on the Netflix probe, ALS-WR loses about 0.004 RMSE from 50 to 20
  factors (Zhou et al. 2008, figure 1), while below the full size dropping epochs leaves it
  unconverged. The budget counts the configured epochs (`mf_epochs`), not the fewer that
  `MF_LARGE_RATINGS` leaves at the full size: the factors are chosen first (21 at 100M
  ratings) and the accuracy figures below were measured with them.
- `MF_LARGE_RATINGS`: from this size (the full Netflix data) biased MF also stops after
  `MF_LARGE_EPOCHS` epochs: with 100M ratings ALS has converged by then (measured at the full
  size, 21 factors: probe RMSE 0.7990 after 5 epochs, 0.7986 after 6, 0.7984 after 8, 0.7983
  after 10 and 12), and each epoch costs about 25 core-seconds there.
- `IALS_EXACT_WORK`: iALS's exact solves form every row's k x k system, ratings x k^2 per
  half-sweep; above the budget each row takes a few conjugate-gradient steps from its previous
  factors instead (ratings x k per step, Takacs et al. 2011), the `use_cg` of the implicit library,
  run as one compiled loop over the ratings (numba: movierec.models._ials_kernel). Compiled, CG
  is about 5x cheaper than the exact solves at the medium size and 7x on the demo, for nDCG@10
  0.0878 against 0.0881 (medium) and 0.11720 against 0.11725 (demo, well inside its bootstrap
  interval 0.108-0.127; benchmarks/README.md), so the budget keeps exact solves for the small
  data only (ml-100k, 6.6e9) and the demo sample already takes CG (2.0e10).
- `KNN_TRAIN_RMSE_PAIRS`: item kNN's training RMSE predicts each user's own ratings from their
  other ratings, (movies rated)^2 similarity look-ups per user; above the budget it is the RMSE
  over the training ratings of a hash sample of users (the same rule as the similarities).
- `EASE_PAIR_BUDGET`: EASE's Gram matrix X^T X costs the same co-rating pairs (measured on the
  medium sample, 9.9M ratings, on a busy machine: Gram 403 s, then 645 s for the Cholesky
  inverse of 17,770 movies, which does not grow with the ratings); above the budget it is
  estimated from a hash sample of users and scaled back by the share of ratings they hold.
"""

from __future__ import annotations

import sys

import numpy as np

IALS_EXACT_WORK = (
    1e10  # ratings x factors^2 x sweeps of iALS's exact solves: 2.0e10 on the demo (1M, k 50, 8 sweeps), 2.0e12 at 100M
)
MF_GRAM_WORK = (
    5e11  # ratings x (factors+1)^2 x epochs of biased MF: 2.6e11 at medium (10M, k 50, 10 epochs), 2.6e12 at 100M
)
MF_LARGE_RATINGS = 5e7  # from here (the full size) biased MF fits at most MF_LARGE_EPOCHS epochs
MF_LARGE_EPOCHS = 6
MF_MIN_FACTORS = 10  # fewer factors than this are not worth the fit: the budget yields to this floor
BPMF_RATING_SWEEPS = (
    5e7  # 100 samples + 10 burn-in up to 450k ratings (ml-100k); 40 on the demo (1M); 10 (the floor) from 2.5M
)
BPMF_BURN_IN = 10  # Bayesian MF's burn-in sweeps in the build (fit_bayesian_mf and the blend's member)
BPMF_MIN_SAMPLES = 10  # fewer kept samples than this average too little to be worth the fit ...
BPMF_LARGE_RATINGS = 5e7  # ... except from here (the full size), where the posterior is narrow and
BPMF_LARGE_SWEEPS = 5  # the chain, started from BiasedMF, settles within a few sweeps: 5 burn-in + 5 samples
KNN_PAIR_BUDGET = 2.0e9  # co-rating pairs of the users item kNN's similarities are computed on
KNN_TRAIN_RMSE_PAIRS = 1.0e8  # similarity look-ups of item kNN's training RMSE: demo 4.4e8, medium 1.1e10, full 1.1e11
EASE_PAIR_BUDGET = 5.0e9  # co-rating pairs of the users EASE's Gram matrix X^T X is computed on (one product, not four)


def log(message: str) -> None:
    print(f"[size rule] {message}", file=sys.stderr, flush=True)


def bayesian_mf_sweeps(
    samples: int, burn_in: int, n_ratings: int, model: str = "bayesian_mf", setting: str = "bpmf_samples"
) -> tuple[int, int]:
    """(burn-in sweeps, kept samples) a Gibbs sampler can afford: at most `samples`, and (burn_in +
    samples) sweeps of `n_ratings` within BPMF_RATING_SWEEPS, but never fewer than
    BPMF_MIN_SAMPLES; from BPMF_LARGE_RATINGS, at most BPMF_LARGE_SWEEPS of each. The same rule
    serves Bayesian MF and the Bayesian (time)SVD++ models, whose sweeps cost more per rating."""
    affordable = int(BPMF_RATING_SWEEPS // max(n_ratings, 1)) - burn_in
    kept = max(min(samples, affordable), min(samples, BPMF_MIN_SAMPLES))
    burn = burn_in
    if n_ratings >= BPMF_LARGE_RATINGS:
        burn, kept = min(burn_in, BPMF_LARGE_SWEEPS), min(kept, BPMF_LARGE_SWEEPS)
    if (burn, kept) != (burn_in, samples):
        short = f"; a short chain from {BPMF_LARGE_RATINGS:.2g} ratings" if n_ratings >= BPMF_LARGE_RATINGS else ""
        log(
            f"{model}: {n_ratings:,} training ratings: {kept} Gibbs samples after {burn} burn-in sweeps "
            f"instead of var {setting}={samples} after {burn_in} (budget {BPMF_RATING_SWEEPS:.2g} rating-sweeps{short})"
        )
    return burn, kept


def biased_mf_factors(factors: int, epochs: int, n_ratings: int) -> int:
    """The factors biased MF can afford: at most `factors`, the most k with n_ratings x (k+1)^2 x
    epochs within MF_GRAM_WORK, but never fewer than MF_MIN_FACTORS (nor more than asked)."""
    affordable = int(np.sqrt(MF_GRAM_WORK / max(n_ratings * max(epochs, 1), 1))) - 1
    chosen = max(min(factors, affordable), min(factors, MF_MIN_FACTORS))
    if chosen != factors:
        log(
            f"biased_mf: {n_ratings:,} training ratings: {chosen} factors instead of var factors={factors} "
            f"(var mf_epochs={epochs}; budget {MF_GRAM_WORK:.2g} rating-factor^2-epochs); the factor tables are "
            f"padded with zeros"
        )
    return chosen


def biased_mf_epochs(epochs: int, n_ratings: int) -> int:
    """The epochs biased MF runs: `epochs`, but at most MF_LARGE_EPOCHS from MF_LARGE_RATINGS
    ratings (logged when it cuts)."""
    if n_ratings < MF_LARGE_RATINGS or epochs <= MF_LARGE_EPOCHS:
        return epochs
    log(
        f"biased_mf: {n_ratings:,} training ratings: {MF_LARGE_EPOCHS} epochs instead of var mf_epochs={epochs} "
        f"(from {MF_LARGE_RATINGS:.2g} ratings ALS has converged by then: at the full size the probe RMSE "
        f"moves by 0.0003 from epoch 6 to epoch 10)"
    )
    return MF_LARGE_EPOCHS


def similarity_users(
    user_counts: np.ndarray, budget: float = KNN_PAIR_BUDGET, model: str = "item_knn", what: str = "similarities"
) -> np.ndarray | None:
    """The users (indices) whose ratings item kNN computes similarities on (EASE: its Gram
    matrix), or None for all.

    All users while sum(n_u^2) fits `budget`; else the longest prefix of users in a fixed hash
    order (the same for the same ids on any machine) that fits it. Logged when it cuts."""
    counts = np.asarray(user_counts, dtype=np.float64)
    work = float(np.dot(counts, counts))
    if work <= budget:
        return None
    index = np.arange(len(counts), dtype=np.uint64)
    order = np.argsort((index * np.uint64(2654435761)) % np.uint64(2**32), kind="stable")
    keep = order[np.cumsum(counts[order] ** 2) <= budget]
    log(
        f"{model}: {what} from {len(keep):,} of {len(counts):,} users "
        f"({counts[keep].sum() / counts.sum():.0%} of the ratings): {work:.2g} co-rating pairs over "
        f"the budget of {budget:.2g}; predictions still use every rating"
    )
    return np.sort(keep)


def ials_solver(n_ratings: int, factors: int, iterations: int, cg_steps: int) -> str:
    """ "exact" while n_ratings x factors^2 x iterations fits IALS_EXACT_WORK, else "cg"."""
    work = float(n_ratings) * factors * factors * iterations
    if work <= IALS_EXACT_WORK:
        return "exact"
    log(
        f"ials: {n_ratings:,} training ratings: {cg_steps} conjugate-gradient steps per row and sweep "
        f"instead of exact solves ({work:.2g} rating-factor^2-sweeps over the budget of {IALS_EXACT_WORK:.2g})"
    )
    return "cg"
