{#-
    Where DuckDB and Spark SQL differ in the serving and evaluation marts (issue 15), one macro
    per construct, dispatched on the adapter like macros/portable.sql. The default__ version is
    the DuckDB SQL those models always had (their DuckDB results do not change); spark__ is the
    Spark SQL equivalent: factor arrays are `array<float>` there, inner products and cosines are
    `aggregate(zip_with(...))`, the top-k per group a row_number() window, ordered aggregates
    plain ones (Spark has no `avg(x order by y)`; the order only fixes the last float digit).
-#}

{#- The type of a factor array: DuckDB's fixed-size FLOAT[k] (k = var `factors`), Spark's array<float>. -#}
{% macro factor_array_type() %}
    {{- return(adapter.dispatch('factor_array_type', 'movierec')()) -}}
{% endmacro %}
{% macro default__factor_array_type() -%}
    float[{{ var('factors') | int }}]
{%- endmacro %}
{% macro spark__factor_array_type() -%}
    array<float>
{%- endmacro %}


{#- The inner product of two factor arrays, a double (null when either is null). -#}
{% macro dot_product(left, right) %}
    {{- return(adapter.dispatch('dot_product', 'movierec')(left, right)) -}}
{% endmacro %}
{% macro default__dot_product(left, right) -%}
    array_inner_product({{ left }}, {{ right }})
{%- endmacro %}
{% macro spark__dot_product(left, right) -%}
    aggregate(
        zip_with({{ left }}, {{ right }}, (x, y) -> cast(x as double) * cast(y as double)),
        cast(0 as double),
        (total, term) -> total + term
    )
{%- endmacro %}


{#- The cosine similarity of two factor arrays (callers drop zero vectors first). Spark evaluates
    its array lambdas row by row, so a caller that has each array's squared norm (dot_product of
    the array with itself, computed once per movie) passes them and Spark reuses them; DuckDB's
    array_cosine_similarity does not need them. -#}
{% macro cosine_similarity(left, right, left_squared_norm=none, right_squared_norm=none) %}
    {{- return(adapter.dispatch('cosine_similarity', 'movierec')(left, right, left_squared_norm, right_squared_norm)) -}}
{% endmacro %}
{% macro default__cosine_similarity(left, right, left_squared_norm=none, right_squared_norm=none) -%}
    array_cosine_similarity({{ left }}, {{ right }})
{%- endmacro %}
{% macro spark__cosine_similarity(left, right, left_squared_norm=none, right_squared_norm=none) -%}
    {{ spark__dot_product(left, right) }}
        / sqrt({{ left_squared_norm or spark__dot_product(left, left) }}
            * {{ right_squared_norm or spark__dot_product(right, right) }})
{%- endmacro %}


{#- The number of elements of an array. -#}
{% macro array_length(expr) %}
    {{- return(adapter.dispatch('array_length', 'movierec')(expr)) -}}
{% endmacro %}
{% macro default__array_length(expr) -%}
    len({{ expr }})
{%- endmacro %}
{% macro spark__array_length(expr) -%}
    size({{ expr }})
{%- endmacro %}


{#- True for a finite double (not NaN, not infinite). -#}
{% macro is_finite(expr) %}
    {{- return(adapter.dispatch('is_finite', 'movierec')(expr)) -}}
{% endmacro %}
{% macro default__is_finite(expr) -%}
    isfinite({{ expr }})
{%- endmacro %}
{% macro spark__is_finite(expr) -%}
    (not isnan({{ expr }}) and abs({{ expr }}) != double('Infinity'))
{%- endmacro %}


{#- A JSON text as the engine's JSON type: DuckDB's json, a string on Spark (it has none). -#}
{% macro as_json(expr) %}
    {{- return(adapter.dispatch('as_json', 'movierec')(expr)) -}}
{% endmacro %}
{% macro default__as_json(expr) -%}
    cast({{ expr }} as json)
{%- endmacro %}
{% macro spark__as_json(expr) -%}
    cast({{ expr }} as string)
{%- endmacro %}


{#- A whole number with thousands separators: 1,234,567. -#}
{% macro thousands(expr) %}
    {{- return(adapter.dispatch('thousands', 'movierec')(expr)) -}}
{% endmacro %}
{% macro default__thousands(expr) -%}
    format('{:,}', {{ expr }})
{%- endmacro %}
{% macro spark__thousands(expr) -%}
    format_number({{ expr }}, 0)
{%- endmacro %}


{#- A number as short text, like C's %g for ratings: 4 not 4.0, 3.5 as is. -#}
{% macro number_text(expr) %}
    {{- return(adapter.dispatch('number_text', 'movierec')(expr)) -}}
{% endmacro %}
{% macro default__number_text(expr) -%}
    printf('%g', cast({{ expr }} as double))
{%- endmacro %}
{% macro spark__number_text(expr) -%}
    regexp_replace(cast(cast({{ expr }} as double) as string), '\\.0$', '')
{%- endmacro %}


{#- The join keywords that keep the left rows with (semi) or without (anti) a match. -#}
{% macro anti_join() %}
    {{- return(adapter.dispatch('anti_join', 'movierec')()) -}}
{% endmacro %}
{% macro default__anti_join() -%}
    anti join
{%- endmacro %}
{% macro spark__anti_join() -%}
    left anti join
{%- endmacro %}

{% macro semi_join() %}
    {{- return(adapter.dispatch('semi_join', 'movierec')()) -}}
{% endmacro %}
{% macro default__semi_join() -%}
    semi join
{%- endmacro %}
{% macro spark__semi_join() -%}
    left semi join
{%- endmacro %}


{#- A CTE DuckDB must not materialize (each use scans the table); Spark never materializes CTEs. -#}
{% macro not_materialized() %}
    {{- return(adapter.dispatch('not_materialized', 'movierec')()) -}}
{% endmacro %}
{% macro default__not_materialized() -%}
    not materialized
{%- endmacro %}
{% macro spark__not_materialized() -%}
{%- endmacro %}


{#- An aggregate over its rows in a fixed order (`func` avg or sum): DuckDB sums in that order so
    that a build's last digit does not depend on thread scheduling; Spark has no ordered
    aggregates, so there the order is free. -#}
{% macro ordered_aggregate(func, expr, order_by) %}
    {{- return(adapter.dispatch('ordered_aggregate', 'movierec')(func, expr, order_by)) -}}
{% endmacro %}
{% macro default__ordered_aggregate(func, expr, order_by) -%}
    {{ func }}({{ expr }} order by {{ order_by }})
{%- endmacro %}
{% macro spark__ordered_aggregate(func, expr, order_by) -%}
    {{ func }}({{ expr }})
{%- endmacro %}


{#- The integers start..stop (inclusive) as a table with one column `column` (a from-clause item). -#}
{% macro integer_range(start, stop, alias, column) %}
    {{- return(adapter.dispatch('integer_range', 'movierec')(start, stop, alias, column)) -}}
{% endmacro %}
{% macro default__integer_range(start, stop, alias, column) -%}
    range({{ start }}, {{ stop }} + 1) as {{ alias }} ({{ column }})
{%- endmacro %}
{% macro spark__integer_range(start, stop, alias, column) -%}
    (select cast(id as bigint) as {{ column }} from range({{ start }}, {{ stop }} + 1)) as {{ alias }}
{%- endmacro %}


{#-
    The best `k` rows of `source` per `group_column` by `score_column` (highest first; equal
    scores: the smaller `item_column` first), as rows (group_column, item_column, score_column).
    DuckDB keeps a bounded heap per group (arg_max with a count: one pass, far cheaper than a
    window over every pair); Spark ranks with a window and keeps ranks 1..k.
-#}
{% macro top_k_per_group(source, group_column, item_column, score_column, k) %}
    {{- return(adapter.dispatch('top_k_per_group', 'movierec')(source, group_column, item_column, score_column, k)) -}}
{% endmacro %}
{% macro default__top_k_per_group(source, group_column, item_column, score_column, k) -%}
    select
        {{ group_column }},
        unnest(picks, recursive := true)
    from (
        select
            {{ group_column }},
            arg_max(
                {'{{ item_column }}': {{ item_column }}, '{{ score_column }}': {{ score_column }}},
                {'{{ score_column }}': {{ score_column }}, 'smaller_id_first': -{{ item_column }}},
                {{ k }}
            ) as picks
        from {{ source }}
        group by {{ group_column }}
    ) as top_picks
{%- endmacro %}
{% macro spark__top_k_per_group(source, group_column, item_column, score_column, k) -%}
    select
        {{ group_column }},
        {{ item_column }},
        {{ score_column }}
    from (
        select
            {{ group_column }},
            {{ item_column }},
            {{ score_column }},
            row_number() over (
                partition by {{ group_column }} order by {{ score_column }} desc, {{ item_column }}
            ) as pick_rank
        from {{ source }}
    ) as ranked_picks
    where pick_rank <= {{ k }}
{%- endmacro %}


{#- The engine that scores user_recommendations and similar_movies (macros/serving_engine.sql).
    On Spark always SQL: the python engine's tables are dbt Python models, DuckDB-only. -#}
{% macro spark__serving_engine(batch_model) %}
    {{ return('sql') }}
{% endmacro %}


{#- model_metrics' bootstrap intervals: the Python model model_metric_intervals on DuckDB; on
    Spark (dbt Python models run only on Databricks) no rows, so the interval columns are null. -#}
{% macro metric_intervals() %}
    {{- return(adapter.dispatch('metric_intervals', 'movierec')()) -}}
{% endmacro %}
{% macro default__metric_intervals() -%}
    select * from {{ ref('model_metric_intervals') }}
{%- endmacro %}
{% macro spark__metric_intervals() -%}
    select
        cast(null as string) as model_name,
        cast(null as string) as metric,
        cast(null as double) as ci_low,
        cast(null as double) as ci_high,
        cast(null as bigint) as test_ratings,
        cast(null as bigint) as test_users,
        cast(null as string) as baseline_model,
        cast(null as double) as difference_ci_low,
        cast(null as double) as difference_ci_high,
        cast(null as boolean) as is_better_than_baseline
    where false
{%- endmacro %}
