"""The `movierec` command line: generate a sample, ingest raw files, summarize a build, recommend, and serve the HTTP API."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _cmd_generate(args: argparse.Namespace) -> int:
    from movierec.generate import generate

    generate(args.size, Path(args.out), seed=args.seed)
    return 0


def _cmd_ingest(args: argparse.Namespace) -> int:
    import duckdb

    from movierec.ingest import IngestError, ingest
    from movierec.ingest.parquet import default_parquet_dir

    try:
        ingest(
            Path(args.directory),
            fmt=args.format,
            warehouse=args.warehouse,
            reject_threshold=args.max_reject_rate,
            columns=args.columns,
            delimiter=args.delimiter,
            titles=args.titles,
            parquet=default_parquet_dir() if args.parquet == "" else args.parquet,
        )
    except IngestError as exc:
        print(f"movierec ingest: error: {exc}", file=sys.stderr)
        return 1
    except (OSError, duckdb.Error) as exc:  # an environment problem not foreseen above: still one line
        print(
            f"movierec ingest: error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else exc}",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        print("movierec ingest: interrupted; the warehouse was not changed", file=sys.stderr)
        return 130
    return 0


def _share(text: str) -> float:
    """argparse type of --max-reject-rate: a finite number from 0 to 1 (NaN would switch the limit off)."""
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text} is not a share from 0 to 1 (e.g. 0.001 = 0.1%)")
    return value


def _print_table(headers: list[str], rows: list[list], right: set[int] = frozenset()) -> None:
    """A plain text table: columns padded to their widest cell, numbers (columns in `right`) right-aligned."""
    cells = [[("" if v is None else str(v)) for v in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        print(
            "  ".join(
                cell.rjust(w) if i in right else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths))
            ).rstrip()
        )
        if n == 0:
            print("  ".join("-" * w for w in widths))


def _serving_errors(func):
    """Run a serving command; known serving errors become a message on stderr and exit code 1."""

    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except Exception as exc:
            # imported here, not before the call: `serve` sets the BLAS thread count before numpy loads
            from movierec.serving import ServingError

            if not isinstance(exc, ServingError):
                raise
            print(f"movierec {args.command}: error: {exc.args[0] if exc.args else exc}", file=sys.stderr)
            return 1

    return run


@_serving_errors
def _cmd_recommend(args: argparse.Namespace) -> int:
    from movierec.serving import Service

    result = Service(_serving_warehouse(args)).recommend(args.user, args.k, args.model)
    if result.cold_start:
        print(f"User {args.user}: cold start ({result.cold_start_reason}): the most popular movies they have not rated")
    else:
        print(f"User {args.user}: top {len(result.items)} by {result.model_name} ({result.rating_count} ratings)")
    _print_table(
        ["rank", "movie_id", "title", "year", "score", "reason"],
        [[i.rank, i.movie_id, i.title, i.release_year, f"{i.score:.3f}", i.reason] for i in result.items],
        right={0, 1, 3, 4},
    )
    return 0


@_serving_errors
def _cmd_similar(args: argparse.Namespace) -> int:
    from movierec.serving import Service

    service = Service(_serving_warehouse(args))
    movie_id = args.movie
    if args.title is not None:
        matches = service.search_movies(args.title, limit=6)
        if not matches:
            print(f"movierec similar: error: no title contains {args.title!r}", file=sys.stderr)
            return 1
        movie_id = matches[0].movie_id
        others = ", ".join(f"{m.title} [{m.movie_id}]" for m in matches[1:])
        if others:
            print(f"(also matching: {others}{', ...' if len(matches) == 6 else ''}; use --movie ID to pick one)")
    result = service.similar(movie_id, args.k, args.model)
    year = f" ({result.release_year})" if result.release_year else ""
    print(f"Movies similar to {result.title}{year} [{result.movie_id}] by {result.model_name}")
    if not result.items:
        print(result.note or "no similar movies")
        return 0
    _print_table(
        ["rank", "movie_id", "title", "year", "similarity"],
        [[i.rank, i.movie_id, i.title, i.release_year, f"{i.similarity:.3f}"] for i in result.items],
        right={0, 1, 3, 4},
    )
    return 0


@_serving_errors
def _cmd_serve(args: argparse.Namespace) -> int:
    import os

    # One BLAS thread: each request does a little arithmetic and the concurrency comes from the request
    # threads; BLAS threads spinning around tiny products cost more than they give (measured at the
    # Netflix size: 3.5 -> 0.9 ms of server CPU per recommendation). Set before numpy is imported.
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    try:
        from movierec.server import serve
    except ImportError as exc:
        print(f"movierec serve: error: {exc}; install fastapi and uvicorn (requirements.txt)", file=sys.stderr)
        return 1
    serve(_serving_warehouse(args), host=args.host, port=args.port, log_level=args.log_level)
    return 0


class _Parser(argparse.ArgumentParser):
    """Option errors as one line (`movierec ingest: error: ...`, with a pointer to --help) and exit code 1,
    like every other user error, instead of argparse's usage block and exit code 2."""

    def error(self, message: str):
        self.exit(1, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _cmd_summary(args: argparse.Namespace) -> int:
    import duckdb

    from movierec.summary import format_summary, summarize

    try:
        summary = summarize(args.warehouse)
    except FileNotFoundError as exc:
        print(f"movierec summary: error: {exc}", file=sys.stderr)
        return 1
    except duckdb.IOException as exc:  # another process writes the file (a dbt build): say so, no traceback
        print(f"movierec summary: error: cannot open the warehouse: {exc}", file=sys.stderr)
        return 1
    print(format_summary(summary), end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="movierec",
        description="Movie recommendations from Netflix-Prize-style ratings, built with dbt on DuckDB.",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    gen = sub.add_parser(
        "generate",
        help="write the built-in deterministic sample in the Netflix Prize file layout",
        description="Write a synthetic dataset in the exact Netflix Prize layout "
        "(combined_data_*.txt, movie_titles.csv, probe.txt), plus movie_genres.csv: the genres it "
        "planted (not a Netflix Prize file; loaded as optional metadata, read by no model).",
    )
    gen.add_argument(
        "--size",
        choices=["tiny", "demo", "medium", "full"],
        default="demo",
        help="tiny: seconds, for tests; demo: about 1M ratings (default); medium: a tenth of the "
        "Netflix Prize, 10M ratings over all 17,770 movies; full: the Netflix shape, 100M ratings",
    )
    gen.add_argument("--out", required=True, help="folder to write into (created if missing)")
    gen.add_argument("--seed", type=int, default=20061002, help="random seed; the same seed gives byte-identical files")
    gen.set_defaults(func=_cmd_generate)

    ing = sub.add_parser(
        "ingest",
        help="load Netflix Prize, MovieLens or any delimited ratings file into the warehouse's raw tables",
        description="Stream rating files into the warehouse's raw schema. Unparseable lines go to raw.rejects "
        "with file, line and reason; the run stops if they exceed --max-reject-rate. Any other ratings file "
        "loads with --format csv and a column mapping, e.g. "
        "`movierec ingest Netflix_Dataset_Rating.csv --format csv --columns user=User_ID,movie=Movie_ID,rating=Rating` "
        "or, without a header line, `movierec ingest TestingRatings.txt --format csv --columns movie=1,user=2,rating=3`.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ing.add_argument(
        "directory",
        metavar="PATH",
        help="folder holding Netflix Prize or MovieLens files; with --format csv, the ratings file",
    )
    ing.add_argument(
        "--format",
        choices=["auto", "netflix", "movielens", "csv"],
        default="auto",
        help="auto (default) recognizes Netflix and MovieLens folders; csv reads one delimited file",
    )
    ing.add_argument(
        "--columns",
        default=None,
        metavar="MAP",
        help="csv: role=column pairs, user, movie and rating required, date optional; columns by "
        "header name (user=User_ID) or by number from 1 (user=2). Without a date column every rating "
        "has no date and dbt's split holds out a random share of each user's ratings",
    )
    ing.add_argument(
        "--delimiter",
        default=None,
        help="csv: field separator (',', ';', '|', 'tab', '::', ...); default: sniffed from line 1",
    )
    ing.add_argument(
        "--titles",
        default=None,
        metavar="FILE",
        help="csv: titles file, Netflix movie_id,year,title (a header line is skipped) or MovieLens movies.csv",
    )
    ing.add_argument(
        "--warehouse", default=None, help="DuckDB file (default: $MOVIEREC_WAREHOUSE or warehouse/movierec.duckdb)"
    )
    ing.add_argument(
        "--parquet",
        nargs="?",
        const="",
        default=None,
        metavar="DIR",
        help="also write the raw tables as Parquet files for the Spark target (dbt --target spark), to DIR "
        "(default: $MOVIEREC_SPARK_DIR/raw, else warehouse/spark/raw)",
    )
    ing.add_argument(
        "--max-reject-rate",
        type=_share,
        default=0.001,
        help="stop if more than this share of each kind of record is rejected, from 0 to 1 (default 0.001 = 0.1%%)",
    )
    ing.set_defaults(func=_cmd_ingest)

    warehouse_help = "DuckDB file (default: $MOVIEREC_WAREHOUSE or warehouse/movierec.duckdb), read-only"
    spark_help = (
        "answer from the tables the Spark target built ($MOVIEREC_SPARK_DIR/tables, through DuckDB views "
        "written to $MOVIEREC_SPARK_DIR/serving.duckdb); the same as MOVIEREC_SERVE_FROM=spark"
    )
    rec = sub.add_parser(
        "recommend",
        help="print a user's top-k movies with the reason for each",
        description="A user's top-k unrated movies by the serving model (serving_config), or the most "
        "popular ones for an unknown user or one with too few ratings.",
    )
    rec.add_argument("--user", type=int, required=True, help="the user's id")
    rec.add_argument("--k", type=int, default=None, help="how many (default: var recommendations_k)")
    rec.add_argument("--model", default=None, help="another fitted model (default: the serving model)")
    rec.add_argument("--warehouse", default=None, help=warehouse_help)
    rec.add_argument("--spark", action="store_true", help=spark_help)
    rec.set_defaults(func=_cmd_recommend)

    sim = sub.add_parser(
        "similar",
        help="print the movies most similar to a movie",
        description="The movies whose factors are most similar (cosine) to a movie's, among movies with "
        "enough ratings (var similar_movies_min_ratings).",
    )
    which = sim.add_mutually_exclusive_group(required=True)
    which.add_argument("--movie", type=int, help="the movie's id")
    which.add_argument("--title", help="text in the title, any case (the best match is used)")
    sim.add_argument("--k", type=int, default=None, help="how many (default: var similar_movies_k)")
    sim.add_argument("--model", default=None, help="another fitted model (default: the serving model)")
    sim.add_argument("--warehouse", default=None, help=warehouse_help)
    sim.add_argument("--spark", action="store_true", help=spark_help)
    sim.set_defaults(func=_cmd_similar)

    summ = sub.add_parser(
        "summary",
        help="what the build made: data loaded, best models, serving model, next commands",
        description="Summarize the warehouse (read-only): its path, the ratings, users and movies loaded, "
        "the best rating and ranking models with their figures, the serving model, and what to run next. "
        "`make demo` ends with it.",
    )
    summ.add_argument("--warehouse", default=None, help=warehouse_help)
    summ.set_defaults(func=_cmd_summary)

    srv = sub.add_parser(
        "serve",
        help="run the HTTP API (OpenAPI docs at /docs)",
        description="Serve recommendations over HTTP (FastAPI + uvicorn). The warehouse is loaded into "
        "memory read-only and the file is not held while serving: `dbt build` can rebuild it meanwhile, "
        "and the server reloads when the build has finished.",
    )
    srv.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    srv.add_argument("--port", type=int, default=8000)
    srv.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    srv.add_argument("--warehouse", default=None, help=warehouse_help)
    srv.add_argument("--spark", action="store_true", help=spark_help)
    srv.set_defaults(func=_cmd_serve)

    fsp = sub.add_parser(
        "fit-spark",
        help="fit bias_baseline, biased_mf (MLlib ALS) and ials (ALS implicitPrefs) on Spark, after dbt build --target spark",
        description="The Spark target's fitting step (dbt-spark runs dbt Python models only on Databricks): reads "
        "movierec.int_ratings_train / int_ratings_test from the Spark catalog under $MOVIEREC_SPARK_DIR (default "
        "warehouse/spark), fits the bias baseline in Spark SQL, biased MF as MLlib ALS on the bias-removed ratings "
        "and iALS as ALS with implicitPrefs, with dbt_project.yml's vars, and writes movierec.fit_<name>_spark in "
        "the layout of the DuckDB fit models. Prints each model's probe RMSE; the last line is JSON.",
    )
    fsp.set_defaults(func=_cmd_fit_spark)
    return parser


def _serving_warehouse(args: argparse.Namespace):
    """--warehouse, or with --spark the views over the Spark target's tables (movierec.serving.spark_tables)."""
    if not getattr(args, "spark", False):
        return args.warehouse
    if args.warehouse is not None:
        from movierec.serving import InvalidRequest

        raise InvalidRequest("--spark and --warehouse name two different sources: give one")
    from movierec.serving.spark_tables import write_spark_views

    return write_spark_views()


def _cmd_fit_spark(args: argparse.Namespace) -> int:
    from movierec.spark_fit import main as fit_spark_main

    return fit_spark_main()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
