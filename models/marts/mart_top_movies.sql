{%- set list_length = var('top_movies_n') | int -%}
{%- set min_ratings = var('top_movies_min_ratings') | int -%}

with

movies as (
    select * from {{ ref('dim_movies') }}
    where rating_count > 0
),

most_rated as (
    select
        'most_rated' as list_name,
        popularity_rank as rank,
        *
    from movies
    where popularity_rank <= {{ list_length }}
),

best_rated_ranked as (
    select
        'best_rated' as list_name,
        row_number() over (
            order by damped_mean_rating desc, rating_count desc, movie_id
        ) as rank,
        *
    from movies
    where rating_count >= {{ min_ratings }}
),

best_rated as (
    select * from best_rated_ranked
    where rank <= {{ list_length }}
),

lists as (
    select * from most_rated
    union all
    select * from best_rated
),

final as (
    select
        list_name,
        rank,
        movie_id,
        title,
        release_year,
        rating_count,
        mean_rating,
        damped_mean_rating,
        popularity_rank
    from lists
    order by list_name desc, rank
)

select * from final
