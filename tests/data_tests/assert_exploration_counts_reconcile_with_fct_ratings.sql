-- Every exploration mart accounts for exactly the ratings of fct_ratings (and the users and
-- movies in it). Fails with one row per mart whose total differs. The marts by time account for
-- the dated ratings (all of them, unless a generic csv without dates was ingested).

with

fct_totals as (
    select
        count(*) as rating_count,
        count(distinct user_id) as user_count,
        count(distinct movie_id) as movie_count,
        count(rated_on) as dated_rating_count,
        count(distinct user_id) filter (where rated_on is not null) as dated_user_count
    from {{ ref('fct_ratings') }}
),

mart_totals as (
    select
        'int_movie_rating_stats' as source,
        sum(rating_count) as rating_count,
        count(*) as unit_count,
        'movie' as unit
    from {{ ref('int_movie_rating_stats') }}
    union all
    select 'int_user_rating_stats', sum(rating_count), count(*), 'user'
    from {{ ref('int_user_rating_stats') }}
    union all
    select 'dim_movies', sum(rating_count), count(*) filter (where rating_count > 0), 'movie'
    from {{ ref('dim_movies') }}
    union all
    select 'dim_users', sum(rating_count), count(*), 'user'
    from {{ ref('dim_users') }}
    union all
    select 'mart_user_activity', sum(rating_count), sum(user_count), 'user'
    from {{ ref('mart_user_activity') }}
    union all
    select 'mart_user_activity_summary', sum(rating_count), sum(user_count), 'user'
    from {{ ref('mart_user_activity_summary') }}
    union all
    select 'mart_rating_distribution (all)', sum(rating_count), null, null
    from {{ ref('mart_rating_distribution') }}
    where period = 'all'
    union all
    select 'mart_rating_distribution (years)', sum(rating_count), null, 'dated'
    from {{ ref('mart_rating_distribution') }}
    where period <> 'all'
    union all
    select 'mart_ratings_over_time', sum(rating_count), coalesce(sum(new_user_count), 0), 'dated_user'
    from {{ ref('mart_ratings_over_time') }}
    union all
    select 'mart_long_tail', sum(rating_count), count(*), 'movie'
    from {{ ref('mart_long_tail') }}
    union all
    select 'mart_long_tail_summary', sum(rating_count), sum(movie_count), 'movie'
    from {{ ref('mart_long_tail_summary') }}
    union all
    select 'mart_release_years', sum(rating_count), sum(rated_movie_count), 'movie'
    from {{ ref('mart_release_years') }}
),

mismatches as (
    select
        mart_totals.source,
        mart_totals.rating_count,
        case
            when mart_totals.unit in ('dated', 'dated_user') then fct_totals.dated_rating_count
            else fct_totals.rating_count
        end as expected_rating_count,
        mart_totals.unit,
        mart_totals.unit_count,
        case mart_totals.unit
            when 'user' then fct_totals.user_count
            when 'movie' then fct_totals.movie_count
            when 'dated_user' then fct_totals.dated_user_count
        end as expected_unit_count
    from mart_totals
    cross join fct_totals
    where coalesce(mart_totals.rating_count, 0) <> case
            when mart_totals.unit in ('dated', 'dated_user') then fct_totals.dated_rating_count
            else fct_totals.rating_count
        end
        or mart_totals.unit_count is distinct from (
            case mart_totals.unit
                when 'user' then fct_totals.user_count
                when 'movie' then fct_totals.movie_count
                when 'dated_user' then fct_totals.dated_user_count
            end
        )
)

select * from mismatches
