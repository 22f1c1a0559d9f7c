"""What a build produced, in a few lines: the summary `make demo` ends with (`movierec summary`).

Reads the warehouse read-only: where it is, how many ratings, users and movies ingestion loaded,
the best rating model (lowest held-out RMSE) and the best ranking model (highest nDCG@k) from
`mart_leaderboard` with the baseline each must beat, the serving model (`serving_config`), and the
commands to run next. A warehouse that is only ingested, or not built at all, gets a summary that
says which step is missing instead of an error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from movierec.warehouse import connect, warehouse_path

# The next commands, one line each, in the order a newcomer would try them.
NEXT_COMMANDS = [
    ("make sql", "DuckDB's SQL shell on the warehouse (read-only); questions to start from in analyses/"),
    ("make lab", "JupyterLab on notebooks/, with jupysql and the warehouse connected"),
    ("make reports", "the Evidence reports on the marts (reports/)"),
    ("make serve", "the HTTP API on http://127.0.0.1:8000 (try /docs)"),
    ("make docs", "dbt docs: every model and column, and the lineage graph"),
]


@dataclass
class ModelFigure:
    """One model's figure on the leaderboard, e.g. biased_mf with rmse 0.871."""

    model_name: str
    metric: str
    value: float


@dataclass
class Summary:
    warehouse: Path
    size_bytes: int
    rating_count: int | None = None  # raw.ratings: what ingestion loaded
    user_count: int | None = None
    movie_count: int | None = None  # raw.movies: the title file, rated or not
    rejected_count: int | None = None
    fct_rating_count: int | None = None  # fct_ratings: after the subset vars
    best_rating: ModelFigure | None = None
    rating_baseline: ModelFigure | None = None
    best_ranking: ModelFigure | None = None
    ranking_baseline: ModelFigure | None = None
    ranking_k: int = 10
    fitted_model_count: int | None = None  # model_runs: models fitted, evaluated or not
    serving_model: str | None = None
    serving_requested: str | None = None
    serving_ndcg: float | None = None  # the serving model's nDCG@k on the leaderboard
    recommended_user_count: int | None = None
    missing: list[str] = field(default_factory=list)  # tables not built yet


def _tables(con) -> set[str]:
    rows = con.execute("select table_schema || '.' || table_name from information_schema.tables").fetchall()
    return {name for (name,) in rows}


def _one(con, sql: str):
    return con.execute(sql).fetchone()


def summarize(path: str | os.PathLike | None = None) -> Summary:
    """Read the summary figures from the warehouse (read-only). Raises FileNotFoundError when
    there is no warehouse file."""
    target = warehouse_path(path)
    with connect(target, read_only=True) as con:
        tables = _tables(con)
        summary = Summary(warehouse=target, size_bytes=target.stat().st_size)

        if "raw.ratings" in tables:
            summary.rating_count, summary.user_count = _one(
                con, "select count(*), count(distinct user_id) from raw.ratings"
            )
        else:
            summary.missing.append("raw.ratings")
        if "raw.movies" in tables:
            summary.movie_count = _one(con, "select count(*) from raw.movies")[0]
        if "raw.rejects" in tables:
            summary.rejected_count = _one(con, "select count(*) from raw.rejects")[0]
        if "main.fct_ratings" in tables:
            summary.fct_rating_count = _one(con, "select count(*) from main.fct_ratings")[0]

        if "main.model_runs" in tables:
            summary.fitted_model_count = _one(con, "select count(*) from main.model_runs")[0]
        if "main.mart_leaderboard" in tables:
            best_rmse = _one(
                con,
                """
                select model_name, rmse from main.mart_leaderboard
                where rmse is not null order by rmse, model_name limit 1""",
            )
            if best_rmse:
                summary.best_rating = ModelFigure(best_rmse[0], "RMSE", float(best_rmse[1]))
            # the baseline a rating model must beat: the bias baseline, else the global mean
            baseline = _one(
                con,
                """
                select model_name, rmse from main.mart_leaderboard
                where rmse is not null and model_name in ('bias_baseline', 'global_mean')
                order by model_name = 'bias_baseline' desc limit 1""",
            )
            if baseline and best_rmse and baseline[0] != best_rmse[0]:
                summary.rating_baseline = ModelFigure(baseline[0], "RMSE", float(baseline[1]))
            best_ndcg = _one(
                con,
                """
                select model_name, ndcg_at_k from main.mart_leaderboard
                where ndcg_at_k is not null order by ndcg_at_k desc, model_name limit 1""",
            )
            if best_ndcg:
                summary.best_ranking = ModelFigure(best_ndcg[0], "nDCG", float(best_ndcg[1]))
            popularity = _one(
                con,
                """
                select model_name, ndcg_at_k from main.mart_leaderboard
                where model_name = 'popularity' and ndcg_at_k is not null""",
            )
            if popularity and best_ndcg and popularity[0] != best_ndcg[0]:
                summary.ranking_baseline = ModelFigure(popularity[0], "nDCG", float(popularity[1]))
            if "main.model_metrics" in tables:
                k = _one(con, "select max(k) from main.model_metrics where metric = 'ndcg'")
                if k and k[0] is not None:
                    summary.ranking_k = int(k[0])
        else:
            summary.missing.append("main.mart_leaderboard")

        if "main.serving_config" in tables:
            row = _one(con, "select model_name, requested_model_name from main.serving_config")
            if row:
                summary.serving_model, summary.serving_requested = row
                if "main.mart_leaderboard" in tables:
                    ndcg = con.execute(
                        "select ndcg_at_k from main.mart_leaderboard where model_name = ?", [row[0]]
                    ).fetchone()
                    if ndcg and ndcg[0] is not None:
                        summary.serving_ndcg = float(ndcg[0])
            if "main.user_recommendations" in tables:
                summary.recommended_user_count = _one(
                    con, "select count(distinct user_id) from main.user_recommendations"
                )[0]
        else:
            summary.missing.append("main.serving_config")
    return summary


def _size(n_bytes: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n_bytes < 1024 or unit == "GB":
            return f"{n_bytes:,.0f} {unit}" if unit == "bytes" else f"{n_bytes:,.1f} {unit}"
        n_bytes /= 1024
    raise AssertionError  # unreachable


def _figure(figure: ModelFigure, k: int) -> str:
    label = figure.metric if figure.metric == "RMSE" else f"{figure.metric}@{k}"
    return f"{figure.model_name} ({label} {figure.value:.3f})"


def format_summary(summary: Summary) -> str:
    """The summary as printed: one line per fact, then the next commands."""
    lines = ["", "movierec: what the build made"]

    def fact(label: str, text: str) -> None:
        lines.append(f"  {label:<13} {text}")

    fact("warehouse", f"{summary.warehouse} ({_size(summary.size_bytes)})")
    if summary.rating_count is None:
        fact("loaded", "nothing yet: run `movierec ingest DIR` (or `make demo`)")
    else:
        rejected = (
            "" if summary.rejected_count is None else f"; {summary.rejected_count:,} lines rejected (raw.rejects)"
        )
        movies = "" if summary.movie_count is None else f", {summary.movie_count:,} movies"
        fact("loaded", f"{summary.rating_count:,} ratings, {summary.user_count:,} users{movies}{rejected}")
        if summary.fct_rating_count is not None and summary.fct_rating_count != summary.rating_count:
            fact("modelled", f"{summary.fct_rating_count:,} ratings in fct_ratings (the subset_* vars)")

    if summary.best_rating is None and summary.best_ranking is None:
        if summary.fitted_model_count:
            fact(
                "models",
                f"{summary.fitted_model_count} fitted (model_runs) but not evaluated: no mart_leaderboard "
                "(did `dbt build` stop on an error? run it again)",
            )
        else:
            fact("models", "not fitted yet: run `dbt build`")
    else:
        if summary.best_rating is not None:
            baseline = (
                ""
                if summary.rating_baseline is None
                else f", against {_figure(summary.rating_baseline, summary.ranking_k)}"
            )
            fact("best rating", f"{_figure(summary.best_rating, summary.ranking_k)}{baseline}, on the held-out ratings")
        if summary.best_ranking is not None:
            baseline = (
                ""
                if summary.ranking_baseline is None
                else f", against {_figure(summary.ranking_baseline, summary.ranking_k)}"
            )
            fact(
                "best ranking",
                f"{_figure(summary.best_ranking, summary.ranking_k)}{baseline}, top-{summary.ranking_k} lists",
            )
    if summary.serving_model is None:
        fact("serving", "no serving model yet: run `dbt build`")
    else:
        stand_in = (
            ""
            if summary.serving_requested in (None, summary.serving_model)
            else f" (stand-in: var serving_model {summary.serving_requested} is not fitted)"
        )
        users = (
            ""
            if summary.recommended_user_count is None
            else f", top-k lists for {summary.recommended_user_count:,} users"
        )
        figure = "" if summary.serving_ndcg is None else f" (nDCG@{summary.ranking_k} {summary.serving_ndcg:.3f})"
        fact("serving", f"{summary.serving_model}{figure}{stand_in}{users} (user_recommendations)")

    lines += ["", "Next:"]
    width = max(len(command) for command, _ in NEXT_COMMANDS)
    lines += [f"  {command:<{width}}  {what}" for command, what in NEXT_COMMANDS]
    return "\n".join(lines) + "\n"
