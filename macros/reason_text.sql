{#-
    The reason shown with a personal recommendation, defined once for every model that writes
    it (user_recommendations, mart_explorer_lists) and matched by movierec.serving.reason_text:

        because you rated Heat (1995) 5/5

    `label` is the rated movie's dim_movies.label, `rating` the user's rating of it and
    `rating_max` the top of the rating scale (serving_config.rating_max). Numbers print as %g:
    4 not 4.0, 3.5 as is (macro number_text).
-#}
{% macro reason_text(label, rating, rating_max) -%}
    'because you rated ' || {{ label }}
        || ' ' || {{ number_text(rating) }}
        || '/' || {{ number_text(rating_max) }}
{%- endmacro %}
