"""Baseline: each movie's mean training rating, damped toward the global mean."""

from movierec.models.baselines import MovieMean
from movierec.models.export import fit_and_export


def model(dbt, session):
    dbt.config(materialized="table")
    meta = dbt.config.get("meta")
    recommender = MovieMean(damping=float(meta["movie_mean_damping"]))
    return fit_and_export(recommender, dbt.ref("int_ratings_train"), dbt.ref("int_ratings_test"), meta)
