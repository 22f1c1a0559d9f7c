"""The strongest rating model: Bayesian biased MF (BPMF with biases), predictions averaged over Gibbs samples."""

from movierec.models.mf import BayesianMF
from movierec.models.export import fit_and_export


def model(dbt, session):
    dbt.config(materialized="table")
    meta = dbt.config.get("meta")
    recommender = BayesianMF(
        k=int(meta["bpmf_factors"]),
        samples=int(meta["bpmf_samples"]),
        seed=int(meta["seed"]),
    )
    return fit_and_export(recommender, dbt.ref("int_ratings_train"), dbt.ref("int_ratings_test"), meta)
