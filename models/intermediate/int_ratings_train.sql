{{ config(materialized='table') }}

{#-
    The training ratings, materialized once per build with the dense indices every fit uses:
    user_index and movie_index are the ranks (from 0) of the sorted distinct ids, the layout of
    movierec.models.data.Ratings. The dbt Python models read this table once per process
    (movierec.models.data.training_ratings) instead of re-running the split and re-indexing
    100M ratings each. Stored in no fixed order (a parallel join emits rows as its threads
    finish): the fits' float sums follow the row order, so the loader puts the ratings in
    (user_index, movie_index) order itself, with two linear-time counting sorts, and two builds of
    the same data stay identical. An ORDER BY here cost about 40 s of both cores at 100M ratings.
-#}

with

split as (
    select * from {{ ref('int_ratings_split') }}
),

train as (
    select
        user_id,
        movie_id,
        rating,
        rated_on
    from split
    where split = 'train'
),

user_indices as (
    select
        user_id,
        (row_number() over (order by user_id) - 1)::integer as user_index
    from (select distinct user_id from train)
),

movie_indices as (
    select
        movie_id,
        (row_number() over (order by movie_id) - 1)::integer as movie_index
    from (select distinct movie_id from train)
),

indexed as (
    select
        train.user_id,
        train.movie_id,
        train.rating,
        train.rated_on,
        user_indices.user_index,
        movie_indices.movie_index
    from train
    inner join user_indices
        on train.user_id = user_indices.user_id
    inner join movie_indices
        on train.movie_id = movie_indices.movie_id
)

select * from indexed
