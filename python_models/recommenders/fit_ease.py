"""Top-N model: EASE (Steck 2019), a closed-form item-item regression. Memory grows with movies squared."""

from movierec.models.export import fit_and_export
from movierec.models.topn import EASE


def model(dbt, session):
    dbt.config(materialized="table")
    meta = dbt.config.get("meta")
    recommender = EASE(reg=float(meta["ease_reg"]), verbose=True)
    return fit_and_export(recommender, dbt.ref("int_ratings_train"), dbt.ref("int_ratings_test"), meta)
