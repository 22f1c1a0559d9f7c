with

source as (
    select * from {{ source('ingest', 'movies') }}
),

renamed as (
    select
        movie_id,
        title,
        cast(release_year as integer) as release_year,
        genres
    from source
)

select * from renamed
