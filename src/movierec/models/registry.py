"""The factor models that serve from the warehouse's factor tables, by the `model_name` each one
writes into model_runs, user_factors and movie_factors.

The serving layer has no fitted Python object, only those tables: it finds the model's class
here by name and folds a new user in with the class's own `fold_in_stored`. A new factor model
is served (and gets the shared conformance tests in tests/unit/test_fold_in.py) by being listed.
Models whose factors are not exported (`serves_factors = False`: Bayesian MF and the Prize
models, whose stacked posterior samples do not fit the FLOAT[n] tables) are not listed.
"""

from __future__ import annotations

from movierec.models.base import FactorModel
from movierec.models.baselines import BiasBaseline, GlobalMean, MovieMean
from movierec.models.mf import BiasedMF
from movierec.models.svd import TruncatedSVD
from movierec.models.topn import ImplicitALS

FACTOR_MODELS: dict[str, type[FactorModel]] = {
    "global_mean": GlobalMean,
    "movie_mean": MovieMean,
    "bias_baseline": BiasBaseline,
    "truncated_svd": TruncatedSVD,
    "biased_mf": BiasedMF,
    "ials": ImplicitALS,
}


def factor_model_class(model_name: str) -> type[FactorModel]:
    """The class that fitted the factor model stored under `model_name`; KeyError naming the known
    ones when there is none."""
    try:
        return FACTOR_MODELS[model_name]
    except KeyError:
        raise KeyError(f"no factor model class is named {model_name!r} (known: {', '.join(FACTOR_MODELS)})") from None
