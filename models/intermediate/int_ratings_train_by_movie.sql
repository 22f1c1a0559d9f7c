{{ config(materialized='table') }}

{#-
    Per-movie sums of the training ratings, one scan of int_ratings_train. Everything the
    mean recommenders (fit_global_mean, fit_movie_mean, fit_popularity) learn, and their
    training RMSE, follows from these sums exactly, so they never read the 100M rows again.
-#}

with

train as (
    select * from {{ ref('int_ratings_train') }}
),

by_movie as (
    select
        movie_id,
        count(*) as rating_count,
        sum(rating) as rating_sum,
        sum(rating * rating) as rating_square_sum,
        min(rating) as min_rating,
        max(rating) as max_rating
    from train
    group by movie_id
)

select * from by_movie
