{#-
    Checks run once at the start of every `dbt build` / `dbt run` / `dbt test` (on-run-start in
    dbt_project.yml), before any model: the warehouse holds ingested data, and every var has a
    value of the right type and range. All bad values are reported together, one line each,
    and the run stops before building anything:

        movierec: 2 bad vars (dbt_project.yml `vars:` or --vars):
          mf_reg = -1: must be a number > 0
          subset_min_ratings_per_movie = 'abc': must be a whole number >= 0

    Every var is declared once, with its default, in dbt_project.yml (models read `var()` by name only,
    never with an inline default); this macro is the one place that says what each var accepts,
    and checks every one of them (tests/unit/test_dbt_vars.py). Date vars are checked here before
    any model pastes them into SQL.
-#}

{% macro validate_run() %}
    {%- if not execute -%}
        {{ return('select 1 as run_is_valid') }}
    {%- endif -%}
    {%- set ratings = adapter.get_relation(database=target.database, schema='raw', identifier='ratings') -%}
    {%- set built = adapter.get_relation(database=target.database, schema=target.schema, identifier='fct_ratings') -%}
    {%- if ratings is none and built is none -%}
        {{ exceptions.raise_compiler_error(
            "movierec: the warehouse " ~ target.path ~ " holds no ingested ratings (no table raw.ratings): "
            ~ "run `movierec ingest <folder>` (or `make ingest`) first, then dbt build") }}
    {%- endif -%}
    {#- A warehouse with marts but no raw schema (benchmarks/bench_serving.py's synthesized one) skips
        the checks on the ingested data. -#}
    {%- if ratings is not none -%}
        {%- set dataset = adapter.get_relation(database=target.database, schema='raw', identifier='dataset') -%}
        {%- set dataset_columns = [] if dataset is none else adapter.get_columns_in_relation(dataset) | map(attribute='name') | list -%}
        {%- if 'date_window_start' not in dataset_columns -%}
            {{ exceptions.raise_compiler_error(
                "movierec: the warehouse " ~ target.path ~ " was ingested by an older movierec (raw.dataset has no "
                ~ "date window): run `movierec ingest <folder>` again, then dbt build") }}
        {%- endif -%}
        {%- if run_query("select count(*) from raw.ratings").columns[0].values()[0] == 0 -%}
            {{ exceptions.raise_compiler_error(
                "movierec: the warehouse " ~ target.path ~ " holds no ratings (raw.ratings is empty): "
                ~ "run `movierec ingest <folder>` on a folder with ratings first") }}
        {%- endif -%}
    {%- endif -%}
    {%- set errors = [] -%}

    {#- exploration subset -#}
    {%- set start_date = _check_date(errors, 'subset_start_date') -%}
    {%- set end_date = _check_date(errors, 'subset_end_date') -%}
    {%- if start_date and end_date and start_date > end_date -%}
        {%- do errors.append("subset_start_date " ~ start_date ~ " is after subset_end_date " ~ end_date) -%}
    {%- endif -%}
    {%- do _check_number(errors, 'subset_user_fraction', 0, 1, min_open=true) -%}
    {%- do _check_number(errors, 'subset_top_n_movies', 1, none, integer=true, nullable=true) -%}
    {%- do _check_number(errors, 'subset_min_ratings_per_movie', 0, none, integer=true) -%}
    {%- do _check_number(errors, 'subset_min_ratings_per_user', 0, none, integer=true) -%}
    {#- exploration marts -#}
    {%- do _check_number(errors, 'damped_mean_prior_weight', 0, none) -%}
    {%- do _check_number(errors, 'head_share', 0, 1, min_open=true) -%}
    {%- do _check_number(errors, 'top_movies_n', 1, none, integer=true) -%}
    {%- do _check_number(errors, 'top_movies_min_ratings', 0, none, integer=true) -%}
    {#- split -#}
    {%- do _check_choice(errors, 'split_strategy', ['auto', 'probe', 'fold', 'latest', 'random']) -%}
    {%- do _check_choice(errors, 'movielens_fold', ['u1', 'u2', 'u3', 'u4', 'u5', 'ua', 'ub']) -%}
    {%- do _check_number(errors, 'split_holdout_per_user', 1, none, integer=true) -%}
    {%- do _check_number(errors, 'split_min_train_ratings', 0, none, integer=true) -%}
    {%- do _check_number(errors, 'split_test_fraction', 0, 1, min_open=true, max_open=true) -%}
    {%- do _check_number(errors, 'split_seed', 0, none, integer=true) -%}
    {%- if ratings is not none -%}{%- do _check_split_data(errors) -%}{%- endif -%}
    {#- recommenders -#}
    {%- do _check_number(errors, 'factors', 1, none, integer=true) -%}
    {%- do _check_number(errors, 'top_k', 1, none, integer=true) -%}
    {%- do _check_number(errors, 'eval_max_users', 1, none, integer=true) -%}
    {%- do _check_number(errors, 'seed', 0, none, integer=true) -%}
    {%- do _check_number(errors, 'movie_mean_damping', 0, none) -%}
    {%- do _check_number(errors, 'bias_reg_user', 0, none) -%}
    {%- do _check_number(errors, 'bias_reg_movie', 0, none) -%}
    {%- do _check_number(errors, 'knn_neighbours', 1, none, integer=true) -%}
    {%- do _check_number(errors, 'knn_shrinkage', 0, none) -%}
    {%- do _check_number(errors, 'knn_min_neighbours', 0, none, integer=true) -%}
    {%- do _check_number(errors, 'svd_factors', 1, none, integer=true) -%}
    {%- do _check_number(errors, 'mf_reg', 0, none, min_open=true) -%}
    {%- do _check_number(errors, 'mf_epochs', 1, none, integer=true) -%}
    {%- do _check_number(errors, 'ials_reg', 0, none, min_open=true) -%}
    {%- do _check_number(errors, 'ials_unobserved_weight', 0, none, min_open=true) -%}
    {%- do _check_number(errors, 'ials_iterations', 1, none, integer=true) -%}
    {%- do _check_number(errors, 'bpmf_factors', 1, none, integer=true) -%}
    {%- do _check_number(errors, 'bpmf_samples', 1, none, integer=true) -%}
    {%- do _check_number(errors, 'ease_reg', 0, none, min_open=true) -%}
    {%- do _check_number(errors, 'prize_factors', 1, none, integer=true) -%}
    {%- do _check_number(errors, 'prize_samples', 1, none, integer=true) -%}
    {%- do _check_number(errors, 'prize_burn_in', 0, none, integer=true) -%}
    {%- do _check_number(errors, 'prize_time_bins', 1, none, integer=true) -%}
    {%- do _check_number(errors, 'blend_validation_fraction', 0, 1, min_open=true, max_open=true) -%}
    {%- do _check_number(errors, 'bootstrap_samples', 1, none, integer=true) -%}
    {%- do _check_number(errors, 'min_test_users', 0, none, integer=true) -%}
    {%- do _check_models(errors) -%}
    {#- serving -#}
    {%- do _check_choice(errors, 'recommendations_engine', ['auto', 'sql', 'python']) -%}
    {%- do _check_number(errors, 'recommendations_sql_max_pairs', 0, none, integer=true) -%}
    {%- do _check_number(errors, 'recommendations_k', 1, none, integer=true) -%}
    {%- do _check_number(errors, 'recommendations_min_user_ratings', 0, none, integer=true) -%}
    {%- do _check_number(errors, 'similar_movies_k', 1, none, integer=true) -%}
    {%- do _check_number(errors, 'similar_movies_min_ratings', 0, none, integer=true) -%}
    {%- do _check_number(errors, 'reason_min_rating', 0, 5) -%}
    {#- reporting -#}
    {%- do _check_name(errors, 'latent_space_model', 'biased_mf') -%}
    {%- do _check_number(errors, 'movie_map_components', 1, none, integer=true) -%}
    {%- do _check_number(errors, 'movie_map_min_ratings', 0, none, integer=true, nullable=true) -%}
    {%- do _check_number(errors, 'factor_extremes_components', 1, none, integer=true) -%}
    {%- do _check_number(errors, 'factor_extremes_n', 1, none, integer=true) -%}
    {%- do _check_number(errors, 'component_genres_n', 1, none, integer=true) -%}
    {%- do _check_number(errors, 'genre_recovery_neighbours', 1, none, integer=true) -%}
    {%- do _check_number(errors, 'genre_recovery_min_ratings', 0, none, integer=true, nullable=true) -%}
    {%- do _check_number(errors, 'explorer_users_per_bucket', 1, none, integer=true) -%}
    {%- do _check_number(errors, 'explorer_list_length', 1, none, integer=true) -%}

    {%- if errors -%}
        {{ exceptions.raise_compiler_error(
            "movierec: " ~ errors | length ~ " bad var" ~ ("s" if errors | length > 1 else "")
            ~ " (dbt_project.yml `vars:` or --vars):\n  " ~ errors | join("\n  ")) }}
    {%- endif -%}
    {{ return('select 1 as run_is_valid') }}
{% endmacro %}


{% macro _shown(value) %}
    {%- if value is string -%}{{ return("'" ~ value ~ "'") }}{%- endif -%}
    {{ return(value | string) }}
{% endmacro %}


{% macro _check_number(errors, name, min_value, max_value, integer=false, nullable=false, min_open=false, max_open=false) %}
    {#- A number (a whole one with integer=true) within [min_value, max_value]; none = unbounded. -#}
    {%- set value = var(name) -%}
    {%- if value is none -%}
        {%- if not nullable -%}
            {%- do errors.append(name ~ " = null: must be a number") -%}
        {%- endif -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set kind = "a whole number" if integer else "a number" -%}
    {%- set bounds = [] -%}
    {%- if min_value is not none -%}{%- do bounds.append((">" if min_open else ">=") ~ " " ~ min_value) -%}{%- endif -%}
    {%- if max_value is not none -%}{%- do bounds.append(("<" if max_open else "<=") ~ " " ~ max_value) -%}{%- endif -%}
    {%- set wanted = kind ~ (" " ~ bounds | join(" and ") if bounds else "") ~ (" or null" if nullable else "") -%}
    {%- set problem = name ~ " = " ~ _shown(value) ~ ": must be " ~ wanted -%}
    {%- if value is boolean or value is not number -%}
        {%- do errors.append(problem) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if value | string | lower in ['inf', '-inf', 'nan'] -%}
        {%- do errors.append(problem) -%}
    {%- elif integer and value is not integer and value != (value | int) -%}
        {%- do errors.append(problem) -%}
    {%- elif min_value is not none and (value < min_value or (min_open and value == min_value)) -%}
        {%- do errors.append(problem) -%}
    {%- elif max_value is not none and (value > max_value or (max_open and value == max_value)) -%}
        {%- do errors.append(problem) -%}
    {%- endif -%}
{% endmacro %}


{% macro _check_choice(errors, name, choices) %}
    {%- set value = var(name) -%}
    {%- if value not in choices -%}
        {%- do errors.append(name ~ " = " ~ _shown(value) ~ ": must be one of " ~ choices | join(", ")) -%}
    {%- endif -%}
{% endmacro %}


{% macro _check_date(errors, name) %}
    {#- null, or a real calendar date 'YYYY-MM-DD' (checked before any model pastes it into SQL). -#}
    {%- set value = var(name) -%}
    {%- if value is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set text = value | string -%}
    {%- if not modules.re.match('^\\d{4}-\\d{2}-\\d{2}$', text) -%}
        {%- do errors.append(name ~ " = " ~ _shown(value) ~ ": must be a date 'YYYY-MM-DD' or null") -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set parsed = run_query("select try_cast('" ~ text ~ "' as date)").columns[0].values()[0] -%}
    {%- if parsed is none -%}
        {%- do errors.append(name ~ " = '" ~ text ~ "': not a calendar date") -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(text) }}
{% endmacro %}


{% macro _check_split_data(errors) %}
    {#- A forced split strategy must have the data it needs, or it would test on nothing. -#}
    {%- set strategy = var('split_strategy') -%}
    {%- if strategy == 'probe' -%}
        {%- set n = run_query("select count(*) from raw.probe").columns[0].values()[0] -%}
        {%- if n == 0 -%}
            {%- do errors.append("split_strategy = 'probe': no probe.txt was ingested (raw.probe is empty); use auto, latest or random") -%}
        {%- endif -%}
    {%- elif strategy == 'fold' -%}
        {%- set fold = var('movielens_fold') -%}
        {%- set n = run_query("select count(*) from raw.splits where split = '" ~ (fold | replace("'", "")) ~ "' and part = 'test'").columns[0].values()[0] -%}
        {%- if n == 0 -%}
            {%- do errors.append("split_strategy = 'fold': the ingested data has no MovieLens fold " ~ fold ~ " (only ml-100k ships folds); use auto, latest or random") -%}
        {%- endif -%}
    {%- elif strategy == 'latest' -%}
        {%- set has_dates = run_query("select coalesce(bool_and(has_dates), false) from raw.dataset").columns[0].values()[0] -%}
        {%- if not has_dates -%}
            {%- do errors.append("split_strategy = 'latest': the ingested ratings have no dates; use auto or random") -%}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}


{% macro _check_models(errors) %}
    {#- var recommenders: a list of fitted models that exist (python_models/recommenders/fit_<name>.py). -#}
    {%- set known = [] -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.name.startswith('fit_') -%}
            {%- do known.append(node.name[4:]) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set value = var('recommenders') -%}
    {%- if value is string or value is not iterable or value is mapping -%}
        {%- do errors.append("recommenders = " ~ _shown(value) ~ ": must be a list, e.g. [global_mean, ials]") -%}
        {{ return(none) }}
    {%- endif -%}
    {#- the Spark target builds no fit_ model (they are disabled there): nothing to check names against -#}
    {%- for name in value if target.type != 'spark' -%}
        {%- if name not in known -%}
            {%- do errors.append("recommenders: unknown model " ~ _shown(name) ~ ": known are " ~ known | sort | join(", ")) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if value | length == 0 -%}
        {%- do errors.append("recommenders = []: name at least one model") -%}
    {%- endif -%}
    {#- blend_members: the rating models the blend fits itself (they need not be in recommenders) -#}
    {%- set members = var('blend_members') -%}
    {%- if 'blend' in value and (members is string or members is not iterable or members is mapping or members | length == 0) -%}
        {%- do errors.append("blend_members = " ~ _shown(members) ~ ": must be a non-empty list of rating models, e.g. [bias_baseline, biased_mf]") -%}
    {%- endif -%}
    {%- do _check_name(errors, 'significance_baseline', 'bias_baseline') -%}
    {#- serving_model may name any model with factor rows (serving_config falls back when it has none) -#}
    {%- do _check_name(errors, 'serving_model', 'ials') -%}
{% endmacro %}


{% macro _check_name(errors, name, example) %}
    {#- A model name: a non-empty string (the model need not be fitted in this run). -#}
    {%- set value = var(name) -%}
    {%- if value is not string or not value -%}
        {%- do errors.append(name ~ " = " ~ _shown(value) ~ ": must be a model name, e.g. " ~ example) -%}
    {%- endif -%}
{% endmacro %}
