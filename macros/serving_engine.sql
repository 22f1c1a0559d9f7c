{#-
    The engine that scores a serving mart (user_recommendations, similar_movies): var
    `recommendations_engine` when it is sql or python; with auto, the one serving_config chose
    from the data's size, read when the model runs. With auto the python engine's table
    (`batch_model`) is an input either way, so that dbt builds it first; it is empty when SQL
    scores. Before serving_config exists (dbt compile or docs on an empty warehouse): sql. On Spark:
    always sql (spark__serving_engine in macros/portable_serving.sql).
-#}
{% macro serving_engine(batch_model) %}
    {{- return(adapter.dispatch('serving_engine', 'movierec')(batch_model)) -}}
{% endmacro %}
{% macro default__serving_engine(batch_model) %}
    {%- set engine = var('recommendations_engine') -%}
    {%- if engine == 'auto' -%}
        {%- set batch_relation = ref(batch_model) -%}
        {%- set config = ref('serving_config') -%}
        {%- set engine = 'sql' -%}
        {%- if execute and adapter.get_relation(config.database, config.schema, config.identifier) is not none -%}
            {%- set engine = run_query('select recommendations_engine from ' ~ config).columns[0].values()[0] -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(engine) }}
{% endmacro %}
