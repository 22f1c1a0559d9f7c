with

movie_rating_stats as (
    select * from {{ ref('int_movie_rating_stats') }}
),

final as (
    select
        count(*) as movie_count,
        cast(sum(rating_count) as bigint) as rating_count,
        cast({{ var('head_share') }} as double) as head_share_target,
        count(*) filter (where is_head) as head_movie_count,
        cast(count(*) filter (where is_head) as double) / count(*) as head_movie_share,
        cast(coalesce(sum(rating_count) filter (where is_head), 0) as double)
            / sum(rating_count) as head_rating_share,
        count(*) filter (where not is_head) as tail_movie_count,
        cast(coalesce(sum(rating_count) filter (where not is_head), 0) as double)
            / sum(rating_count) as tail_rating_share,
        cast({{ median('rating_count') }} as double) as median_ratings_per_movie,
        {{ gini_coefficient('rating_count', 'popularity_rank') }} as gini_coefficient
    from movie_rating_stats
)

select * from final
