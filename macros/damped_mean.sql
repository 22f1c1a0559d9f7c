{% macro damped_mean(sum_expr, count_expr, prior_mean_expr, prior_weight=none) %}
{#-
    Damped (Bayesian) mean: the observed ratings plus `prior_weight` virtual ratings at
    `prior_mean_expr` (usually the global mean):

        (sum + prior_weight * prior_mean) / (count + prior_weight)

    With few ratings it stays near the prior; with many it approaches the plain mean.
    `prior_weight` defaults to var('damped_mean_prior_weight') (25, Simon Funk's K for
    Netflix Prize movie means; deliberately firmer than the least-squares weight, the
    within-movie variance over the variance of true means, about 3-5 here, because the
    marts rank by it). Null when count + prior_weight is 0.
-#}
{%- set weight = var('damped_mean_prior_weight') if prior_weight is none else prior_weight -%}
{%- if weight is not number or weight < 0 -%}
    {{ exceptions.raise_compiler_error("damped_mean: prior weight must be a number >= 0, got " ~ weight) }}
{%- endif -%}
(
    (cast({{ sum_expr }} as double) + {{ weight }} * ({{ prior_mean_expr }}))
    / nullif(({{ count_expr }}) + {{ weight }}, 0)
)
{%- endmacro %}
