"""The synthetic Netflix-layout sample (`movierec.generate`), checked on the tiny size.

The files are parsed here with plain Python, independently of the ingestion code.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest

from movierec.generate import _GENRE_WORDS, GENRES, SIZES, generate

SEED = 20061002
TINY = SIZES["tiny"]
RATING_LINE = re.compile(r"^\d+,[1-5],\d{4}-\d{2}-\d{2}$")
HEADER_LINE = re.compile(r"^\d+:$")
COMBINED = [f"combined_data_{i}.txt" for i in range(1, 5)]
ALL_FILES = [*COMBINED, "movie_titles.csv", "movie_genres.csv", "probe.txt", "README.txt"]


def parse_combined(folder: Path) -> tuple[list[tuple[int, int, int, str]], list[list[int]]]:
    """(movie, customer, rating, date) rows and the movie ids of each file, checking every line."""
    rows: list[tuple[int, int, int, str]] = []
    movies_per_file: list[list[int]] = []
    for name in COMBINED:
        raw = (folder / name).read_bytes()
        assert raw.endswith(b"\n") and b"\r" not in raw
        movies: list[int] = []
        movie = None
        for line in raw.decode("ascii").split("\n")[:-1]:
            if line.endswith(":"):
                assert HEADER_LINE.match(line), line
                movie = int(line[:-1])
                movies.append(movie)
            else:
                assert RATING_LINE.match(line), line
                assert movie is not None, "rating before the first header"
                customer, rating, date = line.split(",")
                rows.append((movie, int(customer), int(rating), date))
        movies_per_file.append(movies)
    return rows, movies_per_file


def parse_probe(folder: Path) -> list[tuple[int, int]]:
    pairs: list[tuple[int, int]] = []
    movie = None
    raw = (folder / "probe.txt").read_bytes()
    assert raw.endswith(b"\n")
    for line in raw.decode("ascii").split("\n")[:-1]:
        if line.endswith(":"):
            assert HEADER_LINE.match(line), line
            movie = int(line[:-1])
        else:
            assert re.match(r"^\d+$", line), line
            pairs.append((movie, int(line)))
    return pairs


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("tiny")
    summary = generate("tiny", folder, seed=SEED)
    rows, movies_per_file = parse_combined(folder)
    return folder, summary, rows, movies_per_file


def test_exact_counts(tiny):
    folder, summary, rows, _ = tiny
    assert (summary.n_ratings, summary.n_users, summary.n_movies) == (TINY.n_ratings, TINY.n_users, TINY.n_movies)
    assert len(rows) == TINY.n_ratings == 30_000
    assert len({r[1] for r in rows}) == TINY.n_users == 1_000
    assert {r[0] for r in rows} == set(range(1, TINY.n_movies + 1))
    assert sorted(p.name for p in summary.files) == sorted(ALL_FILES)
    assert sorted(p.name for p in folder.iterdir()) == sorted(ALL_FILES)


def test_quiet_for_tiny(tmp_path, capsys):
    generate("tiny", tmp_path, seed=SEED, progress=True)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_same_seed_same_bytes_other_seed_differs(tiny, tmp_path):
    folder = tiny[0]
    again = generate("tiny", tmp_path / "again", seed=SEED, progress=False).out_dir
    for name in ALL_FILES:
        assert (again / name).read_bytes() == (folder / name).read_bytes(), name
    other = generate("tiny", tmp_path / "other", seed=SEED + 1, progress=False).out_dir
    for name in COMBINED:
        assert (other / name).read_bytes() != (folder / name).read_bytes(), name


def test_movie_blocks_ascending_and_contiguous(tiny):
    _, _, rows, movies_per_file = tiny
    flat = [m for movies in movies_per_file for m in movies]
    assert flat == list(range(1, TINY.n_movies + 1))  # ascending, each movie one block
    assert all(movies_per_file)
    # Four ranges of roughly equal rating counts.
    counts = Counter(r[0] for r in rows)
    per_file = [sum(counts[m] for m in movies) for movies in movies_per_file]
    assert max(per_file) < 1.5 * min(per_file)
    # Within a block, customers are not in sorted order.
    by_movie = defaultdict(list)
    for movie, customer, _, _ in rows:
        by_movie[movie].append(customer)
    big = max(by_movie, key=lambda m: len(by_movie[m]))
    assert by_movie[big] != sorted(by_movie[big])


def test_no_duplicate_pairs_and_customer_ids(tiny):
    _, _, rows, _ = tiny
    pairs = {(r[0], r[1]) for r in rows}
    assert len(pairs) == len(rows)
    customers = {r[1] for r in rows}
    assert min(customers) >= 1 and max(customers) <= 2_649_429
    assert max(customers) - min(customers) > 1_000_000  # spread over the real id range, with gaps


def test_rating_distribution(tiny):
    _, _, rows, _ = tiny
    stars = Counter(r[2] for r in rows)
    mean = sum(s * n for s, n in stars.items()) / len(rows)
    assert 3.45 <= mean <= 3.75
    assert stars[4] > stars[5] > stars[2] > stars[1]
    assert stars[3] > stars[2]
    assert abs(stars[1] / len(rows) - 0.046) < 0.015
    assert abs(stars[4] / len(rows) - 0.336) < 0.03


def test_dates_in_range_and_growing(tiny):
    _, _, rows, _ = tiny
    dates = [r[3] for r in rows]
    for d in set(dates):
        dt.date.fromisoformat(d)  # a real calendar date
    assert min(dates) == "1999-11-11" and max(dates) == "2005-12-31"
    years = Counter(d[:4] for d in dates)
    assert years["2004"] + years["2005"] > 0.6 * len(rows)
    assert years["2001"] < years["2002"] < years["2003"] < years["2004"] < years["2005"]
    # New users per year grow too.
    first = defaultdict(lambda: "9999")
    for _, customer, _, d in rows:
        first[customer] = min(first[customer], d)
    signups = Counter(d[:4] for d in first.values())
    assert signups["2001"] < signups["2003"] < signups["2005"]


def test_long_tail_and_heavy_users(tiny):
    _, _, rows, _ = tiny
    per_movie = sorted(Counter(r[0] for r in rows).values(), reverse=True)
    covered, k = 0, 0
    while covered < len(rows) / 2:
        covered += per_movie[k]
        k += 1
    assert k / TINY.n_movies <= 0.25  # tiny is too dense for the 2-8% of the bigger sizes
    assert np.median(per_movie) < 0.75 * np.mean(per_movie)
    per_user = list(Counter(r[1] for r in rows).values())
    assert np.median(per_user) < 0.7 * np.mean(per_user)
    assert max(per_user) > 4 * np.mean(per_user)
    assert min(per_user) >= 1


def test_probe_is_recent_subset(tiny):
    folder, summary, rows, _ = tiny
    probe = parse_probe(folder)
    assert len(probe) == summary.n_probe
    assert len(set(probe)) == len(probe)
    movies = [m for m, _ in probe]
    assert movies == sorted(movies)
    date_of = {(r[0], r[1]): r[3] for r in rows}
    assert all(pair in date_of for pair in probe)  # probe pairs are rating pairs
    assert 0.008 < len(probe) / len(rows) < 0.03
    user_dates = defaultdict(list)
    for _, customer, _, d in rows:
        user_dates[customer].append(d)
    probe_by_user = defaultdict(list)
    for movie, customer in probe:
        probe_by_user[customer].append(date_of[(movie, customer)])
    for customer, dates in probe_by_user.items():
        assert len(dates) <= 9
        assert len(dates) < len(user_dates[customer])  # never all of a user's ratings
        later = sum(d > min(dates) for d in user_dates[customer])
        assert later <= 8  # among the user's 9 most recent ratings


def test_movie_titles(tiny):
    folder = tiny[0]
    raw = (folder / "movie_titles.csv").read_bytes()
    assert raw.endswith(b"\n") and b"\r" not in raw
    lines = raw.decode("latin-1").split("\n")[:-1]
    assert len(lines) == TINY.n_movies
    parsed = [line.split(",", 2) for line in lines]
    assert [int(p[0]) for p in parsed] == list(range(1, TINY.n_movies + 1))
    years = [p[1] for p in parsed]
    assert "NULL" in years
    assert all(1915 <= int(y) <= 2005 for y in years if y != "NULL")
    titles = [p[2] for p in parsed]
    assert any("," in t for t in titles)
    assert any(any(ord(c) > 127 for c in t) for t in titles)
    assert all(t and t == t.strip() and not t.startswith('"') for t in titles)
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # latin-1 bytes, like the real file


def test_readme(tiny):
    text = (tiny[0] / "README.txt").read_text(encoding="ascii")
    assert "synthetic" in text.lower() and "movierec" in text
    assert f"seed: {SEED}" in text and "size: tiny" in text and "ratings: 30000" in text


def test_unknown_size(tmp_path):
    with pytest.raises(ValueError):
        generate("huge", tmp_path)


def test_factorization_beats_biases(tiny):
    """The latent taste structure is there: a small biased ALS beats the bias baseline."""
    _, _, rows, _ = tiny
    _, u = np.unique([r[1] for r in rows], return_inverse=True)
    _, m = np.unique([r[0] for r in rows], return_inverse=True)
    y = np.array([r[2] for r in rows], dtype=float)
    n_u, n_m, k = u.max() + 1, m.max() + 1, 8
    test = np.random.default_rng(0).random(y.size) < 0.1
    tu, tm, ty = u[~test], m[~test], y[~test]
    mu = ty.mean()
    bu, bi = np.zeros(n_u), np.zeros(n_m)
    for _ in range(10):
        bi = np.bincount(tm, ty - mu - bu[tu], n_m) / (5.0 + np.bincount(tm, minlength=n_m))
        bu = np.bincount(tu, ty - mu - bi[tm], n_u) / (5.0 + np.bincount(tu, minlength=n_u))

    def rmse(pred: np.ndarray) -> float:
        return float(np.sqrt(np.mean((y[test] - np.clip(pred, 1, 5)) ** 2)))

    baseline = rmse(mu + bu[u[test]] + bi[m[test]])
    rng = np.random.default_rng(0)
    p, q = 0.1 * rng.standard_normal((n_u, k)), 0.1 * rng.standard_normal((n_m, k))
    by_user = [np.flatnonzero(tu == a) for a in range(n_u)]
    by_movie = [np.flatnonzero(tm == b) for b in range(n_m)]
    eye, lam = np.eye(k + 1), 0.1
    for _ in range(8):
        x = np.hstack([q, np.ones((n_m, 1))])
        for a, idx in enumerate(by_user):
            xa = x[tm[idx]]
            sol = np.linalg.solve(xa.T @ xa + lam * (idx.size + 1) * eye, xa.T @ (ty[idx] - mu - bi[tm[idx]]))
            p[a], bu[a] = sol[:k], sol[k]
        x = np.hstack([p, np.ones((n_u, 1))])
        for b, idx in enumerate(by_movie):
            xb = x[tu[idx]]
            sol = np.linalg.solve(xb.T @ xb + lam * (idx.size + 1) * eye, xb.T @ (ty[idx] - mu - bu[tu[idx]]))
            q[b], bi[b] = sol[:k], sol[k]
    factorized = rmse(mu + bu[u[test]] + bi[m[test]] + (p[u[test]] * q[m[test]]).sum(axis=1))
    assert factorized < 0.97 * baseline


def read_genres(folder: Path) -> dict[int, list[str]]:
    lines = (folder / "movie_genres.csv").read_text(encoding="ascii").split("\n")
    assert lines[0] == "movie_id,genre" and lines[-1] == ""
    genres: dict[int, list[str]] = defaultdict(list)
    for line in lines[1:-1]:
        movie, genre = line.split(",")
        genres[int(movie)].append(genre)
    return genres


def test_movie_genres_file(tiny):
    genres = read_genres(tiny[0])
    assert sorted(genres) == list(range(1, TINY.n_movies + 1))
    assert all(1 <= len(g) <= 3 and len(set(g)) == len(g) for g in genres.values())
    assert all(name in GENRES for g in genres.values() for name in g)
    counts = Counter(len(g) for g in genres.values())
    assert counts[1] > counts[3] > 0 and counts[2] > counts[3]
    firsts = Counter(g[0] for g in genres.values())
    assert firsts.most_common(1)[0][0] == "Drama" and len(firsts) >= 12


def test_titles_tell_the_genre(tiny):
    """A person (here: a word count) can guess a movie's genre from its title."""
    folder = tiny[0]
    genres = read_genres(folder)
    titles = {
        int(line.split(",", 2)[0]): line.split(",", 2)[2]
        for line in (folder / "movie_titles.csv").read_bytes().decode("latin-1").split("\n")[:-1]
    }
    right = guessed = 0
    for movie, title in titles.items():
        words = {
            genre: sum(word in title for word in adjectives + nouns)
            for genre, (adjectives, nouns) in _GENRE_WORDS.items()
        }
        best = max(words.values())
        if best == 0:
            continue
        guessed += 1
        right += any(words[g] == best for g in genres[movie])
    assert guessed > 0.8 * len(titles)
    assert right > 0.75 * guessed


def test_users_rate_mostly_their_genres(tiny):
    """Missing not at random: a user's ratings concentrate on a few genres far more than the
    same ratings dealt to users at random would."""
    _, _, rows, _ = tiny
    genres = read_genres(tiny[0])

    def top_genre_share(pairs) -> float:
        by_user: dict[int, Counter] = defaultdict(Counter)
        totals: Counter = Counter()
        for movie, customer in pairs:
            by_user[customer].update(genres[movie])
            totals[customer] += 1
        shares = [max(c.values()) / totals[u] for u, c in by_user.items() if totals[u] >= 20]
        return float(np.mean(shares))

    pairs = [(r[0], r[1]) for r in rows]
    shuffled_movies = np.random.default_rng(0).permutation([m for m, _ in pairs])
    real, chance = top_genre_share(pairs), top_genre_share(list(zip(shuffled_movies.tolist(), [c for _, c in pairs])))
    assert real > chance + 0.025, (real, chance)


def test_liked_genres_are_rated_higher(tiny):
    """Taste follows genres: a user's ratings of movies in the genre they rate most are higher than
    their other ratings."""
    _, _, rows, _ = tiny
    genres = read_genres(tiny[0])
    by_user: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for movie, customer, rating, _ in rows:
        by_user[customer].append((movie, rating))
    gaps = []
    for rated in by_user.values():
        if len(rated) < 30:
            continue
        top = Counter(g for movie, _ in rated for g in genres[movie]).most_common(1)[0][0]
        inside = [r for m, r in rated if top in genres[m]]
        outside = [r for m, r in rated if top not in genres[m]]
        if len(inside) >= 5 and len(outside) >= 5:
            gaps.append(np.mean(inside) - np.mean(outside))
    assert len(gaps) > 100
    assert np.mean(gaps) > 0.2
