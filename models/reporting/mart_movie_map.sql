{#-
    The latent-space map: every well-supported movie of the serving model at its coordinates on
    the first two principal components of the movie factors (python_models/reporting/movie_map.py),
    with what to show on hover and three ways to colour the points: main genre (when the data
    has genres), release decade and popularity.
-#}
with

movie_map as (
    select * from {{ ref('movie_map') }}
    where is_fitted
        and component <= 2
),

movies as (
    select * from {{ ref('dim_movies') }}
),

coordinates as (
    select
        model_name,
        movie_id,
        max(score) filter (where component = 1) as x,
        max(score) filter (where component = 2) as y,
        max(explained_variance_ratio) filter (where component = 1) as x_explained_variance_ratio,
        max(explained_variance_ratio) filter (where component = 2) as y_explained_variance_ratio
    from movie_map
    group by model_name, movie_id
),

-- quarters of the mapped movies by number of ratings: the same four colours at any data size
with_popularity as (
    select
        coordinates.*,
        movies.label,
        movies.title,
        movies.release_year,
        movies.main_genre,
        movies.genres,
        movies.rating_count,
        movies.popularity_rank,
        movies.mean_rating,
        movies.damped_mean_rating,
        movies.is_head,
        ntile(4) over (order by movies.rating_count desc, coordinates.movie_id) as popularity_quarter
    from coordinates
    inner join movies
        on coordinates.movie_id = movies.movie_id
),

final as (
    select
        model_name,
        movie_id,
        label,
        title,
        release_year,
        coalesce(cast(release_year // 10 * 10 as varchar) || 's', 'unknown') as release_decade,
        coalesce(main_genre, 'no genre') as main_genre,
        genres,
        rating_count,
        popularity_rank,
        case popularity_quarter
            when 1 then '1: most rated quarter'
            when 2 then '2: second quarter'
            when 3 then '3: third quarter'
            else '4: least rated quarter'
        end as popularity_band,
        mean_rating,
        damped_mean_rating,
        is_head,
        x,
        y,
        x_explained_variance_ratio,
        y_explained_variance_ratio
    from with_popularity
)

select * from final
order by popularity_rank
