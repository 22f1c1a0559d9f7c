{#-
    fct_ratings sorted by user and movie: one user's ratings sit in one or two row groups, so the
    API's lookup by user_id (parameterized, `where user_id = ?`) skips everything else through
    DuckDB's zone maps: milliseconds at 100M ratings, where the same filter on fct_ratings
    (stored in ingestion order, by movie) scans the whole table. The python engine reads it in
    ranges of user_id. A plain ORDER BY spills to disk when it must; per-user lists built with
    ordered list() aggregates do not, and ran out of memory at the Netflix size.
-#}
with

ratings as (
    select * from {{ ref('fct_ratings') }}
),

final as (
    select
        user_id,
        movie_id,
        rating
    from ratings
    order by user_id, movie_id
)

select * from final
