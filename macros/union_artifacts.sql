{#-
    Union the artifact rows of one kind (`record`) from every enabled recommender's
    `fit_<name>` model (see var `recommenders`). Each fit model returns one long table;
    this is how the marts get back to one grain per table.
-#}
{% macro union_artifacts(record, columns) %}
    {{- return(adapter.dispatch('union_artifacts', 'movierec')(record, columns)) -}}
{% endmacro %}

{% macro default__union_artifacts(record, columns) %}
    {%- set relations = [] -%}
    {%- for name in var('recommenders') -%}
        {%- do relations.append(ref('fit_' ~ name)) -%}
    {%- endfor -%}
    {{- artifact_selects(relations, record, columns) -}}
{% endmacro %}

{#- On Spark: the tables `movierec fit-spark` wrote (source spark_fit), for the models it fits
    that var `recommenders` lists. -#}
{% macro spark__union_artifacts(record, columns) %}
    {%- set relations = [] -%}
    {%- for name in ['bias_baseline', 'biased_mf', 'ials'] if name in var('recommenders') -%}
        {%- do relations.append(source('spark_fit', 'fit_' ~ name ~ '_spark')) -%}
    {%- endfor -%}
    {%- if not relations -%}
        {{ exceptions.raise_compiler_error(
            "On Spark, var recommenders must list at least one of the models movierec fit-spark fits: "
            ~ "bias_baseline, biased_mf, ials") }}
    {%- endif -%}
    {{- artifact_selects(relations, record, columns) -}}
{% endmacro %}

{#- The rows of one record kind from each artifact table, as one union. -#}
{% macro artifact_selects(relations, record, columns) %}
    {%- for relation in relations %}
    select {{ columns | join(', ') }}
    from {{ relation }}
    where record = '{{ record }}'
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{% endmacro %}
