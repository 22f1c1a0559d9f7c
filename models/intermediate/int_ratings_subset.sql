{#-
    The ratings every downstream model reads, cut down by the `subset_*` vars (dbt_project.yml).
    Order: date range and user sample first (row-level, in the import CTE), then the movie
    filters (top-N by count and the minimum per movie, counted on what is left), then the
    minimum per user (counted after the movie filters). Each step runs once; it is not
    iterated to a fixed point. A filter at its keep-everything default adds no SQL at all, so
    with the defaults this compiles to a plain select of the staging view.
-#}
{%- set start_date = var('subset_start_date') -%}
{%- set end_date = var('subset_end_date') -%}
{%- set user_fraction = var('subset_user_fraction') | float -%}
{%- set top_n_movies = var('subset_top_n_movies') -%}
{%- set min_per_movie = var('subset_min_ratings_per_movie') | int -%}
{%- set min_per_user = var('subset_min_ratings_per_user') | int -%}

{%- if not (0 < user_fraction <= 1) -%}
    {{ exceptions.raise_compiler_error("subset_user_fraction must be in (0, 1], got " ~ user_fraction) }}
{%- endif -%}
{%- if top_n_movies is not none and (top_n_movies | int) < 1 -%}
    {{ exceptions.raise_compiler_error("subset_top_n_movies must be null or a positive integer, got " ~ top_n_movies) }}
{%- endif -%}
{%- if min_per_movie < 0 or min_per_user < 0 -%}
    {{ exceptions.raise_compiler_error("subset_min_ratings_per_movie/user must be >= 0") }}
{%- endif -%}

{%- set row_filters = [] -%}
{%- if start_date is not none -%}
    {%- do row_filters.append("rated_on >= date '" ~ start_date ~ "'") -%}
{%- endif -%}
{%- if end_date is not none -%}
    {%- do row_filters.append("rated_on <= date '" ~ end_date ~ "'") -%}
{%- endif -%}
{%- if user_fraction < 1 -%}
    {%- do row_filters.append(duckdb_hash(['user_id'], 'subset_user_fraction < 1') ~ " % 10000 < " ~ ((user_fraction * 10000) | round | int)) -%}
{%- endif -%}
{%- set filter_movies = top_n_movies is not none or min_per_movie > 0 -%}
{%- set filter_users = min_per_user > 0 -%}

with

ratings as (
    select
        user_id,
        movie_id,
        rating,
        rated_on
    from {{ ref('stg_ingest__ratings') }}
    {%- if row_filters %}
    where
        {{ row_filters | join('\n        and ') }}
    {%- endif %}
),
{%- set last_cte = 'ratings' %}
{%- if filter_movies %}

movie_rating_counts as (
    select
        movie_id,
        count(*) as rating_count
    from ratings
    group by movie_id
),

kept_movies as (
    select movie_id
    from (
        select
            movie_id,
            row_number() over (order by rating_count desc, movie_id) as count_rank
        from movie_rating_counts
        where rating_count >= {{ min_per_movie }}
    ) as ranked_movies
    {%- if top_n_movies is not none %}
    where count_rank <= {{ top_n_movies | int }}
    {%- endif %}
),

ratings_of_kept_movies as (
    select *
    from ratings
    where movie_id in (select movie_id from kept_movies)
),
{%- set last_cte = 'ratings_of_kept_movies' %}
{%- endif %}
{%- if filter_users %}

kept_users as (
    select user_id
    from {{ last_cte }}
    group by user_id
    having count(*) >= {{ min_per_user }}
),

ratings_of_kept_users as (
    select *
    from {{ last_cte }}
    where user_id in (select user_id from kept_users)
),
{%- set last_cte = 'ratings_of_kept_users' %}
{%- endif %}

final as (
    select * from {{ last_cte }}
)

select * from final
