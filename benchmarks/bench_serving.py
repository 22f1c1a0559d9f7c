"""Benchmark: serving latency, the HTTP API under load, and the batch top-10 for every user.

Targets (issue "Serving"), on the full-size warehouse (480,189 users x 17,770 movies, k = 50
factors): one user's top-10 p50 <= 20 ms and p95 <= 50 ms; similar movies p95 <= 20 ms; top-10
for all users (the batch: python engine of the serving marts) <= 5 minutes; the HTTP API under
a bounded concurrent load on 127.0.0.1 (1 client, then 8 clients, 30 s each): throughput and
p50/p95/p99 as the client measures them (request sent to response read, over HTTP/1.1 keep-alive),
next to the in-process latencies of the same calls.

    .venv/bin/python benchmarks/bench_serving.py                      # benchmarks/.cache/full.duckdb
    .venv/bin/python benchmarks/bench_serving.py --warehouse /tmp/serve/demo.duckdb --seconds 10

The warehouse is only read. If it holds a fitted factor model and the serving marts (a full
`dbt build`), they are used as they are. If it only holds ratings (benchmarks/bench_ingest.py
leaves benchmarks/.cache/full.duckdb ingested but not built) or no model with factors yet, a
serving warehouse is made beside it (--work-dir): fct_ratings, dim_movies and dim_users from its
ratings, and SYNTHETIC factor tables (model `synthetic_mf`: N(0, 0.1^2) factors, k = 50, for
every user and movie; scoring costs the same whatever the values). The serving marts are then
built there with dbt, python engine: that run is the batch measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
from _harness import BIN, CACHE, PROJECT_ROOT, print_table, run

SYNTHETIC = "synthetic_mf"
FACTORS = 50


@dataclass
class Latency:
    step: str
    samples: list
    p50_target: float | None = None
    p95_target: float | None = None
    note: str = ""

    def pct(self, q: float) -> float:
        return float(np.percentile(np.asarray(self.samples) * 1e3, q)) if self.samples else float("nan")

    @property
    def verdict(self) -> str:
        ok = (self.p50_target is None or self.pct(50) <= self.p50_target) and (
            self.p95_target is None or self.pct(95) <= self.p95_target
        )
        return "within target" if ok else "OVER TARGET"


def print_latencies(title: str, rows: list[Latency]) -> None:
    table = [("step", "n", "p50 ms", "p95 ms", "p99 ms", "target p50/p95", "verdict", "note")]
    for r in rows:
        target = "/".join("-" if t is None else f"{t:.0f}" for t in (r.p50_target, r.p95_target))
        table.append(
            (
                r.step,
                str(len(r.samples)),
                f"{r.pct(50):.2f}",
                f"{r.pct(95):.2f}",
                f"{r.pct(99):.2f}",
                target,
                r.verdict if (r.p50_target or r.p95_target) else "",
                r.note,
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    print(f"\n{title}")
    for i, row in enumerate(table):
        print("  ".join(c.ljust(w) if j in (0, 6, 7) else c.rjust(w) for j, (c, w) in enumerate(zip(row, widths))))
        if i == 0:
            print("  ".join("-" * w for w in widths))


# --- the warehouse -------------------------------------------------------------------------------


def tables(path: Path) -> set[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {
            f"{s}.{t}"
            for s, t in con.execute("select table_schema, table_name from information_schema.tables").fetchall()
        }


def servable(path: Path) -> bool:
    """A built warehouse whose serving model has factors."""
    names = tables(path)
    if not {"main.serving_config", "main.serving_user_ratings", "main.popular_movies"} <= names:
        return False
    with duckdb.connect(str(path), read_only=True) as con:
        return bool(con.execute("select has_factors from serving_config").fetchone()[0])


def synthesize(source: Path, work: Path, seed: int = 0) -> None:
    """A serving warehouse at `work` from `source`'s ratings, with synthetic factors for every user and movie."""
    names = tables(source)
    built = "main.fct_ratings" in names and "main.dim_movies" in names
    if not built and "raw.ratings" not in names:
        raise SystemExit(f"[bench] {source} has neither fct_ratings nor raw.ratings: ingest it first")
    partial = work.with_name(work.stem + "_partial.duckdb")  # renamed when complete (tables only: safe)
    partial.unlink(missing_ok=True)
    start = time.perf_counter()
    with duckdb.connect(str(partial)) as con:
        literal = "'" + str(source).replace("'", "''") + "'"  # ATTACH takes no parameters
        con.execute(f"attach {literal} as src (read_only)")
        ratings = "src.main.fct_ratings" if built else "src.raw.ratings"
        movies = "src.main.dim_movies" if built else "src.raw.movies"
        con.execute(f"""
            create table fct_ratings as
            select user_id, movie_id, cast(rating as double) as rating, rated_on from {ratings};
            create table dim_users as
            select user_id, count(*) as rating_count from fct_ratings group by user_id;
            create table dim_movies as
            with counts as (select movie_id, count(*) as rating_count from fct_ratings group by movie_id)
            select coalesce(movies.movie_id, counts.movie_id) as movie_id, movies.title,
                cast(movies.release_year as integer) as release_year,
                {
            "movies.label"
            if built
            else "coalesce(movies.title, 'movie ' || coalesce(movies.movie_id, counts.movie_id))"
            " || coalesce(' (' || movies.release_year || ')', '')"
        } as label,  -- models/marts/dim_movies.sql
                coalesce(counts.rating_count, 0) as rating_count
            from {movies} as movies full outer join counts on movies.movie_id = counts.movie_id;
            detach src;
        """)
        rng = np.random.default_rng(seed)
        mean = con.execute("select avg(rating) from fct_ratings").fetchone()[0]
        con.execute(f"""
            create table user_factors (model_name varchar, user_id integer, bias double, factors float[{FACTORS}]);
            create table movie_factors (model_name varchar, movie_id integer, bias double, factors float[{FACTORS}]);
            create table model_runs (model_name varchar, hyperparameters json, fit_seconds double, train_rmse double,
                train_ratings bigint, global_mean double);""")
        for side, ids_sql in (
            ("user", "select user_id from dim_users order by 1"),
            ("movie", "select movie_id from dim_movies where rating_count > 0 order by 1"),
        ):
            ids = con.execute(ids_sql).to_arrow_table().column(0).to_numpy()
            factors = rng.normal(0, 0.1, size=(len(ids), FACTORS)).astype(np.float32)
            side_table = pa.table(
                {
                    "model_name": pa.array([SYNTHETIC] * len(ids)),
                    "id": pa.array(ids, pa.int32()),
                    "bias": pa.array(rng.normal(0, 0.3, len(ids))),
                    "factors": pa.FixedSizeListArray.from_arrays(pa.array(factors.ravel()), FACTORS),
                }
            )
            con.register("side_table", side_table)
            con.execute(f"insert into {side}_factors select * from side_table")
            con.unregister("side_table")
        hyper = {"k": FACTORS, "reg": 0.05, "reg_bias": 0.05, "weighted_reg": True, "synthetic": True}
        con.execute(
            "insert into model_runs values (?, ?, 0, null, (select count(*) from fct_ratings), ?)",
            [SYNTHETIC, json.dumps(hyper), mean],
        )
        counts = con.execute(
            "select (select count(*) from fct_ratings), (select count(*) from dim_users), "
            "(select count(*) from dim_movies)"
        ).fetchone()
    os.replace(partial, work)
    print(
        f"[bench] synthesized {work}: {counts[0]:,} ratings, {counts[1]:,} users, {counts[2]:,} movies, "
        f"random k={FACTORS} factors ({time.perf_counter() - start:.0f} s)",
        file=sys.stderr,
        flush=True,
    )


def build_serving(work: Path, engine: str, target: float | None):
    """dbt run of the serving marts on `work`; returns the harness result and per-model seconds."""
    out = work.parent / f"{work.stem}_dbt"
    env = {"MOVIEREC_WAREHOUSE": str(work), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    variables = json.dumps({"serving_model": SYNTHETIC, "recommendations_engine": engine})
    result = run(
        f"batch: serving marts, {engine} engine (dbt run)",
        [
            BIN / "dbt",
            "run",
            "--quiet",
            "--select",
            "path:models/serving",
            "path:python_models/serving",
            "--exclude",
            "movie_factors",
            "user_factors",
            "model_runs",  # synthesized above, not fitted
            "--vars",
            variables,
            "--target-path",
            out / "target",
            "--log-path",
            out / "logs",
        ],
        target_seconds=target,
        env=env,
    )
    models = {}
    run_results = out / "target" / "run_results.json"
    if run_results.exists():
        for r in json.loads(run_results.read_text())["results"]:
            models[r["unique_id"].split(".")[-1]] = r["execution_time"]
    return result, models


# --- latency in process ----------------------------------------------------------------------------


def timed(fn, args_list, warmup: int = 10) -> list[float]:
    for args in args_list[:warmup]:
        fn(*args)
    samples = []
    for args in args_list:
        start = time.perf_counter()
        fn(*args)
        samples.append(time.perf_counter() - start)
    return samples


def rss_gb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e9


def sample_ids(path: Path, n: int, seed: int):
    with duckdb.connect(str(path), read_only=True) as con:
        users = con.execute("select user_id from dim_users").to_arrow_table().column(0).to_numpy()
        model = con.execute("select model_name from serving_config").fetchone()[0]
        movies = (
            con.execute("select movie_id from movie_factors where model_name = ? and factors is not null", [model])
            .to_arrow_table()
            .column(0)
            .to_numpy()
        )
        popular = (
            con.execute("select movie_id from popular_movies order by popularity_rank limit 2000")
            .to_arrow_table()
            .column(0)
            .to_numpy()
        )
    rng = np.random.default_rng(seed)
    return (
        [int(u) for u in rng.choice(users, n)],
        [int(m) for m in rng.choice(movies, n)],
        [{int(m): int(rng.integers(1, 6)) for m in rng.choice(popular, 20, replace=False)} for _ in range(n)],
    )


def latencies(path: Path, n: int, seed: int) -> list[Latency]:
    from movierec.serving import Service

    users, movies, new_users = sample_ids(path, n, seed)
    before = rss_gb()
    start = time.perf_counter()
    service = Service(path, preload=True)
    service.health()
    load = time.perf_counter() - start
    memory = rss_gb() - before
    rows = [
        Latency(
            "recommend top-10 (preloaded, as the server)",
            timed(lambda u: service.recommend(u, 10), [(u,) for u in users]),
            20,
            50,
            f"load {load:.1f} s, +{memory:.2f} GB",
        ),
        Latency(
            "similar top-10 (preloaded)", timed(lambda m: service.similar(m, 10), [(m,) for m in movies]), None, 20
        ),
        Latency(
            "fold-in 20 ratings + top-10 (preloaded)",
            timed(lambda r: service.fold_in(r, 10), [(r,) for r in new_users]),
        ),
        Latency(
            "search title (preloaded)", timed(lambda t: service.search_movies(t), [("the",), ("love",), ("x",)] * 30)
        ),
    ]
    one_off = Service(path)  # the library and CLI: a read-only connection per call
    rows.append(
        Latency(
            "recommend top-10 (per call: opens the warehouse)",
            timed(lambda u: one_off.recommend(u, 10), [(u,) for u in users[: max(n // 10, 20)]], warmup=3),
            note="not the serving path; no target",
        )
    )
    return rows


# --- HTTP under load ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_load(path: Path, clients: int, seconds: float, seed: int, startup_timeout: float = 900):
    import httpx

    users, movies, new_users = sample_ids(path, 5000, seed)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            str(BIN / "movierec"),
            "serve",
            "--warehouse",
            str(path),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=PROJECT_ROOT,
    )
    try:
        start = time.perf_counter()
        while True:
            if server.poll() is not None:
                raise SystemExit(f"[bench] the server exited with code {server.returncode}")
            try:
                if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.perf_counter() - start > startup_timeout:
                raise SystemExit("[bench] the server did not become healthy in time")
            time.sleep(0.5)
        startup = time.perf_counter() - start
        results: list[tuple[str, float, int]] = []
        lock = threading.Lock()
        deadline = time.perf_counter() + seconds

        def client(i: int) -> None:
            rng = random.Random(seed + i)
            mine = []
            with httpx.Client(base_url=base, timeout=30) as http:
                while time.perf_counter() < deadline:
                    draw = rng.random()
                    if draw < 0.7:
                        kind, call = (
                            "recommend",
                            lambda: http.get(f"/users/{rng.choice(users)}/recommendations", params={"k": 10}),
                        )
                    elif draw < 0.9:
                        kind, call = (
                            "similar",
                            lambda: http.get(f"/movies/{rng.choice(movies)}/similar", params={"k": 10}),
                        )
                    else:
                        kind, call = (
                            "fold-in",
                            lambda: http.post(
                                "/recommendations",
                                json={"ratings": {str(m): r for m, r in rng.choice(new_users).items()}},
                            ),
                        )
                    t0 = time.perf_counter()
                    try:
                        status = call().status_code
                    except httpx.HTTPError:
                        status = -1
                    mine.append((kind, time.perf_counter() - t0, status))
            with lock:
                results.extend(mine)

        t0 = time.perf_counter()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        with open(f"/proc/{server.pid}/status") as f:
            peak = next((int(line.split()[1]) / 1e6 for line in f if line.startswith("VmHWM")), float("nan"))
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    errors = sum(1 for _, _, s in results if s != 200)
    rows = [
        Latency(
            f"HTTP mix, {clients} clients x {seconds:.0f} s",
            [d for _, d, _ in results],
            note=f"{len(results) / elapsed:,.0f} req/s, {errors} errors of {len(results):,}; "
            f"server start {startup:.1f} s, peak RSS {peak:.2f} GB",
        )
    ]
    for kind in ("recommend", "similar", "fold-in"):
        rows.append(
            Latency(
                f"  HTTP {kind}",
                [d for k, d, _ in results if k == kind],
                note=f"{sum(1 for k, _, s in results if k == kind and s != 200)} errors",
            )
        )
    return rows


def describe(path: Path) -> str:
    with duckdb.connect(str(path), read_only=True) as con:
        ratings, users = con.execute("select count(*), count(distinct user_id) from fct_ratings").fetchone()
        movies, k = con.execute(
            "select count(*), max(len(factors)) from movie_factors where model_name = "
            "(select model_name from serving_config)"
        ).fetchone()
        model = con.execute("select model_name from serving_config").fetchone()[0]
    return f"{ratings:,} ratings, {users:,} users, {movies:,} movies, model {model}, k = {k}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--warehouse", type=Path, default=None, help="warehouse to read (default: benchmarks/.cache/full.duckdb)"
    )
    parser.add_argument("--work-dir", type=Path, default=CACHE, help="where a synthesized serving warehouse goes")
    parser.add_argument("--resynthesize", action="store_true", help="rebuild the synthesized serving warehouse")
    parser.add_argument("--engines", default="python", help="engines to time for the batch: python, sql or python,sql")
    parser.add_argument("--skip-batch", action="store_true", help="reuse a synthesized warehouse's serving marts")
    parser.add_argument("--users", type=int, default=1000, help="requests per in-process latency step")
    parser.add_argument("--clients", default="1,8", help="concurrent HTTP clients, one load per value (default 1,8)")
    parser.add_argument("--seconds", type=float, default=30.0, help="duration of the HTTP load")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    source = args.warehouse or CACHE / "full.duckdb"
    if not source.exists():
        raise SystemExit(
            f"[bench] {source} does not exist: run benchmarks/bench_ingest.py for the full size, "
            "or pass --warehouse (e.g. a demo warehouse; the output then says so)"
        )
    batch, note = [], ""
    if servable(source):
        path = source
        note = "built warehouse, its own serving model"
    else:
        path = args.work_dir / f"serving_{source.stem}.duckdb"
        if args.resynthesize or not path.exists():
            args.work_dir.mkdir(parents=True, exist_ok=True)
            synthesize(source, path, args.seed)
        note = f"SYNTHETIC factors ({SYNTHETIC}, random, k = {FACTORS}) on the ratings of {source}"
        if args.skip_batch and not servable(path):
            raise SystemExit(f"[bench] --skip-batch: {path} has no serving marts yet")
        with duckdb.connect(str(path), read_only=True) as con:
            full_size = con.execute("select count(*) from dim_users").fetchone()[0] >= 400_000
        for engine in [] if args.skip_batch else (e.strip() for e in args.engines.split(",")):
            result, models = build_serving(path, engine, 300 if full_size else None)
            timing = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in models.items())
            result.note = timing
            batch.append(result)
    title = f"{describe(path)} ({note})"
    print(f"[bench] serving from {path}: {title}", file=sys.stderr, flush=True)
    rows = latencies(path, args.users, args.seed)
    for clients in (int(c) for c in str(args.clients).split(",") if c.strip()):
        rows += http_load(path, clients, args.seconds, args.seed)
    if batch:
        print_table(f"Serving batch: {title}", batch)
    print_latencies(f"Serving latency ({os.cpu_count()} cores): {title}", rows)


if __name__ == "__main__":
    main()
