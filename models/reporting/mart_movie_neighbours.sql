{#- similar_movies with titles and support on both sides, for the similar-movies report and notebook. -#}
with

similar_movies as (
    select * from {{ ref('similar_movies') }}
),

movies as (
    select * from {{ ref('dim_movies') }}
),

final as (
    select
        similar_movies.model_name,
        similar_movies.movie_id,
        movies.label,
        movies.rating_count,
        movies.popularity_rank,
        similar_movies.rank,
        similar_movies.similar_movie_id,
        similar_movie.label as similar_label,
        similar_movie.rating_count as similar_rating_count,
        similar_movie.mean_rating as similar_mean_rating,
        similar_movies.similarity
    from similar_movies
    left join movies
        on similar_movies.movie_id = movies.movie_id
    left join movies as similar_movie
        on similar_movies.similar_movie_id = similar_movie.movie_id
)

select * from final
order by popularity_rank, movie_id, rank
