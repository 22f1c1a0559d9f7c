-- Which (user, movie) pairs exist outside the training ratings, WITHOUT their ratings: the
-- held-out test pairs (Netflix probe or a MovieLens fold's test part) and Netflix's qualifying
-- pairs. Implicit feedback for SVD++-style models: the Netflix Prize allowed using which pairs a
-- user was asked about, since the choice to rate a movie is information even when the rating is
-- hidden. The rating column is never selected here (tests/integration/test_no_leakage.py).

with

test_pairs as (
    select
        user_id,
        movie_id,
        'test' as pair_source
    from {{ ref('int_ratings_test') }}
),

qualifying_pairs as (
    select distinct
        user_id,
        movie_id,
        'qualifying' as pair_source
    from {{ source('ingest', 'qualifying') }}
),

qualifying_only as (
    select qualifying_pairs.*
    from qualifying_pairs
    anti join test_pairs
        on qualifying_pairs.user_id = test_pairs.user_id
        and qualifying_pairs.movie_id = test_pairs.movie_id
),

pairs as (
    select * from test_pairs
    union all
    select * from qualifying_only
)

select * from pairs
