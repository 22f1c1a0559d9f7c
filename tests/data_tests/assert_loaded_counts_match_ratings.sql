-- Every rating counted as loaded by ingestion is in the warehouse, and no other.
-- Fails with one row when the two counts differ.
with

files as (
    select * from {{ ref('stg_ingest__files') }}
),

ratings as (
    select * from {{ ref('stg_ingest__ratings') }}
),

loaded as (
    select coalesce(sum(loaded_count), 0) as loaded_count
    from files
    where file_kind = 'ratings'
),

stored as (
    select count(*) as stored_count
    from ratings
)

select
    loaded.loaded_count,
    stored.stored_count
from loaded
cross join stored
where loaded.loaded_count != stored.stored_count
