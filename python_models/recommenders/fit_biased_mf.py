"""Biased matrix factorization by alternating least squares on the observed ratings only."""

from movierec.models.export import fit_and_export
from movierec.models.mf import BiasedMF


def model(dbt, session):
    dbt.config(materialized="table")
    meta = dbt.config.get("meta")
    recommender = BiasedMF(
        n_factors=int(meta["factors"]),
        reg=float(meta["mf_reg"]),
        epochs=int(meta["mf_epochs"]),
        seed=int(meta["seed"]),
        verbose=True,
    )
    return fit_and_export(recommender, dbt.ref("int_ratings_train"), dbt.ref("int_ratings_test"), meta)
