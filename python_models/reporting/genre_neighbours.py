"""Genre recovery, per movie: do a factor model's nearest neighbours share the movie's genres?

Thin: reads every factor model's movie factors (movie_factors) and the genre metadata
(dim_movie_genres), and calls movierec.genres.neighbour_genre_shares per model. The movies are
those with genres, non-zero factors and at least `min_ratings` ratings (a rarely rated movie's
factors are mostly regularization noise). Empty when the data has no genres (Netflix).
"""

import numpy as np
import pyarrow as pa

from movierec.genres import neighbour_genre_shares

SCHEMA = pa.schema(
    [
        ("model_name", pa.string()),
        ("movie_id", pa.int32()),
        ("n_neighbors", pa.int32()),
        ("neighbour_share", pa.float64()),
        ("chance_share", pa.float64()),
    ]
)


def model(dbt, session):
    dbt.config(materialized="table")
    meta = dbt.config.get("meta")
    n_neighbors = int(meta["n_neighbors"])
    min_ratings = int(meta["min_ratings"])

    genre_rows = dbt.ref("dim_movie_genres").project("movie_id, genre").to_arrow_table()
    if genre_rows.num_rows == 0:
        return SCHEMA.empty_table()
    genre_names, genre_index = np.unique(genre_rows.column("genre").to_numpy(zero_copy_only=False), return_inverse=True)
    genre_movie_ids = genre_rows.column("movie_id").to_numpy()

    supported = dbt.ref("dim_movies").filter(f"rating_count >= {min_ratings}").project("movie_id")
    factors = (
        dbt.ref("movie_factors")
        .filter("factors is not null")
        .join(supported, "movie_id")
        .project("model_name, movie_id, factors")
        .order("model_name, movie_id")
        .to_arrow_table()
    )
    tables = []
    model_names = factors.column("model_name").to_numpy(zero_copy_only=False)
    for model_name in sorted(set(model_names)):
        rows = np.flatnonzero(model_names == model_name)
        movie_ids = factors.column("movie_id").to_numpy()[rows]
        matrix = np.asarray(factors.column("factors").take(pa.array(rows)).combine_chunks().flatten(), dtype=np.float64)
        matrix = matrix.reshape(rows.size, -1)
        position = {int(m): i for i, m in enumerate(movie_ids)}
        incidence = np.zeros((rows.size, genre_names.size), dtype=bool)
        for movie_id, g in zip(genre_movie_ids, genre_index):
            i = position.get(int(movie_id))
            if i is not None:
                incidence[i, g] = True
        keep = incidence.any(axis=1) & (np.abs(matrix).sum(axis=1) > 0)
        if keep.sum() <= n_neighbors:
            continue
        result = neighbour_genre_shares(matrix[keep], incidence[keep], n_neighbors=n_neighbors)
        n = int(keep.sum())
        tables.append(
            pa.table(
                {
                    "model_name": pa.array([model_name] * n, pa.string()),
                    "movie_id": pa.array(movie_ids[keep], pa.int32()),
                    "n_neighbors": pa.array(np.full(n, n_neighbors), pa.int32()),
                    "neighbour_share": pa.array(result.neighbour_share, pa.float64()),
                    "chance_share": pa.array(result.chance_share, pa.float64()),
                },
                schema=SCHEMA,
            )
        )
    return pa.concat_tables(tables) if tables else SCHEMA.empty_table()
