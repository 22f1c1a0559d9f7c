"""A linear blend of rating models, the Netflix Prize's last lesson (`Blend`), and the rating
models it can blend, built by name from the settings dbt passes (`make_rating_model`).

Built on numpy and the package's rating models; the weights are a ridge regression on a held-out
part of the training data, never on the test set.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from movierec.metrics import rmse
from movierec.models.base import Recommender
from movierec.models.data import Ratings
from movierec.models.mf import BiasedMF
from movierec.models.prize import BayesianTimeSVDpp, to_days


class Blend(Recommender):
    """A linear blend of rating models (the Prize's last lesson), weights fitted on a validation
    part of the training data, never on the test set.

    `fit` holds out `validation_fraction` of the training ratings (seeded draw), fits every member
    on the rest, predicts the held-out ratings, and fits  r ~ w_0 + sum_m w_m pred_m  by ridge
    regression (`reg`, intercept not penalized). Then every member is refitted on all the
    training ratings and predictions combine them with those weights (clipped to the rating
    range). Members that take dates and implicit pairs (`uses_context`) get them in both fits;
    the held-out part's pairs stay in the implicit input (their existence, as with the probe),
    their ratings do not. Ranks movies by the blended score. Costs two fits of every member.
    """

    predicts_ratings = True
    uses_context = True

    def __init__(
        self,
        members: Sequence[Callable[[], Recommender]],
        validation_fraction: float = 0.1,
        reg: float = 1.0,
        seed: int = 0,
        name: str = "blend",
    ) -> None:
        super().__init__()
        self.name = name
        self.makers = list(members)
        self.validation_fraction = float(validation_fraction)
        self.reg = float(reg)
        self.seed = int(seed)
        self.members: list[Recommender] = []
        self.weights = np.zeros(0)
        self.validation_rmse: float | None = None
        self._context: tuple = (None, None)

    def hyperparameters(self) -> dict:
        return {
            "members": [m.name for m in self.members],
            "weights": [float(w) for w in self.weights],
            "validation_fraction": self.validation_fraction,
            "reg": self.reg,
            "seed": self.seed,
            "validation_rmse": self.validation_rmse,
        }

    def fit(self, train: Ratings, rated_on=None, implicit=None):
        self._context = (None if rated_on is None else to_days(rated_on), implicit)
        try:
            return super().fit(train)
        finally:
            self._context = (None, None)

    def _fit(self, train: Ratings) -> None:
        days, implicit = self._context
        held = np.random.default_rng(self.seed).random(len(train)) < self.validation_fraction
        part = Ratings.from_ids(
            train.user_ids[train.user[~held]], train.movie_ids[train.movie[~held]], train.rating[~held]
        )
        hu, hm = train.user_ids[train.user[held]], train.movie_ids[train.movie[held]]
        hdays = None if days is None else days[held]
        # the held-out pairs stay known as pairs (like the probe), so members see the same N(u) in both fits
        part_implicit = (
            (hu, hm)
            if implicit is None
            else (np.concatenate([np.asarray(implicit[0]), hu]), np.concatenate([np.asarray(implicit[1]), hm]))
        )
        columns = []
        for make in self.makers:
            member = _fit_member(make(), part, None if days is None else days[~held], part_implicit)
            columns.append(_predict_member(member, hu, hm, hdays))
        x = np.column_stack([np.ones(int(held.sum()))] + columns)
        penalty = np.full(x.shape[1], self.reg)
        penalty[0] = 0.0
        self.weights = np.linalg.solve(x.T @ x + np.diag(penalty), x.T @ train.rating[held])
        self.rating_min, self.rating_max = float(train.rating.min()), float(train.rating.max())
        self.validation_rmse = rmse(np.clip(x @ self.weights, self.rating_min, self.rating_max), train.rating[held])
        self.members = [_fit_member(make(), train, days, implicit) for make in self.makers]

    def _train_rmse(self, train: Ratings) -> float:
        return rmse(
            self.predict(train.user_ids[train.user], train.movie_ids[train.movie], self._context[0]), train.rating
        )

    def predict(self, user_id, movie_id, rated_on=None) -> np.ndarray:
        pred = np.full(len(np.asarray(user_id)), self.weights[0])
        for weight, member in zip(self.weights[1:], self.members):
            pred += weight * _predict_member(member, user_id, movie_id, rated_on)
        return np.clip(pred, self.rating_min, self.rating_max)

    def score_users(self, user_index: np.ndarray) -> np.ndarray:
        scores = np.zeros((len(user_index), self.train.n_movies))
        for weight, member in zip(self.weights[1:], self.members):
            # members were fitted on the same training data, so their indices agree
            scores += weight * member.score_users(user_index)
        return scores


def _fit_member(member: Recommender, train: Ratings, days, implicit) -> Recommender:
    if getattr(member, "uses_context", False):
        return member.fit(train, rated_on=days, implicit=implicit)
    return member.fit(train)


def _predict_member(member: Recommender, user_id, movie_id, days) -> np.ndarray:
    if getattr(member, "uses_context", False):
        return member.predict(user_id, movie_id, rated_on=days)
    return member.predict(user_id, movie_id)


# --- building rating models from settings (the blend's members) --------------------------------


def make_rating_model(name: str, meta: dict, n_ratings: int | None = None) -> Recommender:
    """A rating model by its `fit_<name>` name, with the settings that dbt passes in `meta` (the
    same keys and defaults as the fit_<name> models), for the blend's members.

    With `n_ratings` (the training ratings it will see), the size rules of movierec.models.scale
    apply as in the fit_<name> models: the Gibbs samplers' sweeps and biased MF's factors."""
    from movierec.models import scale
    from movierec.models.baselines import BiasBaseline, GlobalMean, MovieMean
    from movierec.models.knn import ItemKNN
    from movierec.models.mf import BayesianMF
    from movierec.models.svd import TruncatedSVD

    seed = int(meta.get("seed", 0))
    mf_factors, mf_epochs = int(meta.get("factors", 50)), int(meta.get("mf_epochs", 10))
    bpmf_burn_in, bpmf_samples = scale.BPMF_BURN_IN, int(meta.get("bpmf_samples", 100))
    prize = {
        "n_factors": int(meta.get("prize_factors", 10)),
        "samples": int(meta.get("prize_samples", 100)),
        "burn_in": int(meta.get("prize_burn_in", 10)),
        "time_bins": int(meta.get("prize_time_bins", 30)),
        "seed": seed,
    }
    if n_ratings is not None:
        if name == "biased_mf":
            mf_factors = scale.biased_mf_factors(mf_factors, mf_epochs, n_ratings)
            mf_epochs = scale.biased_mf_epochs(mf_epochs, n_ratings)
        if name == "bayesian_mf":
            bpmf_burn_in, bpmf_samples = scale.bayesian_mf_sweeps(bpmf_samples, bpmf_burn_in, n_ratings)
        if name in ("bayesian_svdpp", "bayesian_timesvdpp"):
            prize["burn_in"], prize["samples"] = scale.bayesian_mf_sweeps(
                prize["samples"], prize["burn_in"], n_ratings, model=name, setting="prize_samples"
            )
    makers = {
        "global_mean": lambda: GlobalMean(),
        "movie_mean": lambda: MovieMean(damping=float(meta.get("movie_mean_damping", 5))),
        "bias_baseline": lambda: BiasBaseline(
            reg_user=float(meta.get("bias_reg_user", 15)), reg_movie=float(meta.get("bias_reg_movie", 10))
        ),
        "truncated_svd": lambda: TruncatedSVD(n_factors=int(meta.get("svd_factors", 10))),
        "item_knn": lambda: ItemKNN(
            n_neighbors=int(meta.get("knn_neighbours", 80)),
            shrinkage=float(meta.get("knn_shrinkage", 100)),
            min_neighbors=int(meta.get("knn_min_neighbours", 20)),
        ),
        "biased_mf": lambda: BiasedMF(
            n_factors=mf_factors,
            reg=float(meta.get("mf_reg", 0.05)),
            epochs=mf_epochs,
            seed=seed,
        ),
        "bayesian_mf": lambda: BayesianMF(
            n_factors=int(meta.get("bpmf_factors", 10)), samples=bpmf_samples, burn_in=bpmf_burn_in, seed=seed
        ),
        "bayesian_svdpp": lambda: BayesianTimeSVDpp(implicit=True, time=False, **prize),
        "bayesian_timesvdpp": lambda: BayesianTimeSVDpp(implicit=True, time=True, **prize),
    }
    if name not in makers:
        raise ValueError(f"unknown rating model '{name}' for the blend: use one of {', '.join(makers)}")
    return makers[name]()
