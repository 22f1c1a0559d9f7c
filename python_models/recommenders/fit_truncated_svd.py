"""Truncated SVD (scipy) of the bias-removed rating matrix, unobserved entries taken as zero."""

from movierec.models.export import fit_and_export
from movierec.models.svd import TruncatedSVD


def model(dbt, session):
    dbt.config(materialized="table")
    meta = dbt.config.get("meta")
    recommender = TruncatedSVD(n_factors=int(meta["svd_factors"]), seed=int(meta["seed"]))
    return fit_and_export(recommender, dbt.ref("int_ratings_train"), dbt.ref("int_ratings_test"), meta)
