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
