with

ratings as (
    select
        year(rated_on) as rating_year,
        rating
    from {{ ref('fct_ratings') }}
),

yearly_counts as (
    select
        rating_year,
        rating,
        count(*) as rating_count
    from ratings
    group by rating_year, rating
),

-- ratings without a date (a generic csv file without a date column) count in 'all' only
years as (
    select distinct rating_year
    from yearly_counts
    where rating_year is not null
),

rating_values as (
    select distinct rating
    from yearly_counts
),

-- every observed rating value in every year, so that a value nobody gave in a year shows as 0
yearly_grid as (
    select
        cast(years.rating_year as {{ dbt.type_string() }}) as period,
        years.rating_year,
        rating_values.rating,
        coalesce(yearly_counts.rating_count, 0) as rating_count
    from years
    cross join rating_values
    left join yearly_counts
        on years.rating_year = yearly_counts.rating_year
        and rating_values.rating = yearly_counts.rating
),

overall as (
    select
        'all' as period,
        cast(null as bigint) as rating_year,
        rating,
        cast(sum(rating_count) as bigint) as rating_count
    from yearly_counts
    group by rating
),

periods as (
    select * from overall
    union all
    select * from yearly_grid
),

final as (
    select
        period,
        rating_year,
        rating,
        rating_count,
        {{ share_of_total('rating_count', 'period') }} as rating_share
    from periods
    order by rating_year nulls first, rating
)

select * from final
