"""User-based kNN with baseline. Memory grows with users squared: subset users for large data (see knn.py)."""

from movierec.models.export import fit_and_export
from movierec.models.knn import UserKNN


def model(dbt, session):
    dbt.config(materialized="table")
    meta = dbt.config.get("meta")
    recommender = UserKNN(
        n_neighbors=int(meta["knn_neighbours"]),
        shrinkage=float(meta["knn_shrinkage"]),
        min_neighbors=int(meta["knn_min_neighbours"]),
    )
    return fit_and_export(recommender, dbt.ref("int_ratings_train"), dbt.ref("int_ratings_test"), meta)
