"""The strongest rating model: Bayesian biased MF (BPMF with biases), predictions averaged over Gibbs samples.

Its cost is training ratings x Gibbs sweeps, so the number of samples kept follows the data's
size (movierec.models.scale.bayesian_mf_samples: var bpmf_samples up to about 450k ratings,
fewer above, logged); model_runs records the number used.
"""

from movierec.models.data import training_ratings
from movierec.models.export import fit_and_export
from movierec.models.mf import BayesianMF
from movierec.models.scale import bayesian_mf_samples

BURN_IN = 10


def model(dbt, session):
    dbt.config(materialized="table")
    meta = dbt.config.get("meta")
    train = training_ratings(dbt.ref("int_ratings_train"))
    recommender = BayesianMF(
        n_factors=int(meta["bpmf_factors"]),
        samples=bayesian_mf_samples(int(meta["bpmf_samples"]), BURN_IN, len(train)),
        burn_in=BURN_IN,
        seed=int(meta["seed"]),
        verbose=True,
    )
    return fit_and_export(recommender, train, dbt.ref("int_ratings_test"), meta)
