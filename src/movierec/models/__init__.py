"""Recommender models: baselines, neighbourhood models, matrix factorization, top-N models.

Every model learns from a `Ratings` (observed ratings with contiguous indices) and answers in
the original user and movie ids. dbt Python models call these and write their parameters and
outputs into warehouse tables; the math lives here so that it can be tested on its own.
"""
