"""Benchmark: the full pipeline on DuckDB and on local Spark, side by side in one run (issue 15).

Four stages per engine, each a separate process timed from outside (wall time; peak memory of its
process tree for DuckDB), DuckDB's four first, then Spark's:

    ingest          DuckDB: `movierec ingest`
                    Spark:  `movierec ingest --parquet` (the same parse, plus the raw tables
                            written as Parquet; its DuckDB copy goes to a file of its own)
    SQL models      `dbt run` of every model the fits do not feed (staging, intermediate, marts:
                    the split and the exploration marts, and the serving marts popular_movies and
                    serving_user_ratings): on Spark `--exclude source:spark_fit+`, as `make
                    spark-demo` builds; on DuckDB exactly those models, by name
    fits            DuckDB: `dbt run` of fit_bias_baseline, fit_biased_mf, fit_ials (movierec's
                            numpy fits, dbt Python models)
                    Spark:  `movierec fit-spark` (bias baseline in Spark SQL, MLlib ALS, ALS
                            implicitPrefs)
    serving +       Spark:  `dbt run --target spark --select source:spark_fit+`: the serving marts
    evaluation              (model_runs, movie/user_factors, user_recommendations, similar_movies,
    marts                   ...) and the evaluation marts (predictions, metrics, leaderboard)
                    DuckDB: `dbt run` of exactly those models, by name, plus the DuckDB-only models they read there
                            (model_metric_intervals, the bootstrap intervals, a dbt Python model
                            that Spark replaces by null columns); their seconds show in the
                            stage's slowest nodes

Like for like, every dbt run of both engines gets the same vars (VARS): the three models Spark
fits (`recommenders`: global_mean, movie_mean, popularity and the rest are DuckDB-only); fit-spark
fits those three always. Each engine scores recommendations its own default way: Spark always in
SQL, DuckDB with `recommendations_engine: auto` (SQL up to 10M users x movies, so the tiny
sample; above, from the demo size, numpy BLAS in the dbt Python models batch_*, which the stage
then includes and names).
Both name lists are read once from the Spark project (`dbt ls --target spark`) and printed.

After each stage its result line is printed at once and appended to benchmarks/.cache/
bench-spark-<size>.md (git-ignored), so a run stopped half way still leaves its figures; the line
names the stage's 5 slowest parts: the dbt nodes of its own run_results.json (each dbt stage has
its own --target-path) or fit-spark's per-model fit seconds. The machine's 1-minute load average
is printed at the start and the end: above the core count, other work shared the CPU.
Peak memory is shown for DuckDB only: the Spark stages' JVM is a grandchild that pyspark does not
wait for, so the kernel's count for the stage's process tree leaves it out.
Every Spark stage but ingest pays the JVM's start and the Derby metastore's, measured alone on the
last line (a SparkSession that runs `select 1`), so the per-stage costs can be read with or without it.

    .venv/bin/python benchmarks/bench_spark.py --size tiny     # a couple of minutes: checks it runs
    .venv/bin/python benchmarks/bench_spark.py --size demo     # about 1M ratings
    .venv/bin/python benchmarks/bench_spark.py --size medium   # a tenth of Netflix, 10M ratings
    .venv/bin/python benchmarks/bench_spark.py --size medium --engines spark   # one side again

Samples are generated once into benchmarks/.cache/<size> (git-ignored) and reused; the warehouses
of the engines run (benchmarks/.cache/<size>-spark-bench*.duckdb, benchmarks/.cache/spark-<size>/)
are rebuilt.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from _harness import BIN, CACHE, PROJECT_ROOT, Result, load_average, run

ENGINES = ("duckdb", "spark")
STAGES = ("ingest", "SQL models", "fits", "serving + evaluation marts")
FITS = ["fit_bias_baseline", "fit_biased_mf", "fit_ials"]
POST_FIT = "source:spark_fit+"
VARS = "{recommenders: [bias_baseline, biased_mf, ials]}"


@dataclass
class Stage:
    engine: str
    result: Result
    slowest: list[tuple[str, float]] = field(default_factory=list)
    parts: str = ""  # "31 dbt nodes" (models and hooks), "3 fits"

    def line(self) -> str:
        parts = f", {self.parts}" if self.parts else ""
        peak = f", peak {self.result.peak_gb:.2f} GB" if self.engine == "duckdb" else ""
        slowest = "; ".join(f"{name} {seconds:.1f}" for name, seconds in self.slowest) or "-"
        return f"{self.engine} | {self.result.step} | {self.result.seconds:.1f} s{peak}{parts} | slowest: {slowest}"


def slowest_nodes(run_results: Path, top: int = 5) -> tuple[list[tuple[str, float]], int, float]:
    """The `top` slowest nodes of a dbt run_results.json as (name, seconds), slowest first (equal
    times by name; hooks count as nodes), how many nodes the run had, and the seconds of the run
    itself (elapsed_time: the rest of the stage's wall time is dbt's start and parse)."""
    try:
        run = json.loads(run_results.read_text())
        nodes = [(r["unique_id"].split(".", 2)[-1], float(r["execution_time"])) for r in run["results"]]
        elapsed = float(run["elapsed_time"])
    except FileNotFoundError:
        raise SystemExit(f"[bench] {run_results}: not found: did the dbt stage write its run_results.json?") from None
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise SystemExit(f"[bench] {run_results}: not a dbt run_results.json ({type(exc).__name__}: {exc})") from None
    return sorted(nodes, key=lambda node: (-node[1], node[0]))[:top], len(nodes), elapsed


def slowest_fits(fit_output: Path, top: int = 5) -> tuple[list[tuple[str, float]], int]:
    """The same for `movierec fit-spark`, from the JSON on its output's last line: per model, fit_seconds."""
    lines = fit_output.read_text().strip().splitlines()
    try:
        fits = json.loads(lines[-1])
        parts = [(f"{name} (fit)", float(values["fit_seconds"])) for name, values in fits.items()]
    except (IndexError, json.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError) as exc:
        raise SystemExit(
            f"[bench] {fit_output}: the last line is not fit-spark's JSON ({type(exc).__name__}: {exc})"
        ) from None
    return sorted(parts, key=lambda part: (-part[1], part[0]))[:top], len(parts)


def dbt_names(args: list, env: dict) -> list[str]:
    """The names `dbt ls` prints for `args` (one a line, --quiet leaves only them)."""
    cmd = [str(c) for c in [BIN / "dbt", "--quiet", "ls", "--resource-type", "model", "--output", "name", *args]]
    print(f"[bench] {' '.join(cmd)}", file=sys.stderr, flush=True)
    done = subprocess.run(cmd, cwd=PROJECT_ROOT, env={**os.environ, **env}, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"[bench] dbt ls failed (exit code {done.returncode}):\n{done.stdout}{done.stderr}")
    return sorted(line.strip() for line in done.stdout.splitlines() if line.strip())


class Bench:
    """Runs the stages, printing each one's result line as it finishes and appending it to the results file."""

    def __init__(self, size: str, results_file: Path, top: int) -> None:
        self.size, self.results_file, self.top = size, results_file, top
        self.stages: list[Stage] = []
        self.targets = CACHE / "spark-bench-target" / size
        self.last_target: dict[str, Path] = {}  # engine: the folder of its last dbt stage

    def record(self, text: str) -> None:
        print(f"[bench] {text}", flush=True)
        with self.results_file.open("a") as out:
            out.write(text + "\n")

    def stage(self, engine: str, step: str, cmd: list, env: dict, dbt_stage: bool) -> None:
        folder = self.targets / f"{engine}-{step.split()[0].lower()}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        if dbt_stage:
            cmd = [*cmd, "--target-path", folder, "--log-path", folder / "logs"]
            # dbt parses the project again only where it changed, as in one target folder: a stage
            # starts from its engine's previous one's parse (the first dbt stage parses in full)
            previous = self.last_target.get(engine, Path("/nonexistent")) / "partial_parse.msgpack"
            if previous.exists():
                shutil.copy2(previous, folder / previous.name)
            self.last_target[engine] = folder
        output = folder / "output.txt" if step == "fits" and engine == "spark" else None
        result = run(step, cmd, env=env, stdout=output)
        slowest, parts = [], ""
        try:  # a stage that ran keeps its time even if its details cannot be read
            if dbt_stage:
                slowest, count, elapsed = slowest_nodes(folder / "run_results.json", self.top)
                parts = f"{count} dbt nodes in {elapsed:.1f} s of dbt's run"
            elif output is not None:
                slowest, count = slowest_fits(output, self.top)
                parts = f"{count} fits"
        except SystemExit as unreadable:
            parts = f"slowest parts unknown: {unreadable}"
        self.stages.append(Stage(engine, result, slowest, parts))
        self.record(f"- {self.stages[-1].line()}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="demo", choices=["tiny", "demo", "medium", "full"])
    parser.add_argument("--spark-memory", default="4g", help="the local Spark driver's heap (MOVIEREC_SPARK_MEMORY)")
    parser.add_argument(
        "--engines",
        default="duckdb,spark",
        type=lambda text: [e.strip() for e in text.split(",") if e.strip()],
        help="comma-separated, from duckdb and spark (default both): rerun one side alone",
    )
    parser.add_argument("--top", type=int, default=5, help="slowest parts shown per stage (default 5)")
    args = parser.parse_args()
    unknown = [e for e in args.engines if e not in ENGINES]
    if unknown or not args.engines:
        parser.error(f"--engines: {','.join(unknown) or 'empty'}: choose from {','.join(ENGINES)}")
    engines = [e for e in ENGINES if e in args.engines]

    CACHE.mkdir(parents=True, exist_ok=True)
    sample = CACHE / args.size
    if not (sample / ".done").exists():
        run("generate", [BIN / "movierec", "generate", "--size", args.size, "--out", sample])
        (sample / ".done").touch()
    warehouse = CACHE / f"{args.size}-spark-bench.duckdb"
    spark_ingest_copy = CACHE / f"{args.size}-spark-bench-ingest.duckdb"  # ingest --parquet's DuckDB by-product
    spark_dir = CACHE / f"spark-{args.size}"
    stale = {"duckdb": [warehouse], "spark": [spark_ingest_copy, spark_dir]}
    for engine in engines:
        for path in stale[engine]:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
                Path(f"{path}.wal").unlink(missing_ok=True)
    env = {
        "duckdb": {"MOVIEREC_WAREHOUSE": str(warehouse)},
        "spark": {
            "MOVIEREC_WAREHOUSE": str(spark_ingest_copy),
            "MOVIEREC_SPARK_DIR": str(spark_dir),
            "MOVIEREC_SPARK_MEMORY": args.spark_memory,
        },
    }

    results_file = CACHE / f"bench-spark-{args.size}.md"
    bench = Bench(args.size, results_file, args.top)
    load_start = load_average()
    with results_file.open("a") as out:
        out.write(f"\n## {dt.datetime.now():%Y-%m-%d %H:%M} size {args.size}, engines {','.join(engines)}\n")
    bench.record(f"machine load at the start: {load_start}")

    # What each dbt stage builds: read once from the Spark project, run by name on both engines.
    pre_fit = dbt_names(["--target", "spark", "--exclude", POST_FIT, "--vars", VARS], env["spark"])
    post_fit = dbt_names(["--target", "spark", "--select", POST_FIT, "--vars", VARS], env["spark"])
    bench.record(f"SQL models ({len(pre_fit)}): {', '.join(pre_fit)}")
    bench.record(f"serving + evaluation marts ({len(post_fit)}): {', '.join(post_fit)}")
    duckdb_only: list[str] = []
    if "duckdb" in engines:
        upstream = [f"+{name}" for name in post_fit]
        duckdb_only = [
            name
            for name in dbt_names(["--select", *upstream, "--exclude", *pre_fit, *FITS, "--vars", VARS], env["duckdb"])
            if name not in post_fit
        ]
        bench.record(f"on DuckDB these also need: {', '.join(duckdb_only) or 'nothing else'}")

    dbt_run = [BIN / "dbt", "run", "--vars", VARS]
    try:
        if "duckdb" in engines:
            e = env["duckdb"]
            bench.stage("duckdb", STAGES[0], [BIN / "movierec", "ingest", sample, "--warehouse", warehouse], e, False)
            bench.stage("duckdb", STAGES[1], [*dbt_run, "--select", *pre_fit], e, True)
            bench.stage("duckdb", STAGES[2], [*dbt_run, "--select", *FITS], e, True)
            bench.stage("duckdb", STAGES[3], [*dbt_run, "--select", *post_fit, *duckdb_only], e, True)
        if "spark" in engines:
            e, spark_run = env["spark"], [*dbt_run, "--target", "spark"]
            ingest = [
                BIN / "movierec",
                "ingest",
                sample,
                "--warehouse",
                spark_ingest_copy,
                "--parquet",
                spark_dir / "raw",
            ]
            bench.stage("spark", STAGES[0], ingest, e, False)
            bench.stage("spark", STAGES[1], [*spark_run, "--exclude", POST_FIT], e, True)
            bench.stage("spark", STAGES[2], [BIN / "movierec", "fit-spark"], e, False)
            bench.stage("spark", STAGES[3], [*spark_run, "--select", POST_FIT], e, True)
            startup = run(
                "JVM + metastore start",
                [
                    BIN / "python",
                    "-c",
                    "from movierec.spark_fit import spark_session; spark_session().sql('select 1').collect()",
                ],
                env=e,
            )
            bench.record(f"- spark | JVM + metastore start alone | {startup.seconds:.1f} s")
    except (SystemExit, KeyboardInterrupt) as stop:
        bench.record(f"stopped: {stop or 'interrupted'}; machine load at the end: {load_average()}")
        raise

    table = side_by_side(bench.stages, engines)
    sides = {"duckdb": "DuckDB (2 threads)", "spark": f"local[2] Spark (driver {args.spark_memory})"}
    print(f"\nbench_spark: size {args.size}, {' against '.join(sides[e] for e in engines)}, vars {VARS}")
    for row in table:
        print(row)
    if "spark" in engines:
        print(f"(Spark JVM + metastore start, in each Spark stage but ingest: {startup.seconds:.1f} s)")
    print(f"\nThe {args.top} slowest parts of each stage (dbt nodes, or fit-spark's models), seconds:")
    for step in STAGES:
        for stage in bench.stages:
            if stage.result.step == step and stage.slowest:
                print(f"  {stage.line()}")
    with results_file.open("a") as out:
        out.write("\n" + "\n".join(table) + "\n")
    bench.record(f"machine load at the end: {load_average()}")
    print(f"(results appended to {results_file.relative_to(PROJECT_ROOT)})")
    return 0


def side_by_side(stages: list[Stage], engines: list[str]) -> list[str]:
    """The summary as Markdown table lines: one row per stage, a column per engine run."""
    seconds = {(s.engine, s.result.step): s.result.seconds for s in stages}
    peak = {s.result.step: s.result.peak_gb for s in stages if s.engine == "duckdb"}
    both = len(engines) == 2
    header = ["stage", *(f"{'DuckDB' if e == 'duckdb' else 'Spark local'} s" for e in engines)]
    header += ["Spark / DuckDB"] if both else []
    header += ["DuckDB peak GB"] if "duckdb" in engines else []
    rows = [header]
    for step in [*STAGES, "total"]:
        if step == "total":
            values = [sum(v for (e, _), v in seconds.items() if e == engine) for engine in engines]
        else:
            values = [seconds.get((engine, step)) for engine in engines]
        row = [step, *("-" if v is None else f"{v:.1f}" for v in values)]
        if both:
            row.append(f"{values[1] / values[0]:.1f}x" if None not in values and values[0] else "-")
        if "duckdb" in engines:
            top = max(peak.values(), default=None) if step == "total" else peak.get(step)
            row.append("" if top is None else f"{top:.2f}")
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "| "
        + " | ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
        + " |"
        for row in rows
    ]
    lines.insert(
        1, "|" + "|".join("-" * (w + 2) if i == 0 else "-" * (w + 1) + ":" for i, w in enumerate(widths)) + "|"
    )
    return lines


if __name__ == "__main__":
    sys.exit(main())
