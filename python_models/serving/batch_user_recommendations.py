"""Python engine of user_recommendations: every user's top-k scored with numpy BLAS in user blocks.

Enabled when var `recommendations_engine` is `python` (the full Netflix size: 480K users x 17,770
movies is 8.5 billion scores, too many for a SQL cross join). The math and its rules are
movierec.serving.batch_user_recommendations; the settings come from serving_config. With var
`recommendations_engine: auto` (the default) it returns no rows when serving_config chose SQL
for this data's size (SQL scores user_recommendations then).
"""

from movierec.serving import BATCH_RECOMMENDATIONS_SCHEMA, batch_user_recommendations, serving_engine


def model(dbt, session):
    dbt.config(materialized="table")
    if serving_engine(session, dbt.ref("serving_config")) == "sql":
        return BATCH_RECOMMENDATIONS_SCHEMA.empty_table()
    return batch_user_recommendations(
        session,
        config=dbt.ref("serving_config"),
        user_factors=dbt.ref("user_factors"),
        movie_factors=dbt.ref("movie_factors"),
        user_ratings=dbt.ref("serving_user_ratings"),
    )
