"""Bayesian SVD++ (flipped): BPMF with biases plus implicit feedback, which movies each user rated
(training, test and qualifying pairs, never their held-out ratings) and which users rated each movie."""

from movierec.models.export import fit_and_export
from movierec.models.prize import make_rating_model


def model(dbt, session):
    dbt.config(materialized="table")
    meta = dbt.config.get("meta")
    train = dbt.ref("int_ratings_train")
    # Gibbs sweeps follow the data's size, as for Bayesian MF (movierec.models.scale, logged)
    n_ratings = train.aggregate("count(*)").fetchone()[0]
    return fit_and_export(
        make_rating_model("bayesian_svdpp", meta, n_ratings),
        train,
        dbt.ref("int_ratings_test"),
        meta,
        implicit=dbt.ref("int_implicit_pairs"),
    )
