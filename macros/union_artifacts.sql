{#-
    Union the artifact rows of one kind (`record`) from every enabled recommender's
    `fit_<name>` model (see var `recommenders`). Each fit model returns one long table;
    this is how the marts get back to one grain per table.
-#}
{% macro union_artifacts(record, columns) %}
    {{- return(adapter.dispatch('union_artifacts', 'movierec')(record, columns)) -}}
{% endmacro %}

{% macro default__union_artifacts(record, columns) %}
    {%- for name in var('recommenders') %}
    select {{ columns | join(', ') }}
    from {{ ref('fit_' ~ name) }}
    where record = '{{ record }}'
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{% endmacro %}

{#- On Spark: the tables `movierec fit-spark` wrote (source spark_fit), for the models it fits
    that var `recommenders` lists. -#}
{% macro spark__union_artifacts(record, columns) %}
    {%- set names = [] -%}
    {%- for name in ['bias_baseline', 'biased_mf', 'ials'] if name in var('recommenders') -%}
        {%- do names.append(name) -%}
    {%- endfor -%}
    {%- for name in names %}
    select {{ columns | join(', ') }}
    from {{ source('spark_fit', 'fit_' ~ name ~ '_spark') }}
    where record = '{{ record }}'
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{% endmacro %}
