with

source as (
    select * from {{ source('ingest', 'splits') }}
),

renamed as (
    select
        split as fold_name,
        part as fold_part,
        user_id,
        movie_id
    from source
)

select * from renamed
