-- mart_long_tail is a proper concentration curve: ranks 1..n in order, x = rank / n strictly
-- increasing, y (cumulative rating share) non-decreasing with non-increasing steps (movies
-- sorted most-rated first, so the curve is concave and lies on or above the diagonal),
-- and both end at exactly 1. Fails with the offending rows.

with

curve as (
    select * from {{ ref('mart_long_tail') }}
),

with_previous as (
    select
        *,
        count(*) over () as movie_count,
        lag(cumulative_movie_share) over (order by popularity_rank) as previous_movie_share,
        lag(cumulative_rating_share) over (order by popularity_rank) as previous_rating_share,
        lag(rating_count) over (order by popularity_rank) as previous_rating_count
    from curve
),

violations as (
    select
        *,
        case
            when popularity_rank not between 1 and movie_count then 'rank outside 1..n'
            when previous_movie_share >= cumulative_movie_share then 'x not increasing'
            when previous_rating_share > cumulative_rating_share then 'y decreasing'
            when previous_rating_count < rating_count then 'not sorted by popularity (curve not concave)'
            when cumulative_rating_share < cumulative_movie_share - 1e-12 then 'curve below the diagonal'
            when popularity_rank = movie_count
                and (abs(cumulative_movie_share - 1) > 1e-12 or abs(cumulative_rating_share - 1) > 1e-12)
                then 'does not end at (1, 1)'
        end as violation
    from with_previous
)

select * from violations
where violation is not null
