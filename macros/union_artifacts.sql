{#-
    Union the artifact rows of one kind (`record`) from every enabled recommender's
    `fit_<name>` model (see var `recommenders`). Each fit model returns one long table;
    this is how the marts get back to one grain per table.
-#}
{% macro union_artifacts(record, columns) %}
    {%- for name in var('recommenders') %}
    select {{ columns | join(', ') }}
    from {{ ref('fit_' ~ name) }}
    where record = '{{ record }}'
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{% endmacro %}
