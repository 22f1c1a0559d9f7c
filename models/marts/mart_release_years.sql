with

movies as (
    select * from {{ ref('dim_movies') }}
),

release_years as (
    select
        release_year,
        count(*) as movie_count,
        count(*) filter (where rating_count > 0) as rated_movie_count,
        cast(sum(rating_count) as bigint) as rating_count,
        sum(mean_rating * rating_count) / nullif(sum(rating_count), 0) as mean_rating,
        avg(mean_rating) as mean_movie_rating,
        avg(damped_mean_rating) as mean_damped_movie_rating
    from movies
    group by release_year
),

final as (
    select
        release_year,
        movie_count,
        rated_movie_count,
        rating_count,
        {{ share_of_total('rating_count') }} as rating_share,
        cast(rating_count as double) / nullif(rated_movie_count, 0) as ratings_per_rated_movie,
        mean_rating,
        mean_movie_rating,
        mean_damped_movie_rating
    from release_years
    order by release_year nulls last
)

select * from final
