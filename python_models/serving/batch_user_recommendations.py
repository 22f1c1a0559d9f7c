"""Python engine of user_recommendations: every user's top-k scored with numpy BLAS in user blocks.

Enabled when var `recommendations_engine` is `python` (the full Netflix size: 480K users x 17,770
movies is 8.5 billion scores, too many for a SQL cross join). The math and its rules are
movierec.serving.batch_user_recommendations; the settings come from serving_config.
"""

from movierec.serving import batch_user_recommendations


def model(dbt, session):
    dbt.config(materialized="table")
    return batch_user_recommendations(
        session,
        config=dbt.ref("serving_config"),
        user_factors=dbt.ref("user_factors"),
        movie_factors=dbt.ref("movie_factors"),
        user_ratings=dbt.ref("serving_user_ratings"),
    )
