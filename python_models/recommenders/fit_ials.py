"""Top-N model: implicit-feedback ALS (every rating a positive, every other pair a weak negative)."""

from movierec.models.export import fit_and_export
from movierec.models.topn import ImplicitALS


def model(dbt, session):
    dbt.config(materialized="table")
    meta = dbt.config.get("meta")
    recommender = ImplicitALS(
        n_factors=int(meta["factors"]),
        reg=float(meta["ials_reg"]),
        unobserved_weight=float(meta["ials_unobserved_weight"]),
        iterations=int(meta["ials_iterations"]),
        seed=int(meta["seed"]),
    )
    return fit_and_export(recommender, dbt.ref("int_ratings_train"), dbt.ref("int_ratings_test"), meta)
