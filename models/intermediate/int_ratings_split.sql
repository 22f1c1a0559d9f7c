{#- A view: int_ratings_train and int_ratings_test are the tables, so the 100M rows are written once. -#}
-- depends_on: {{ ref('stg_ingest__probe') }}
-- depends_on: {{ ref('stg_ingest__splits') }}
{%- set strategy = split_strategy() %}
-- split strategy: {{ strategy }}

with

ratings as (
    select
        user_id,
        movie_id,
        rating,
        rated_on
    from {{ ref('int_ratings_subset') }}
),

{% if strategy == 'probe' -%}
held_out as (
    select * from {{ ref('stg_ingest__probe') }}
),

{% elif strategy == 'fold' -%}
held_out as (
    select user_id, movie_id
    from {{ ref('stg_ingest__splits') }}
    where fold_name = '{{ var('movielens_fold') }}'
        and fold_part = 'test'
),

{% elif strategy == 'latest' -%}
ranked as (
    select
        user_id,
        movie_id,
        row_number() over (partition by user_id order by rated_on desc, movie_id desc) as recency_rank,
        count(*) over (partition by user_id) as user_rating_count
    from ratings
),

held_out as (
    select user_id, movie_id
    from ranked
    where recency_rank <= {{ var('split_holdout_per_user') }}
        and user_rating_count - {{ var('split_holdout_per_user') }} >= {{ var('split_min_train_ratings') }}
),

{% elif strategy == 'random' -%}
ranked as (
    select
        user_id,
        movie_id,
        row_number() over (
            partition by user_id
            order by {{ duckdb_hash(['user_id', 'movie_id', var('split_seed')], 'the random split') }}, movie_id
        ) as draw_rank,
        count(*) over (partition by user_id) as user_rating_count
    from ratings
),

held_out as (
    select user_id, movie_id
    from ranked
    where draw_rank <= round(user_rating_count * {{ var('split_test_fraction') }})
        and user_rating_count >= {{ var('split_min_train_ratings') }}
),

{% else -%}
{{ exceptions.raise_compiler_error("unknown split_strategy '" ~ strategy ~ "': use auto, probe, fold, latest or random") }}
{% endif -%}

split as (
    select
        ratings.user_id,
        ratings.movie_id,
        ratings.rating,
        ratings.rated_on,
        case when held_out.user_id is null then 'train' else 'test' end as split,
        '{{ strategy }}' as split_strategy
    from ratings
    left join held_out
        on ratings.user_id = held_out.user_id
        and ratings.movie_id = held_out.movie_id
)

select * from split
