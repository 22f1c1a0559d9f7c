-- Seen-exclusion guard: user_recommendations never recommends a movie the user has rated
-- (in fct_ratings: training and held-out ratings alike). Fails with one row per such pair.
with

recommendations as (
    select * from {{ ref('user_recommendations') }}
),

ratings as (
    select * from {{ ref('fct_ratings') }}
)

select
    recommendations.user_id,
    recommendations.rank,
    recommendations.movie_id,
    recommendations.model_name
from recommendations
inner join ratings
    on recommendations.user_id = ratings.user_id
    and recommendations.movie_id = ratings.movie_id
