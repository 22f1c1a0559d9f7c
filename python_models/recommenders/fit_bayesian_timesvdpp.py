"""Bayesian timeSVD++ (flipped, Rendle et al. 2019): Bayesian SVD++ plus a movie bias per time bin
and a user bias drift; implicit feedback from pairs only, never held-out ratings."""

from movierec.models.blend import make_rating_model
from movierec.models.export import fit_and_export


def model(dbt, session):
    dbt.config(materialized="table")
    meta = dbt.config.get("meta")
    train = dbt.ref("int_ratings_train")
    # Gibbs sweeps follow the data's size, as for Bayesian MF (movierec.models.scale, logged)
    n_ratings = train.aggregate("count(*)").fetchone()[0]
    return fit_and_export(
        make_rating_model("bayesian_timesvdpp", meta, n_ratings),
        train,
        dbt.ref("int_ratings_test"),
        meta,
        implicit=dbt.ref("int_implicit_pairs"),
    )
