"""Baseline: global mean + regularized user and movie biases (Koren 2008), fitted by alternating sweeps."""

from movierec.models.baselines import BiasBaseline
from movierec.models.export import fit_and_export


def model(dbt, session):
    dbt.config(materialized="table")
    meta = dbt.config.get("meta")
    recommender = BiasBaseline(
        reg_user=float(meta["bias_reg_user"]),
        reg_movie=float(meta["bias_reg_movie"]),
    )
    return fit_and_export(recommender, dbt.ref("int_ratings_train"), dbt.ref("int_ratings_test"), meta)
