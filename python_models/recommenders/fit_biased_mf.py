"""Biased matrix factorization by alternating least squares on the observed ratings only.

Its cost is training ratings x (factors+1)^2 x epochs, so above a size budget it fits fewer
factors than var `factors` (movierec.models.scale.biased_mf_factors, logged; the factor tables
are padded with zeros), and at the full size fewer epochs than var `mf_epochs`
(movierec.models.scale.biased_mf_epochs, logged); model_runs records the numbers used.
"""

from movierec.models.data import training_ratings
from movierec.models.export import fit_and_export
from movierec.models.mf import BiasedMF
from movierec.models.scale import biased_mf_epochs, biased_mf_factors


def model(dbt, session):
    dbt.config(materialized="table")
    meta = dbt.config.get("meta")
    train = training_ratings(dbt.ref("int_ratings_train"))
    epochs = int(meta["mf_epochs"])
    recommender = BiasedMF(
        n_factors=biased_mf_factors(int(meta["factors"]), epochs, len(train)),
        reg=float(meta["mf_reg"]),
        epochs=biased_mf_epochs(epochs, len(train)),
        seed=int(meta["seed"]),
        verbose=True,
    )
    return fit_and_export(recommender, train, dbt.ref("int_ratings_test"), meta)
