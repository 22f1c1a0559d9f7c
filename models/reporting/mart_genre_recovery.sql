{#-
    Did each factor model find the genres? For every factor model, the mean share of a movie's
    nearest neighbours in factor space that share a genre with it, against the mean share that
    random neighbours would (python_models/reporting/genre_neighbours.py). Empty without genres.
-#}
with

genre_neighbours as (
    select * from {{ ref('genre_neighbours') }}
),

per_model as (
    select
        model_name,
        count(*) as movie_count,
        any_value(n_neighbors) as n_neighbors,
        avg(neighbour_share) as neighbour_genre_share,
        avg(chance_share) as chance_genre_share
    from genre_neighbours
    group by model_name
),

final as (
    select
        per_model.model_name,
        per_model.model_name = {{ dbt.string_literal(var('latent_space_model')) }} as is_latent_space_model,
        cast(per_model.movie_count as integer) as movie_count,
        per_model.n_neighbors,
        per_model.neighbour_genre_share,
        per_model.chance_genre_share,
        per_model.neighbour_genre_share / nullif(per_model.chance_genre_share, 0) as lift_over_chance
    from per_model
)

select * from final
order by neighbour_genre_share desc, model_name
