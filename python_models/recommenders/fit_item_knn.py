"""Item-based kNN with baseline: residuals of similar movies the user rated, similarity shrunk by co-rating count."""

from movierec.models.export import fit_and_export
from movierec.models.knn import ItemKNN


def model(dbt, session):
    dbt.config(materialized="table")
    meta = dbt.config.get("meta")
    recommender = ItemKNN(
        n_neighbors=int(meta["knn_neighbours"]),
        shrinkage=float(meta["knn_shrinkage"]),
        min_neighbors=int(meta["knn_min_neighbours"]),
    )
    return fit_and_export(recommender, dbt.ref("int_ratings_train"), dbt.ref("int_ratings_test"), meta)
