{#- Generic data tests written here because dbt Hub packages cannot be installed offline. -#}

{% test unique_combination_of_columns(model, combination_of_columns) %}
{#- Fails with one row per key that occurs more than once. -#}
select
    {{ combination_of_columns | join(', ') }},
    count(*) as occurrences
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endtest %}


{% test same_row_count_as(model, other) %}
{#-
    Fails with one row when `model` and `other` hold different numbers of rows. For a model
    that is a projection of another (the same rows, re-ordered or with fewer columns): with
    `other` tested unique, this keeps the copy's grain for the price of two counts, where a
    second uniqueness test would group all its rows again (about 30 s at 100M ratings).
-#}
select model_rows, other_rows
from
    (select count(*) as model_rows from {{ model }}) as m,
    (select count(*) as other_rows from {{ other }}) as o
where model_rows <> other_rows
{% endtest %}


{% test expression_is_true(model, expression) %}
{#- Fails with every row for which `expression` is not true. -#}
select *
from {{ model }}
where not coalesce(({{ expression }}), false)
{% endtest %}


{% test value_between(model, column_name, min_value, max_value) %}
{#- Fails with every non-null value outside [min_value, max_value]. -#}
select {{ column_name }}
from {{ model }}
where {{ column_name }} < {{ min_value }} or {{ column_name }} > {{ max_value }}
{% endtest %}


{% test shares_sum_to_one(model, column_name, group_by=none, tolerance=1e-9) %}
{#- Fails with one row per group (or one row overall) whose shares do not add up to 1 within `tolerance`; an empty model passes. -#}
{%- if group_by is string -%}
    {%- set group_by = [group_by] -%}
{%- endif -%}
select
    {%- if group_by %}
    {{ group_by | join(', ') }},
    {%- endif %}
    sum({{ column_name }}) as share_total
from {{ model }}
{%- if group_by %}
group by {{ group_by | join(', ') }}
{%- endif %}
having count(*) > 0 and abs(coalesce(sum({{ column_name }}), 0) - 1) > {{ tolerance }}
{% endtest %}


{% test within_ingest_date_window(model, column_name) %}
{#- Fails with every date outside the window that ingestion enforced for the loaded format
    (raw.dataset.date_window_start..date_window_end, from movierec.ingest.common.DATE_WINDOWS):
    the one date rule, shared by ingestion and the warehouse tests. -#}
with

dataset as (
    select * from {{ source('ingest', 'dataset') }}
)

select {{ column_name }}
from {{ model }}
cross join dataset
where {{ column_name }} < dataset.date_window_start
    or {{ column_name }} > dataset.date_window_end
{% endtest %}


{% test not_null_where_dated(model, column_name) %}
{#- not_null, unless ingestion loaded a file without dates (raw.dataset.has_dates false). -#}
with

dataset as (
    select coalesce(bool_and(has_dates), true) as has_dates from {{ source('ingest', 'dataset') }}
)

select {{ column_name }}
from {{ model }}
cross join dataset
where {{ column_name }} is null
    and dataset.has_dates
{% endtest %}
