{#-
    Everything the recommendations explorer shows for its users (mart_explorer_users), one row
    per user, list and rank:

    - 'rated_highly': the user's var `explorer_list_length` (default 10) best ratings in
      fct_ratings (highest first, then most recent), flagged when held out for evaluation;
    - 'recommended': what the service recommends (user_recommendations: the serving model, or
      the popularity fallback), with its reason;
    - 'evaluation': each model's top-k for the user from model_recommendations_eval (fitted on
      the training ratings only), with is_hit when the movie is one of the user's held-out
      ratings. The reason, for a model with factors, is the training movie the user rated at
      least var `reason_min_rating` whose factors (in that model) are most similar (cosine, as in
      user_recommendations); a model without factors gives no per-user reason, so the movie's
      own support and mean rating are shown instead.
-#}
{%- set n = var('explorer_list_length') | int -%}

with

explorer_users as (
    select * from {{ ref('mart_explorer_users') }}
),

ratings as (
    select * from {{ ref('fct_ratings') }}
),

train as (
    select * from {{ ref('int_ratings_train') }}
),

test as (
    select * from {{ ref('int_ratings_test') }}
),

recommendations as (
    select * from {{ ref('user_recommendations') }}
),

evaluation_lists as (
    select * from {{ ref('model_recommendations_eval') }}
),

movie_factors as (
    select * from {{ ref('movie_factors') }}
    where factors is not null
        and array_inner_product(factors, factors) > 0
),

movies as (
    select * from {{ ref('dim_movies') }}
),

config as (
    select * from {{ ref('serving_config') }}
),

rated_highly as (
    select
        ratings.user_id,
        'rated_highly' as list_name,
        cast(null as varchar) as model_name,
        row_number() over (
            partition by ratings.user_id
            order by ratings.rating desc, ratings.rated_on desc, ratings.movie_id
        ) as rank,
        ratings.movie_id,
        ratings.rating,
        cast(null as double) as score,
        'rated on ' || strftime(ratings.rated_on, '%Y-%m-%d')
            || case when test.movie_id is not null then ', held out for evaluation' else '' end as reason,
        test.movie_id is not null as is_hit
    from ratings
    inner join explorer_users
        on ratings.user_id = explorer_users.user_id
    left join test
        on ratings.user_id = test.user_id
        and ratings.movie_id = test.movie_id
    qualify rank <= {{ n }}
),

recommended as (
    select
        recommendations.user_id,
        'recommended' as list_name,
        recommendations.model_name,
        recommendations.rank,
        recommendations.movie_id,
        cast(null as double) as rating,
        recommendations.score,
        recommendations.reason,
        cast(null as boolean) as is_hit
    from recommendations
    inner join explorer_users
        on recommendations.user_id = explorer_users.user_id
),

evaluated as (
    select evaluation_lists.*
    from evaluation_lists
    inner join explorer_users
        on evaluation_lists.user_id = explorer_users.user_id
),

liked as (
    select
        train.user_id,
        train.movie_id,
        train.rating
    from train
    inner join explorer_users
        on train.user_id = explorer_users.user_id
    inner join config
        on train.rating >= config.reason_min_rating
),

reason_candidates as (
    select
        evaluated.model_name,
        evaluated.user_id,
        evaluated.movie_id,
        liked.movie_id as reason_movie_id,
        liked.rating as reason_rating,
        array_cosine_similarity(recommended_factors.factors, liked_factors.factors) as similarity
    from evaluated
    inner join liked
        on evaluated.user_id = liked.user_id
    inner join movie_factors as recommended_factors
        on evaluated.model_name = recommended_factors.model_name
        and evaluated.movie_id = recommended_factors.movie_id
    inner join movie_factors as liked_factors
        on evaluated.model_name = liked_factors.model_name
        and liked.movie_id = liked_factors.movie_id
),

reasons as (
    select *
    from reason_candidates
    where isfinite(similarity) and similarity > 0
    qualify row_number() over (
        partition by model_name, user_id, movie_id
        order by similarity desc, reason_movie_id
    ) = 1
),

evaluation as (
    select
        evaluated.user_id,
        'evaluation' as list_name,
        evaluated.model_name,
        evaluated.rank,
        evaluated.movie_id,
        test.rating,
        evaluated.score,
        case
            when reasons.reason_movie_id is not null
                then {{ reason_text('reason_movies.label', 'reasons.reason_rating', 'config.rating_max') }}
            else 'rated by ' || format('{:,}', movies.rating_count) || ' users, mean '
                || printf('%.2f', movies.mean_rating)
        end as reason,
        coalesce(evaluated.is_relevant, false) as is_hit
    from evaluated
    cross join config
    left join test
        on evaluated.user_id = test.user_id
        and evaluated.movie_id = test.movie_id
    left join reasons
        on evaluated.model_name = reasons.model_name
        and evaluated.user_id = reasons.user_id
        and evaluated.movie_id = reasons.movie_id
    left join movies
        on evaluated.movie_id = movies.movie_id
    left join movies as reason_movies
        on reasons.reason_movie_id = reason_movies.movie_id
),

lists as (
    select * from rated_highly
    union all
    select * from recommended
    union all
    select * from evaluation
),

final as (
    select
        lists.user_id,
        lists.list_name,
        lists.model_name,
        cast(lists.rank as integer) as rank,
        lists.movie_id,
        movies.label,
        movies.rating_count,
        lists.rating,
        lists.score,
        lists.reason,
        lists.is_hit
    from lists
    left join movies
        on lists.movie_id = movies.movie_id
)

select * from final
order by user_id, list_name, model_name, rank
