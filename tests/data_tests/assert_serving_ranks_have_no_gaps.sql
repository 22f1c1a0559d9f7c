-- Ranks in user_recommendations (per user) and similar_movies (per movie) run 1..n without
-- gaps, and a user gets one source of recommendations (the model or the fallback, never a
-- mix). Fails with one row per list that breaks this.
with

recommendations as (
    select * from {{ ref('user_recommendations') }}
),

similar_movies as (
    select * from {{ ref('similar_movies') }}
),

recommendation_lists as (
    select
        'user_recommendations' as model,
        user_id as list_id,
        count(*) as row_count,
        min(rank) as min_rank,
        max(rank) as max_rank,
        count(distinct rank) as distinct_ranks,
        count(distinct model_name) as source_count
    from recommendations
    group by user_id
),

similar_lists as (
    select
        'similar_movies' as model,
        movie_id as list_id,
        count(*) as row_count,
        min(rank) as min_rank,
        max(rank) as max_rank,
        count(distinct rank) as distinct_ranks,
        1 as source_count
    from similar_movies
    group by movie_id
),

lists as (
    select * from recommendation_lists
    union all
    select * from similar_lists
)

select *
from lists
where min_rank != 1
    or max_rank != row_count
    or distinct_ranks != row_count
    or source_count != 1
