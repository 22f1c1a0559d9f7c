with

source as (
    select * from {{ source('ingest', 'probe') }}
),

deduplicated as (
    select distinct
        user_id,
        movie_id
    from source
)

select * from deduplicated
