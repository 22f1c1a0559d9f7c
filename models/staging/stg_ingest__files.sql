with

source as (
    select * from {{ source('ingest', 'files') }}
),

renamed as (
    select
        file_id,
        file as file_name,
        kind as file_kind,
        bytes as byte_count,
        lines as line_count,
        headers as header_count,
        blank as blank_count,
        loaded as loaded_count,
        rejected as rejected_count,
        duplicates as duplicate_count
    from source
)

select * from renamed
