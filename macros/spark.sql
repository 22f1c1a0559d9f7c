{#-
    The Spark target (profiles.yml `spark`, issue 15). Spark reads the raw tables that
    `movierec ingest --parquet` wrote: before anything is built, the `raw` schema of the Spark
    catalog gets one view per Parquet folder (relative folders resolve against the directory dbt
    runs in, the project root). On DuckDB this macro adds nothing: the raw schema is in the file.
-#}
{% macro spark_raw_sources() %}
    {%- if target.type != 'spark' or not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set folder = env_var('MOVIEREC_SPARK_DIR', 'warehouse/spark') ~ '/raw' -%}
    {%- do run_query('create database if not exists raw') -%}
    {%- for table in ['ratings', 'movies', 'probe', 'qualifying', 'splits', 'rejects', 'duplicates', 'files', 'dataset', 'movie_genres'] -%}
        {%- do run_query('drop table if exists raw.' ~ table) -%}
        {%- do run_query("create or replace view raw." ~ table ~ " as select * from parquet.`" ~ folder ~ "/" ~ table ~ "`") -%}
    {%- endfor -%}
    {{ return('') }}
{% endmacro %}
