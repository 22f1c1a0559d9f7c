"""Python engine of similar_movies: cosine of movie factors, one BLAS product per block of movies.

Enabled when var `recommendations_engine` is `python` or `auto`; with `auto` it returns no rows
when serving_config chose SQL for this data's size (SQL scores similar_movies then). The math is
movierec.serving.batch_similar_movies; the settings come from serving_config.
"""

from movierec.serving import BATCH_SIMILAR_SCHEMA, batch_similar_movies, serving_engine


def model(dbt, session):
    dbt.config(materialized="table")
    if serving_engine(session, dbt.ref("serving_config")) == "sql":
        return BATCH_SIMILAR_SCHEMA.empty_table()
    return batch_similar_movies(
        session,
        config=dbt.ref("serving_config"),
        movie_factors=dbt.ref("movie_factors"),
        movies=dbt.ref("dim_movies"),
    )
