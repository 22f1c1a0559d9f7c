"""Ranking baseline: the most-rated movies in training, the same list for everyone (minus what they saw)."""

from movierec.models.popularity import Popularity
from movierec.models.export import fit_and_export


def model(dbt, session):
    dbt.config(materialized="table")
    meta = dbt.config.get("meta")
    recommender = Popularity()
    return fit_and_export(recommender, dbt.ref("int_ratings_train"), dbt.ref("int_ratings_test"), meta)
