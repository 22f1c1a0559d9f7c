"""A linear blend of rating models (var blend_members), weights fitted on a held-out part of the
training ratings, never on the test set."""

from movierec.models.blend import Blend, make_rating_model
from movierec.models.export import fit_and_export


def model(dbt, session):
    dbt.config(materialized="table")
    meta = dbt.config.get("meta")
    members = [str(name).strip() for name in str(meta["blend_members"]).strip("[]").replace("'", "").split(",")]
    train = dbt.ref("int_ratings_train")
    # the members follow the size rules of their own fit_<name> models (movierec.models.scale, logged)
    n_ratings = train.aggregate("count(*)").fetchone()[0]
    recommender = Blend(
        [lambda name=name: make_rating_model(name, meta, n_ratings) for name in members if name],
        validation_fraction=float(meta["blend_validation_fraction"]),
        seed=int(meta["seed"]),
    )
    return fit_and_export(
        recommender,
        train,
        dbt.ref("int_ratings_test"),
        meta,
        implicit=dbt.ref("int_implicit_pairs"),
    )
