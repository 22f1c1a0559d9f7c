-- The head (dim_movies.is_head) is a prefix of the popularity ranking that covers at least
-- var('head_share') of the ratings, and dropping its last movie would fall short of it.
-- Fails with one row describing what is wrong.

with

movies as (
    select * from {{ ref('dim_movies') }}
    where rating_count > 0
),

head as (
    select
        count(*) as movie_count,
        count(*) filter (where is_head) as head_movie_count,
        max(popularity_rank) filter (where is_head) as last_head_rank,
        sum(rating_count) as rating_count,
        sum(rating_count) filter (where is_head) as head_rating_count,
        sum(rating_count) filter (where popularity_rank = (
            select max(popularity_rank) from movies where is_head
        )) as last_head_movie_rating_count
    from movies
),

violations as (
    select
        *,
        case
            when movie_count > 0 and head_movie_count = 0 then 'empty head'
            when last_head_rank <> head_movie_count then 'head is not a prefix of the popularity ranking'
            when head_rating_count < {{ var('head_share') }} * rating_count then 'head covers less than head_share'
            when head_rating_count - last_head_movie_rating_count >= {{ var('head_share') }} * rating_count
                then 'head is not the fewest movies'
        end as violation
    from head
)

select * from violations
where violation is not null
