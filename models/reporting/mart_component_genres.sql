{#-
    Names for the strongest directions of the latent space: for each of the first var
    `factor_extremes_components` (default 3) principal components of the latent-space model's
    movie factors (python_models/reporting/movie_map.py), the genres over-represented among the
    var `component_genres_n` (default 50) well-supported movies at each end, against their share
    among all mapped movies (lift). Empty without genres (Netflix) or without factors.
-#}
{%- set n = var('component_genres_n') | int -%}

with

{{ component_ends(n) }},

movie_genres as (
    select * from {{ ref('dim_movie_genres') }}
),

mapped_movies as (
    select distinct movie_id from movie_map
),

end_sizes as (
    select
        component,
        pole,
        count(*) as end_movie_count
    from ends
    group by component, pole
),

base_shares as (
    select
        movie_genres.genre,
        count(*) / (select count(*) from mapped_movies) as base_share
    from movie_genres
    inner join mapped_movies
        on movie_genres.movie_id = mapped_movies.movie_id
    group by movie_genres.genre
),

end_genres as (
    select
        ends.model_name,
        ends.component,
        ends.explained_variance_ratio,
        ends.pole,
        movie_genres.genre,
        count(*) as genre_movie_count
    from ends
    inner join movie_genres
        on ends.movie_id = movie_genres.movie_id
    group by ends.model_name, ends.component, ends.explained_variance_ratio, ends.pole, movie_genres.genre
),

scored as (
    select
        end_genres.model_name,
        end_genres.component,
        end_genres.explained_variance_ratio,
        end_genres.pole,
        end_genres.genre,
        end_genres.genre_movie_count,
        end_sizes.end_movie_count,
        end_genres.genre_movie_count / end_sizes.end_movie_count as end_share,
        base_shares.base_share,
        end_genres.genre_movie_count / end_sizes.end_movie_count / base_shares.base_share as lift
    from end_genres
    inner join end_sizes
        on end_genres.component = end_sizes.component
        and end_genres.pole = end_sizes.pole
    inner join base_shares
        on end_genres.genre = base_shares.genre
),

final as (
    select
        *,
        cast(row_number() over (
            partition by component, pole
            order by end_share - base_share desc, genre
        ) as integer) as rank
    from scored
)

select * from final
order by component, pole, rank
