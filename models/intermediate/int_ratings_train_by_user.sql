{{ config(materialized='table') }}

{#- Training ratings per user, one scan of int_ratings_train: who the models know, and how much each rated. -#}

with

train as (
    select * from {{ ref('int_ratings_train') }}
),

by_user as (
    select
        user_id,
        count(*) as rating_count
    from train
    group by user_id
)

select * from by_user
