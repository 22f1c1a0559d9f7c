-- fct_ratings (via int_ratings_subset) obeys the subset vars: dates inside the range, no user
-- with fewer than subset_min_ratings_per_user ratings, at most subset_top_n_movies movies.
-- With the default vars every check is trivially true. Fails with one row per violation.
{%- set start_date = var('subset_start_date') -%}
{%- set end_date = var('subset_end_date') -%}
{%- set top_n_movies = var('subset_top_n_movies') %}

with

ratings as (
    select * from {{ ref('fct_ratings') }}
),

user_counts as (
    select
        user_id,
        count(*) as rating_count
    from ratings
    group by user_id
),

violations as (
    select 'user below subset_min_ratings_per_user' as violation, count(*) as violation_count
    from user_counts
    where rating_count < {{ var('subset_min_ratings_per_user') | int }}
    {%- if start_date is not none %}
    union all
    select 'rating before subset_start_date', count(*)
    from ratings
    where rated_on < date '{{ start_date }}'
    {%- endif %}
    {%- if end_date is not none %}
    union all
    select 'rating after subset_end_date', count(*)
    from ratings
    where rated_on > date '{{ end_date }}'
    {%- endif %}
    {%- if top_n_movies is not none %}
    union all
    select 'more movies than subset_top_n_movies', count(distinct movie_id) - {{ top_n_movies | int }}
    from ratings
    having count(distinct movie_id) > {{ top_n_movies | int }}
    {%- endif %}
)

select * from violations
where violation_count > 0
