"""Python engine of similar_movies: cosine of movie factors, one BLAS product per block of movies.

Enabled when var `recommendations_engine` is `python`. The math is
movierec.serving.batch_similar_movies; the settings come from serving_config.
"""

from movierec.serving import batch_similar_movies


def model(dbt, session):
    dbt.config(materialized="table")
    return batch_similar_movies(
        session,
        config=dbt.ref("serving_config"),
        movie_factors=dbt.ref("movie_factors"),
        movies=dbt.ref("dim_movies"),
    )
