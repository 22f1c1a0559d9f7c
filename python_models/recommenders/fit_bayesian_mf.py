"""The strongest rating model: Bayesian biased MF (BPMF with biases), predictions averaged over Gibbs samples.

Its cost is training ratings x Gibbs sweeps, so the number of samples kept follows the data's
size (movierec.models.scale.bayesian_mf_sweeps: var bpmf_samples up to about 450k ratings,
fewer above, and a shorter burn-in at the full size, logged); model_runs records the numbers used.
"""

from movierec.models.data import training_ratings
from movierec.models.export import fit_and_export
from movierec.models.mf import BayesianMF
from movierec.models.scale import BPMF_BURN_IN, bayesian_mf_sweeps


def model(dbt, session):
    dbt.config(materialized="table")
    meta = dbt.config.get("meta")
    train = training_ratings(dbt.ref("int_ratings_train"))
    burn_in, samples = bayesian_mf_sweeps(int(meta["bpmf_samples"]), BPMF_BURN_IN, len(train))
    recommender = BayesianMF(
        n_factors=int(meta["bpmf_factors"]),
        samples=samples,
        burn_in=burn_in,
        seed=int(meta["seed"]),
        verbose=True,
    )
    return fit_and_export(recommender, train, dbt.ref("int_ratings_test"), meta)
