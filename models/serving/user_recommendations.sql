{#-
    Top-k movies for every user in fct_ratings (k = var `recommendations_k`).

    Users with at least var `recommendations_min_user_ratings` ratings and factors in the
    serving model (serving_config) are scored by the model:

        score = global_mean + b_u + b_i + array_inner_product(p_u, q_i)

    (the predicted rating, unclipped; for a ranking-only model the preference score) over every
    movie of the model they have not rated in fct_ratings, best first, equal scores by the
    smaller movie_id. The reason is the movie the user rated at least var `reason_min_rating`
    whose factors are most similar (cosine, positive only; equal similarity: smaller movie_id).

    Everyone else gets the popularity fallback: the most-rated movies they have not rated.

    var `recommendations_engine`: `sql` scores every user x movie here in DuckDB (the demo
    sample's 10K users x 4K movies, 40M pairs, in about 11 s and 2.5 GB on 2 cores; memory grows
    with the pairs; `auto` chooses it up to var `recommendations_sql_max_pairs`, 10M); `python` reads the same top-k and reasons from
    python_models/serving/batch_user_recommendations.py (numpy BLAS in user blocks: the Netflix
    size, 480K x 17,770, in about 2 minutes). Fallback rows and reason texts are made here
    either way, and both engines give the same rows (tests/integration/test_serving_pipeline.py).
-#}
{%- set engine = serving_engine('batch_user_recommendations') -%}
{%- set k = var('recommendations_k') | int -%}

with

config as (
    select * from {{ ref('serving_config') }}
),

-- not materialized: each use scans the table (a materialized copy would cost memory and hide
-- the table's size from the optimizer)
ratings as {{ not_materialized() }} (
    select * from {{ ref('serving_user_ratings') }}
),

popular as (
    select * from {{ ref('popular_movies') }}
),

movies as (
    select * from {{ ref('dim_movies') }}
),

user_rating_counts as (
    select
        user_id,
        count(*) as rating_count
    from ratings
    group by user_id
),
{%- if engine == 'python' %}

model_recommendations as (
    select
        model_name,
        user_id,
        rank,
        movie_id,
        score,
        reason_movie_id,
        reason_rating
    from {{ ref('batch_user_recommendations') }}
),
{%- else %}

user_factors as (
    select
        user_factors.user_id,
        user_factors.bias,
        user_factors.factors
    from {{ ref('user_factors') }} as user_factors
    where user_factors.model_name = (select model_name from config)
),

movie_factors as (
    select
        movie_factors.movie_id,
        movie_factors.bias,
        movie_factors.factors,
        {{ dot_product('movie_factors.factors', 'movie_factors.factors') }} as squared_norm
    from {{ ref('movie_factors') }} as movie_factors
    where movie_factors.model_name = (select model_name from config)
),

scored_users as (
    select user_factors.*
    from user_factors
    inner join user_rating_counts
        on user_factors.user_id = user_rating_counts.user_id
    where user_rating_counts.rating_count >= (select recommendations_min_user_ratings from config)
),

-- every scored user x movie, narrow (ids and score) before the rated movies are excluded: the
-- optimizer cannot estimate this side and may build the exclusion's hash table on it (40M pairs
-- on the demo sample, about 2 GB; with the factor arrays still attached it took 19 GB)
all_pairs as (
    select
        scored_users.user_id,
        movie_factors.movie_id,
        config.global_mean + scored_users.bias + movie_factors.bias
            + coalesce({{ dot_product('scored_users.factors', 'movie_factors.factors') }}, 0) as score
    from scored_users
    cross join movie_factors
    cross join config
),

scored_pairs as (
    select all_pairs.*
    from all_pairs
    {{ anti_join() }} ratings
        on all_pairs.user_id = ratings.user_id
        and all_pairs.movie_id = ratings.movie_id
),

-- top-k per user (on DuckDB in one pass: a bounded heap, much cheaper than a window over every
-- pair); equal scores: the smaller movie_id first
picked as (
    {{ top_k_per_group('scored_pairs', 'user_id', 'movie_id', 'score', k) }}
),

ranked as (
    select
        user_id,
        row_number() over (partition by user_id order by score desc, movie_id) as rank,
        movie_id,
        score
    from picked
),

liked as (
    select
        ratings.user_id,
        ratings.movie_id,
        ratings.rating
    from ratings
    inner join config
        on ratings.rating >= config.reason_min_rating
),

reason_candidates as (
    select
        ranked.user_id,
        ranked.movie_id,
        liked.movie_id as reason_movie_id,
        liked.rating as reason_rating,
        {{ cosine_similarity(
            'recommended.factors', 'rated.factors', 'recommended.squared_norm', 'rated.squared_norm'
        ) }} as similarity
    from ranked
    inner join liked
        on ranked.user_id = liked.user_id
    inner join movie_factors as recommended
        on ranked.movie_id = recommended.movie_id
    inner join movie_factors as rated
        on liked.movie_id = rated.movie_id
    -- zero vectors have no direction: DuckDB returns -1 for them, the filter drops them
    where rated.squared_norm > 0
        and recommended.squared_norm > 0
),

reasons_ranked as (
    select
        user_id,
        movie_id,
        reason_movie_id,
        reason_rating,
        row_number() over (partition by user_id, movie_id order by similarity desc, reason_movie_id) as reason_rank
    from reason_candidates
    where {{ is_finite('similarity') }} and similarity > 0
),

reasons as (
    select
        user_id,
        movie_id,
        reason_movie_id,
        reason_rating
    from reasons_ranked
    where reason_rank = 1
),

model_recommendations as (
    select
        config.model_name,
        ranked.user_id,
        ranked.rank,
        ranked.movie_id,
        ranked.score,
        reasons.reason_movie_id,
        reasons.reason_rating
    from ranked
    cross join config
    left join reasons
        on ranked.user_id = reasons.user_id
        and ranked.movie_id = reasons.movie_id
),
{%- endif %}

served_users as (
    select distinct user_id
    from model_recommendations
),

fallback_users as (
    select
        user_rating_counts.user_id,
        user_rating_counts.rating_count
    from user_rating_counts
    {{ anti_join() }} served_users
        on user_rating_counts.user_id = served_users.user_id
),

-- the fallback users' own ratings: an inner join builds its hash table on the few fallback
-- users, where an anti join straight against the ratings would build one on all of them
fallback_user_ratings as (
    select
        ratings.user_id,
        ratings.movie_id
    from ratings
    inner join fallback_users
        on ratings.user_id = fallback_users.user_id
),

-- a user has rated at most rating_count of the most popular movies: the top rating_count + k
-- always hold k unrated ones (when the catalog does)
fallback_candidates as (
    select
        fallback_users.user_id,
        popular.popularity_rank,
        popular.movie_id,
        popular.score
    from fallback_users
    inner join popular
        on popular.popularity_rank <= fallback_users.rating_count + {{ k }}
    {{ anti_join() }} fallback_user_ratings
        on fallback_users.user_id = fallback_user_ratings.user_id
        and popular.movie_id = fallback_user_ratings.movie_id
),

fallback_ranked as (
    select
        'popularity' as model_name,
        user_id,
        row_number() over (partition by user_id order by popularity_rank) as rank,
        movie_id,
        score
    from fallback_candidates
),

fallback_recommendations as (
    select *
    from fallback_ranked
    where rank <= {{ k }}
),

all_recommendations as (
    select
        model_name,
        user_id,
        rank,
        movie_id,
        score,
        reason_movie_id,
        reason_rating,
        false as is_fallback
    from model_recommendations

    union all

    select
        model_name,
        user_id,
        rank,
        movie_id,
        score,
        null as reason_movie_id,
        null as reason_rating,
        true as is_fallback
    from fallback_recommendations
),

final as (
    select
        all_recommendations.model_name,
        all_recommendations.user_id,
        cast(all_recommendations.rank as integer) as rank,
        all_recommendations.movie_id,
        cast(all_recommendations.score as double) as score,
        case
            when all_recommendations.is_fallback
                then 'popular: rated by ' || {{ thousands('popular.rating_count') }} || ' users'
            when all_recommendations.reason_movie_id is not null
                then {{ reason_text('reason_movies.label', 'all_recommendations.reason_rating', 'config.rating_max') }}
        end as reason,
        cast(all_recommendations.reason_movie_id as integer) as reason_movie_id,
        all_recommendations.is_fallback
    from all_recommendations
    cross join config
    left join popular
        on all_recommendations.movie_id = popular.movie_id
    left join movies as reason_movies
        on all_recommendations.reason_movie_id = reason_movies.movie_id
)

select * from final
order by user_id, rank
