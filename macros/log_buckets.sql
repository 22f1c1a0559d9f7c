{#-
    Log-scale (powers of two) buckets for heavy-tailed counts such as ratings per user:
    1, 2-3, 4-7, 8-15, 16-31, ... A bucket is named by its floor, the largest power of two
    not above the count. Used by dim_users and mart_user_activity, and meant for later
    marts (e.g. error by user-activity bucket) so that every report cuts activity the same way.
    Counts below 1 (or null) give null.
-#}

{% macro log_bucket_floor(count_expr) %}
{#- The bucket's lower bound: 2^floor(log2(count)). The epsilon guards exact powers of two. -#}
case
    when ({{ count_expr }}) >= 1
        then cast(pow(2, floor(log2({{ count_expr }}) + 1e-9)) as bigint)
end
{%- endmacro %}


{% macro log_bucket_ceiling(count_expr) %}
{#- The bucket's upper bound (inclusive): 2 * floor - 1. -#}
(2 * {{ log_bucket_floor(count_expr) }} - 1)
{%- endmacro %}


{% macro log_bucket_label(count_expr) %}
{#- '1', '2-3', '4-7', ...: the bucket's range as text (sort by the floor, not the label). -#}
case
    when ({{ count_expr }}) >= 2
        then cast({{ log_bucket_floor(count_expr) }} as {{ dbt.type_string() }})
            || '-'
            || cast({{ log_bucket_ceiling(count_expr) }} as {{ dbt.type_string() }})
    when ({{ count_expr }}) >= 1
        then '1'
end
{%- endmacro %}
