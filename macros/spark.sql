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
    {%- do spark_fits_ready() -%}
    {{ return('') }}
{% endmacro %}

{#-
    The serving and evaluation marts read what `movierec fit-spark` wrote (source spark_fit). A
    build that selects them before the fit would fail node by node on missing tables; instead it
    stops here, before building anything, and says which commands to run.
-#}
{% macro spark_fits_ready() %}
    {%- set readers = [] -%}
    {%- for node in graph.nodes.values() if node.unique_id in selected_resources -%}
        {%- for parent in node.depends_on.nodes if parent.startswith('source.movierec.spark_fit.') -%}
            {%- do readers.append(node.name) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if not readers -%}
        {{ return('') }}
    {%- endif -%}
    {%- set missing = [] -%}
    {%- for source in graph.sources.values() if source.source_name == 'spark_fit' -%}
        {%- if adapter.get_relation(database=source.database, schema=source.schema, identifier=source.identifier) is none -%}
            {%- do missing.append(source.schema ~ '.' ~ source.identifier) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if missing -%}
        {{ exceptions.raise_compiler_error(
            "The serving and evaluation marts (" ~ (readers | unique | sort | join(', ')) ~ ") read the tables of "
            ~ "`movierec fit-spark`, and " ~ (missing | join(', ')) ~ " do not exist yet. Build in three steps "
            ~ "(`make spark-demo` runs them): dbt build --target spark --exclude source:spark_fit+ ; "
            ~ "movierec fit-spark ; dbt build --target spark --select source:spark_fit+"
        ) }}
    {%- endif -%}
{% endmacro %}
