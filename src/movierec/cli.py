"""The `movierec` command line: generate a sample, ingest raw files, and (later) serve recommendations."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _cmd_generate(args: argparse.Namespace) -> int:
    from movierec.generate import generate

    generate(args.size, Path(args.out), seed=args.seed)
    return 0


def _cmd_ingest(args: argparse.Namespace) -> int:
    from movierec.ingest import IngestError, ingest

    try:
        ingest(
            Path(args.directory),
            fmt=args.format,
            warehouse=args.warehouse,
            reject_threshold=args.max_reject_rate,
        )
    except IngestError as exc:
        print(f"movierec ingest: error: {exc}", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="movierec",
        description="Movie recommendations from Netflix-Prize-style ratings, built with dbt on DuckDB.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser(
        "generate",
        help="write the built-in deterministic sample in the Netflix Prize file layout",
        description="Write a synthetic dataset in the exact Netflix Prize layout "
        "(combined_data_*.txt, movie_titles.csv, probe.txt).",
    )
    gen.add_argument("--size", choices=["tiny", "demo", "full"], default="demo",
                     help="tiny: seconds, for tests; demo: about 1M ratings (default); full: the Netflix shape, 100M ratings")
    gen.add_argument("--out", required=True, help="folder to write into (created if missing)")
    gen.add_argument("--seed", type=int, default=20061002, help="random seed; the same seed gives byte-identical files")
    gen.set_defaults(func=_cmd_generate)

    ing = sub.add_parser(
        "ingest",
        help="load Netflix Prize or MovieLens files into the warehouse's raw tables",
        description="Stream rating files into the warehouse's raw schema. Unparseable lines go to raw.rejects "
        "with file, line and reason; the run stops if they exceed --max-reject-rate.",
    )
    ing.add_argument("directory", help="folder holding the raw files")
    ing.add_argument("--format", choices=["auto", "netflix", "movielens"], default="auto")
    ing.add_argument("--warehouse", default=None, help="DuckDB file (default: $MOVIEREC_WAREHOUSE or warehouse/movierec.duckdb)")
    ing.add_argument("--max-reject-rate", type=float, default=0.001,
                     help="stop if more than this share of lines is rejected (default 0.001 = 0.1%%)")
    ing.set_defaults(func=_cmd_ingest)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
