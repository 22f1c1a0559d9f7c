{{ config(materialized='table') }}

{#-
    Per-movie aggregates, computed once (one pass) from int_ratings_subset (the rows of fct_ratings) and read by dim_movies,
    mart_long_tail and mart_long_tail_summary instead of re-scanning the ratings. Also ranks
    movies by popularity and marks the head: the fewest most-rated movies whose ratings
    together reach var('head_share') of all ratings.
-#}
{%- set head_share = var('head_share') -%}
{%- if not (0 < head_share <= 1) -%}
    {{ exceptions.raise_compiler_error("head_share must be in (0, 1], got " ~ head_share) }}
{%- endif -%}

with

ratings as (
    select
        user_id,
        movie_id,
        rating,
        rated_on
    from {{ ref('int_ratings_subset') }}
),

movie_aggregates as (
    select
        movie_id,
        count(*) as rating_count,
        sum(rating) as rating_sum,
        avg(rating) as mean_rating,
        stddev_samp(rating) as rating_stddev,
        min(rated_on) as first_rated_on,
        max(rated_on) as last_rated_on
    from ratings
    group by movie_id
),

with_totals as (
    select
        *,
        cast(sum(rating_count) over () as bigint) as total_rating_count,
        sum(rating_sum) over () / sum(rating_count) over () as global_mean_rating
    from movie_aggregates
),

ranked as (
    select
        *,
        row_number() over (order by rating_count desc, movie_id) as popularity_rank,
        cast(sum(rating_count) over (
            order by rating_count desc, movie_id
            rows between unbounded preceding and current row
        ) as bigint) as cumulative_rating_count
    from with_totals
),

final as (
    select
        movie_id,
        rating_count,
        rating_sum,
        mean_rating,
        {{ damped_mean('rating_sum', 'rating_count', 'global_mean_rating') }} as damped_mean_rating,
        rating_stddev,
        first_rated_on,
        last_rated_on,
        popularity_rank,
        cumulative_rating_count,
        cast(cumulative_rating_count as double) / total_rating_count as cumulative_rating_share,
        -- head: the ratings of the more popular movies do not reach head_share yet
        (cumulative_rating_count - rating_count) < {{ head_share }} * total_rating_count as is_head,
        global_mean_rating
    from ranked
)

select * from final
