"""The whole run: `generate(size, out_dir, seed)` draws every stage in chunks and writes the files."""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path

import numpy as np

from movierec.generate.dates import _fill_empty_days, _probe_flags, _rating_days, _RowKeys
from movierec.generate.genres import (
    _GENRE_DRAW_SHARE,
    _TASTE_BUDGET,
    GENRES,
    GenrePlan,
    _write_genres,
    draw_movie_genres,
    draw_user_genres,
    genre_mask,
)
from movierec.generate.pairs import (
    _alias_table,
    _cover_all_movies,
    _draw_budget,
    _exploration,
    _PairPlan,
    _sample_pairs_chunk,
    popularity_weights,
)
from movierec.generate.shapes import (
    _CHUNK_RATINGS,
    _MOVIE_BITS,
    _S_COVER,
    _S_DAYS,
    _S_GENRES,
    _S_LATENT,
    _S_MOVIES,
    _S_PREFS,
    _S_RATINGS,
    _S_USERS,
    _TEXT_CHUNK_ROWS,
    FIRST_DAY,
    LAST_DAY,
    N_DAYS,
    PROBE_MAX_PER_USER,
    PROBE_SHARE,
    SIZES,
    GenerateSummary,
    SampleShape,
    _map_ordered,
    _rng,
)
from movierec.generate.taste import _fit_thresholds, _quantize, _scores, _TasteModel, taste_model
from movierec.generate.text import _ALL_ONES, _date_words, _format_block, _movie_header_words, _right_aligned
from movierec.generate.titles import movie_titles
from movierec.generate.users import customer_ids, signup_days, user_activity
from movierec.progress import Progress


def _chunk_bounds(n_u: np.ndarray, rows_per_chunk: int) -> np.ndarray:
    """User boundaries of chunks of about `rows_per_chunk` rating rows (user-major)."""
    cum = np.cumsum(n_u)
    marks = np.arange(rows_per_chunk, int(cum[-1]), rows_per_chunk)
    inner = np.searchsorted(cum, marks, side="left") + 1
    return np.unique(np.concatenate([[0], inner, [n_u.size]])).astype(np.int64)


def _file_split(movie_counts: np.ndarray, n_files: int = 4) -> np.ndarray:
    """Movie boundaries splitting the movies into `n_files` contiguous ranges of about
    equal rating counts."""
    cum = np.cumsum(movie_counts)
    marks = cum[-1] * np.arange(1, n_files) / n_files
    inner = np.searchsorted(cum, marks, side="left") + 1
    return np.concatenate([[0], inner, [movie_counts.size]]).astype(np.int64)


def _genre_tables(genres: GenrePlan, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per genre, an alias table of its movies' popularity, all genres concatenated: offsets,
    movies, probabilities and aliases (as movie indexes)."""
    members: list[list[int]] = [[] for _ in GENRES]
    for movie, movie_genres in enumerate(genres.movie_genres):
        for g in movie_genres:
            members[g].append(movie)
    offsets = np.zeros(len(GENRES) + 1, dtype=np.int64)
    movies, probs, aliases = [], [], []
    for g, ids in enumerate(members):
        if not ids:  # a genre no movie has (tiny samples): its draws fall back to the whole catalogue
            ids = list(range(weights.size))
        ids_arr = np.asarray(ids, dtype=np.int64)
        prob, alias = _alias_table(weights[ids_arr] / weights[ids_arr].sum())
        movies.append(ids_arr)
        probs.append(prob)
        aliases.append(ids_arr[alias])
        offsets[g + 1] = offsets[g] + ids_arr.size
    return offsets, np.concatenate(movies), np.concatenate(probs), np.concatenate(aliases)


def _taste_budget(budget: np.ndarray, n_u: np.ndarray, n_movies: int) -> np.ndarray:
    """First-round draws per user: the popularity-only budget, raised for the repeats of
    taste-driven draws (within a few genres) and the draws turned down for distaste."""
    return np.ceil(budget * (1.0 + _TASTE_BUDGET * _genre_share(n_u, n_movies))).astype(np.int64)


def _genre_share(n_u: np.ndarray, n_movies: int) -> np.ndarray:
    """Share of a user's draws taken from their liked genres: _GENRE_DRAW_SHARE, less for users
    who rate a large part of the catalogue (their liked genres alone cannot hold their ratings)."""
    room = np.clip(1.0 - n_u / (0.5 * n_movies), 0.0, 1.0)
    return (_GENRE_DRAW_SHARE * room).astype(np.float32)


def _sample_pairs(
    shape: SampleShape, n_u: np.ndarray, weights: np.ndarray, genres: GenrePlan, seed: int, prog: Progress
) -> tuple[np.ndarray, _PairPlan]:
    """The movie of every rating row, user-major (rows of user u are
    ``row_offsets[u]:row_offsets[u+1]``), every movie rated at least once."""
    alias_prob, alias_idx = _alias_table(weights)
    offsets, genre_movies, genre_prob, genre_alias = _genre_tables(genres, weights)
    plan = _PairPlan(
        n_u=n_u,
        budget=_taste_budget(_draw_budget(n_u, weights), n_u, shape.n_movies),
        explore=_exploration(n_u, shape.n_movies),
        alias_prob=alias_prob,
        alias_idx=alias_idx,
        user_bounds=_chunk_bounds(n_u, _CHUNK_RATINGS),
        row_offsets=np.concatenate([[0], np.cumsum(n_u)]).astype(np.int64),
        genre_share=_genre_share(n_u, shape.n_movies),
        genres=genres,
        genre_offsets=offsets,
        genre_movies=genre_movies,
        genre_prob=genre_prob,
        genre_alias=genre_alias,
    )
    n_chunks = plan.user_bounds.size - 1
    movies = np.empty(shape.n_ratings, dtype=np.int16)
    t_stage = time.perf_counter()
    for c, chunk_movies in enumerate(_map_ordered(lambda c: _sample_pairs_chunk(seed, c, plan), n_chunks)):
        r0, r1 = plan.row_offsets[plan.user_bounds[c]], plan.row_offsets[plan.user_bounds[c + 1]]
        movies[r0:r1] = chunk_movies
        prog.update(int(r1), shape.n_ratings, stage="pairs", since=t_stage, force=c == n_chunks - 1)
    _cover_all_movies(movies, shape.n_movies, _rng(seed, _S_COVER))
    return movies, plan


def _rate(
    shape: SampleShape,
    movies: np.ndarray,
    plan: _PairPlan,
    signup: np.ndarray,
    model: _TasteModel,
    layout: _RowKeys,
    seed: int,
    prog: Progress,
) -> np.ndarray:
    """Days, stars and probe flags of every row, packed into row keys (still user-major)."""
    n_u, row_offsets = plan.n_u, plan.row_offsets
    held = np.minimum(PROBE_MAX_PER_USER, n_u - 1)
    probe_p = min(1.0, PROBE_SHARE * shape.n_ratings / max(1, int(held.sum())))
    keys = np.empty(shape.n_ratings, dtype=np.int64)
    n_chunks = plan.user_bounds.size - 1

    def rate_chunk(c: int) -> np.ndarray:
        u0, u1 = int(plan.user_bounds[c]), int(plan.user_bounds[c + 1])
        r0, r1 = int(row_offsets[u0]), int(row_offsets[u1])
        rng = _rng(seed, _S_RATINGS, c)
        runs = n_u[u0:u1]
        days = _rating_days(rng, signup[u0:u1], runs)
        if u1 == shape.n_users:  # someone rates on the very last day
            days[-1] = N_DAYS - 1
        chunk_movies = movies[r0:r1].astype(np.int64)
        scores = _scores(model, np.empty(0, dtype=np.int64), (slice(u0, u1), runs), chunk_movies, rng)
        stars = _quantize(scores, model.thresholds)
        users = np.repeat(np.arange(u0, u1, dtype=np.int64), runs)
        keys[r0:r1] = layout.pack(chunk_movies, users, days * 5 + stars - 1, _probe_flags(rng, runs, probe_p))
        return np.bincount(days, minlength=N_DAYS)

    day_counts = np.zeros(N_DAYS, dtype=np.int64)
    t_stage = time.perf_counter()
    for c, counts in enumerate(_map_ordered(rate_chunk, n_chunks)):
        day_counts += counts
        prog.update(
            int(row_offsets[plan.user_bounds[c + 1]]),
            shape.n_ratings,
            stage="ratings",
            since=t_stage,
            force=c == n_chunks - 1,
        )
    _fill_empty_days(keys, layout, day_counts, row_offsets, _rng(seed, _S_DAYS))
    return keys


def _write_combined(
    out_dir: Path, keys: np.ndarray, layout: _RowKeys, movie_counts: np.ndarray, customers: np.ndarray, prog: Progress
) -> tuple[list[Path], int, np.ndarray]:
    """combined_data_1..4.txt from the movie-sorted row keys. Returns the paths, the bytes
    written and the (sorted) rows flagged for the probe."""
    n_movies = movie_counts.size
    movie_start = np.concatenate([[0], np.cumsum(movie_counts)]).astype(np.int64)
    header_words = _movie_header_words(n_movies)
    cust_word, cust_mask = _right_aligned(customers, b",")
    date_w2, date_w3, mask3 = _date_words()
    bounds = _file_split(movie_counts)
    paths = [out_dir / f"combined_data_{i}.txt" for i in range(1, 5)]
    total = int(keys.size)
    done = [0]
    lock = threading.Lock()
    t_stage = time.perf_counter()

    def write_file(i: int) -> tuple[int, list[np.ndarray]]:
        a, b = int(movie_start[bounds[i]]), int(movie_start[bounds[i + 1]])
        written, probe_rows = 0, []
        with open(paths[i], "wb") as f:
            for lo in range(a, b, _TEXT_CHUNK_ROWS):
                hi = min(b, lo + _TEXT_CHUNK_ROWS)
                k = keys[lo:hi]
                first = np.searchsorted(movie_start[:-1], lo, side="left")
                mv = np.arange(first, np.searchsorted(movie_start[:-1], hi, side="left"))
                mv = mv[movie_counts[mv] > 0]
                u = layout.user(k)
                code = layout.code(k)
                text = _format_block(
                    movie_start[mv] - lo,
                    mv,
                    header_words,
                    cust_word[u],
                    cust_mask[u],
                    [(date_w2[code], _ALL_ONES), (date_w3[code], mask3)],
                )
                f.write(memoryview(text))
                written += text.size
                probe_rows.append(lo + np.flatnonzero(k & 1))
                with lock:
                    done[0] += hi - lo
                    prog.update(done[0], total, stage="text", since=t_stage, force=done[0] == total)
        return written, probe_rows

    results = list(_map_ordered(write_file, 4))
    probe_rows = np.concatenate([r for _, rows in results for r in rows])
    return paths, sum(w for w, _ in results), probe_rows


def _write_probe(
    path: Path,
    keys: np.ndarray,
    layout: _RowKeys,
    probe_rows: np.ndarray,
    movie_counts: np.ndarray,
    customers: np.ndarray,
) -> int:
    """probe.txt: the flagged rows in file order, as ``<movie>:`` then customer ids."""
    movie_start = np.concatenate([[0], np.cumsum(movie_counts)]).astype(np.int64)
    probe_movies = np.searchsorted(movie_start, probe_rows, side="right") - 1
    first = (
        np.flatnonzero(np.concatenate([[True], probe_movies[1:] != probe_movies[:-1]]))
        if probe_rows.size
        else np.empty(0, dtype=np.int64)
    )
    cust_word, cust_mask = _right_aligned(customers, b"\n")
    users = layout.user(keys[probe_rows])
    text = _format_block(
        first, probe_movies[first], _movie_header_words(movie_counts.size), cust_word[users], cust_mask[users], []
    )
    path.write_bytes(text.tobytes())
    return int(text.size)


def _write_titles(path: Path, n_movies: int, seed: int, primary_genres: list[int] | None = None) -> int:
    """movie_titles.csv: ``id,year,title`` in latin-1, unquoted, ``NULL`` for unknown years."""
    lines = [
        f"{mid},{'NULL' if year is None else year},{title}\n"
        for mid, year, title in movie_titles(n_movies, seed, primary_genres)
    ]
    data = "".join(lines).encode("latin-1")
    path.write_bytes(data)
    return len(data)


def _write_readme(path: Path, size: str, seed: int, shape: SampleShape, n_probe: int) -> int:
    """README.txt: what the folder holds."""
    text = (
        "Synthetic data generated by movierec (`movierec generate`).\n"
        "This is NOT the Netflix Prize data: it is a made-up, deterministic sample in the same\n"
        "file layout (combined_data_1..4.txt, movie_titles.csv, probe.txt), with the same kind\n"
        "of structure (long tail of movie popularity, heavy-tailed user activity, growth over\n"
        "time, Netflix's rating shares, latent user and movie factors).\n"
        "\n"
        "Every movie has 1-3 genres from a fixed list; its taste factors are its genres' direction\n"
        "plus individual variation, and users like or dislike a few genres. Users mostly rate what\n"
        "they chose to watch: movies of their liked genres are drawn more often, of their disliked\n"
        "ones rarely. movie_genres.csv (movie_id,genre) is the planted truth, NOT a Netflix Prize\n"
        "file: `movierec ingest` loads it as optional metadata, no model reads it.\n"
        "\n"
        f"size: {size}\n"
        f"seed: {seed}\n"
        f"ratings: {shape.n_ratings}\n"
        f"users: {shape.n_users}\n"
        f"movies: {shape.n_movies}\n"
        f"probe pairs: {n_probe}\n"
        f"dates: {FIRST_DAY.isoformat()} .. {LAST_DAY.isoformat()}\n"
        "\n"
        "The same size and seed always give byte-identical files.\n"
    )
    path.write_bytes(text.encode("ascii"))
    return len(text)


def generate(size: str, out_dir: Path, seed: int = 20061002, progress: bool = True) -> GenerateSummary:
    """Write the synthetic sample of the given size (tiny | demo | full) into `out_dir`
    (created if needed): combined_data_1..4.txt, movie_titles.csv, probe.txt, README.txt.

    Same size and seed give byte-identical files. Progress goes to stderr when `progress`
    is true (never for tiny). Returns counts, files and timing.
    """
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; expected one of {', '.join(SIZES)}")
    if seed < 0:
        raise ValueError("seed must be a non-negative integer")
    t_start = time.perf_counter()
    shape = SIZES[size]
    if shape.n_movies >= 1 << _MOVIE_BITS:
        raise ValueError("too many movies")
    prog = Progress("generate", enabled=progress and size != "tiny", every=2.0)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    prog.note(f"{size}: {shape.n_ratings:,} ratings, {shape.n_users:,} users, {shape.n_movies:,} movies, seed {seed}")

    # Users, movies, taste.
    users_rng = _rng(seed, _S_USERS)
    signup = signup_days(shape.n_users, users_rng)
    n_u = user_activity(shape, signup, users_rng)
    weights = popularity_weights(shape, _rng(seed, _S_MOVIES))
    movie_genres = draw_movie_genres(shape.n_movies, _rng(seed, _S_GENRES))
    user_prefs, liked, liked_cum = draw_user_genres(shape.n_users, _rng(seed, _S_PREFS))
    genres = GenrePlan(
        movie_genres=movie_genres,
        movie_mask=np.array([genre_mask(g) for g in movie_genres], dtype=np.int32),
        liked=liked,
        liked_cum=liked_cum,
        disliked_mask=((user_prefs < 0) * (1 << np.arange(len(GENRES), dtype=np.int64))).sum(axis=1).astype(np.int32),
    )
    model = taste_model(shape.n_users, weights, genres, user_prefs, _rng(seed, _S_LATENT))
    del user_prefs
    customers = customer_ids(shape.n_users, seed)

    # Rows: (user, movie) pairs, then days, stars and probe flags, then movie-major order.
    movies, plan = _sample_pairs(shape, n_u, weights, genres, seed, prog)
    movie_counts = np.bincount(movies, minlength=shape.n_movies)
    model = dataclasses.replace(model, thresholds=_fit_thresholds(model, movies, plan.row_offsets, seed))
    layout = _RowKeys(user_bits=max(1, (shape.n_users - 1).bit_length()))
    keys = _rate(shape, movies, plan, signup, model, layout, seed, prog)
    del movies
    prog.note("sorting by movie")
    keys.sort()  # by movie, then user (sign-up order): the real files are not sorted by customer id

    # Files.
    paths, n_bytes, probe_rows = _write_combined(out_dir, keys, layout, movie_counts, customers, prog)
    probe_path, titles_path, readme_path = out_dir / "probe.txt", out_dir / "movie_titles.csv", out_dir / "README.txt"
    genres_path = out_dir / "movie_genres.csv"
    n_bytes += _write_probe(probe_path, keys, layout, probe_rows, movie_counts, customers)
    n_bytes += _write_titles(titles_path, shape.n_movies, seed, [g[0] for g in movie_genres])
    n_bytes += _write_genres(genres_path, movie_genres)
    n_bytes += _write_readme(readme_path, size, seed, shape, int(probe_rows.size))

    summary = GenerateSummary(
        size=size,
        seed=seed,
        out_dir=out_dir,
        n_users=shape.n_users,
        n_movies=shape.n_movies,
        n_ratings=shape.n_ratings,
        n_probe=int(probe_rows.size),
        files=[*paths, titles_path, genres_path, probe_path, readme_path],
        bytes_written=n_bytes,
        seconds=time.perf_counter() - t_start,
    )
    prog.note(f"done: {n_bytes / 1e9:.2f} GB in {summary.seconds:.1f}s -> {out_dir}")
    return summary
