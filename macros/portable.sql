{#-
    Where DuckDB and Spark SQL differ (issue 15): one macro per construct, dispatched on the
    adapter, so that every model stays one SQL file for both engines. The default__ version is
    the DuckDB SQL the models always had (DuckDB results do not change); spark__ is the Spark SQL
    equivalent. Everything else in the portable models is SQL both engines read alike (qualify is
    written as a filtered CTE, `union all by name` with the columns named).
-#}

{#- One row per part of `expr` split at `delimiter` (a select-list generator). -#}
{% macro split_to_rows(expr, delimiter) %}
    {{- return(adapter.dispatch('split_to_rows', 'movierec')(expr, delimiter)) -}}
{% endmacro %}
{% macro default__split_to_rows(expr, delimiter) -%}
    unnest(string_split({{ expr }}, '{{ delimiter }}'))
{%- endmacro %}
{% macro spark__split_to_rows(expr, delimiter) -%}
    explode(split({{ expr }}, '[{{ delimiter }}]', -1))
{%- endmacro %}


{#- One row per first-of-month date from `start_month` to `end_month` (a select-list generator). -#}
{% macro month_series(start_month, end_month) %}
    {{- return(adapter.dispatch('month_series', 'movierec')(start_month, end_month)) -}}
{% endmacro %}
{% macro default__month_series(start_month, end_month) -%}
    cast(unnest(generate_series(
        {{ start_month }},
        {{ end_month }},
        interval 1 month
    )) as date)
{%- endmacro %}
{% macro spark__month_series(start_month, end_month) -%}
    explode(sequence({{ start_month }}, {{ end_month }}, interval 1 month))
{%- endmacro %}


{#- The continuous (linearly interpolated) quantile `fraction` of `expr`, an aggregate. -#}
{% macro quantile_cont(expr, fraction) %}
    {{- return(adapter.dispatch('quantile_cont', 'movierec')(expr, fraction)) -}}
{% endmacro %}
{% macro default__quantile_cont(expr, fraction) -%}
    quantile_cont({{ expr }}, {{ fraction }})
{%- endmacro %}
{% macro spark__quantile_cont(expr, fraction) -%}
    percentile({{ expr }}, {{ fraction }})
{%- endmacro %}


{#- The median of `expr`, an aggregate (DuckDB's median interpolates like quantile_cont 0.5). -#}
{% macro median(expr) %}
    {{- return(adapter.dispatch('median', 'movierec')(expr)) -}}
{% endmacro %}
{% macro default__median(expr) -%}
    median({{ expr }})
{%- endmacro %}
{% macro spark__median(expr) -%}
    percentile({{ expr }}, 0.5)
{%- endmacro %}


{#- The distinct-or-not values of `expr` in a group, sorted and joined by `separator`, an aggregate. -#}
{% macro sorted_string_agg(expr, separator) %}
    {{- return(adapter.dispatch('sorted_string_agg', 'movierec')(expr, separator)) -}}
{% endmacro %}
{% macro default__sorted_string_agg(expr, separator) -%}
    string_agg({{ expr }}, '{{ separator }}' order by {{ expr }})
{%- endmacro %}
{% macro spark__sorted_string_agg(expr, separator) -%}
    array_join(array_sort(collect_list({{ expr }})), '{{ separator }}')
{%- endmacro %}


{#- DuckDB's hash() of the arguments: the user sample of the subset and the random split draw
    with it. Spark has no function giving the same numbers, so on Spark these two options stop
    the build with a clear message instead of drawing other rows than DuckDB would. -#}
{% macro duckdb_hash(args, what) %}
    {{- return(adapter.dispatch('duckdb_hash', 'movierec')(args, what)) -}}
{% endmacro %}
{% macro default__duckdb_hash(args, what) -%}
    hash({{ args | join(', ') }})
{%- endmacro %}
{% macro spark__duckdb_hash(args, what) -%}
    {{ exceptions.raise_compiler_error(
        "movierec: " ~ what ~ " draws rows with DuckDB's hash(), which Spark cannot reproduce: on the Spark "
        ~ "target use the probe, fold or latest split and subset_user_fraction 1 (the defaults)") }}
{%- endmacro %}
