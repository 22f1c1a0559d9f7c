with

recommendations as (
    {{ union_artifacts('recommendation', ['model_name', 'user_id', 'rank', 'movie_id', 'score']) }}
),

test as (
    select * from {{ ref('int_ratings_test') }}
),

final as (
    select
        recommendations.model_name,
        recommendations.user_id,
        recommendations.rank,
        recommendations.movie_id,
        recommendations.score,
        test.user_id is not null as is_relevant
    from recommendations
    left join test
        on recommendations.user_id = test.user_id
        and recommendations.movie_id = test.movie_id
)

select * from final
