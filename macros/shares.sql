{#- Shares of a total and concentration (Gini), used by the exploration marts. -#}

{% macro share_of_total(value_expr, partition_by=none) %}
{#-
    The value's share of the sum of values over the whole result, or per `partition_by`
    (a column or list of columns): value / sum(value) over (...). A window expression:
    use it in a select over already aggregated rows. Null when the total is 0.
-#}
{%- if partition_by is string -%}
    {%- set partition_by = [partition_by] -%}
{%- endif -%}
(
    cast({{ value_expr }} as double)
    / nullif(sum({{ value_expr }}) over (
        {%- if partition_by %} partition by {{ partition_by | join(', ') }}{% endif -%}
    ), 0)
)
{%- endmacro %}


{% macro gini_coefficient(value_expr, descending_rank_expr) %}
{#-
    Gini coefficient of non-negative values, as an aggregate over one row per unit (movie,
    user). `descending_rank_expr` numbers the rows 1..n from the largest value to the smallest
    (a row_number: ties in any order, the result does not depend on it). With S the sum of the
    values x_r:

        G = (n + 1) / n - 2 * sum(r * x_r) / (n * S)

    the usual G = 2 * sum(i * x_i) / (n * S) - (n + 1) / n written with the descending rank
    r = n + 1 - i. It equals 1 - 2 * (area under the Lorenz curve, trapezoids): 0 when every
    unit has the same value, (n - 1) / n when one unit has everything. Null for no rows or S = 0.
-#}
(
    (count(*) + 1.0) / nullif(count(*), 0)
    - 2.0 * sum(cast({{ descending_rank_expr }} as double) * cast({{ value_expr }} as double))
    / nullif(count(*) * sum(cast({{ value_expr }} as double)), 0)
)
{%- endmacro %}
