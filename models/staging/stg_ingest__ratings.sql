with

source as (
    select * from {{ source('ingest', 'ratings') }}
),

renamed as (
    select
        user_id,
        movie_id,
        cast(rating as double) as rating,
        rated_on,
        rated_at
    from source
)

select * from renamed
