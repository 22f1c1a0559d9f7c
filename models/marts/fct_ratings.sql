with

ratings as (
    select * from {{ ref('stg_ingest__ratings') }}
),

final as (
    select
        user_id,
        movie_id,
        rating,
        rated_on
    from ratings
)

select * from final
