-- Leakage guard: a held-out (user, movie) pair must never appear in the training ratings.
-- Fails with one row per leaked pair.
with

train as (
    select * from {{ ref('int_ratings_train') }}
),

test as (
    select * from {{ ref('int_ratings_test') }}
)

select train.user_id, train.movie_id
from train
inner join test
    on train.user_id = test.user_id
    and train.movie_id = test.movie_id
