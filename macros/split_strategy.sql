{#-
    Which train/test split applies to the loaded data, decided when the model compiles:

      probe   Netflix probe.txt is loaded: its pairs are the test set (they are inside the
              training files and must be removed from everything the models learn from)
      fold    a canonical MovieLens fold (var movielens_fold, e.g. u1) is loaded
      latest  Netflix-format (or dated generic csv) data without a probe: each user's most
              recent ratings are held out
      random  MovieLens without canonical folds, or ratings without dates (generic csv with
              no date column): a per-user random holdout

    var('split_strategy') forces one; 'auto' (the default) picks the first that applies.
-#}
{% macro split_strategy() %}
    {%- set forced = var('split_strategy') -%}
    {%- if forced != 'auto' -%}
        {{ return(forced) }}
    {%- endif -%}
    {%- if not execute -%}
        {{ return('latest') }}
    {%- endif -%}
    {%- set probe = run_query("select count(*) from " ~ source('ingest', 'probe')) -%}
    {%- if probe.columns[0].values()[0] > 0 -%}
        {{ return('probe') }}
    {%- endif -%}
    {%- set fold = run_query(
        "select count(*) from " ~ source('ingest', 'splits')
        ~ " where split = '" ~ var('movielens_fold') ~ "' and part = 'test'"
    ) -%}
    {%- if fold.columns[0].values()[0] > 0 -%}
        {{ return('fold') }}
    {%- endif -%}
    {%- set dataset = run_query("select format, coalesce(has_dates, true) from " ~ source('ingest', 'dataset')) -%}
    {%- if dataset.rows | length > 0 and (dataset.rows[0][0] == 'movielens' or not dataset.rows[0][1]) -%}
        {{ return('random') }}
    {%- endif -%}
    {{ return('latest') }}
{% endmacro %}
