"""Baseline: every rating predicted as the training mean; ranks movies by nothing (ties by id)."""

from movierec.models.baselines import GlobalMean
from movierec.models.export import fit_and_export


def model(dbt, session):
    dbt.config(materialized="table")
    meta = dbt.config.get("meta")
    recommender = GlobalMean()
    return fit_and_export(recommender, dbt.ref("int_ratings_train"), dbt.ref("int_ratings_test"), meta)
