"""A deterministic synthetic dataset in the exact Netflix Prize file layout.

`generate(size, out_dir, seed)` writes the files the Kaggle copy of the Netflix Prize
data ships with, so that everything downstream (ingestion, dbt models, recommenders)
can run without the real data:

* ``combined_data_1.txt`` .. ``combined_data_4.txt``: ``<movie_id>:`` header lines, each
  followed by one ``<customer_id>,<rating>,<YYYY-MM-DD>`` line per rating; movies ascending,
  split into four contiguous movie ranges with about equal rating counts;
* ``movie_titles.csv``: ``movie_id,year,title``, latin-1, unquoted titles (some with commas
  and accented letters), some ``NULL`` years;
* ``probe.txt``: ``<movie_id>:`` then one ``<customer_id>`` per line, a subset of the rating
  pairs drawn from each user's most recent ratings;
* ``README.txt``: what this is, the seed, the size and the counts;
* ``movie_genres.csv``: ``movie_id,genre``, the planted genres. Not a Netflix Prize file: it
  is the truth to check what the models found (ingestion loads it as optional metadata).

The sample is built to show the properties the real data is known for: a long tail of
movie popularity, heavy-tailed user activity, rating volume and sign-ups growing over
1999-11-11 .. 2005-12-31, Netflix's marginal rating shares (more 4s than 5s, mean about 3.6)
and a latent taste structure (ratings are global mean + user bias + movie bias + user
factors . movie factors + noise, quantized to 1..5), so that matrix factorization
measurably beats a bias-only baseline.

The taste structure is named: every movie has 1-3 of 18 genres (GENRES), its factors are the
direction of its genres plus individual variation, its title uses its first genre's words, and
every user likes 1-3 genres and dislikes 0-2 (plus individual variation). Which movies a user
rates is not independent of taste (missing not at random): part of each user's draws go to
their liked genres, and most draws of a disliked genre are turned down, so top-N models that
learn taste beat popularity, as on real data.

It is built on numpy only. Everything is vectorized and processed in chunks: (user, movie)
pairs are drawn per user from movie popularity weights with an alias table (the whole
catalogue, or one liked genre's movies), de-duplicated
through sorted int64 keys and topped up to exact per-user counts; dates are per-user order
statistics, so the most recent ratings of a user are known without sorting; the text is
formatted as fixed-width 32-byte rows of four uint64 words (header, customer id, rating and
date) and a boolean mask that drops the padding. Every random draw comes from
``numpy.random.default_rng([seed, stream, chunk])`` with chunks defined by the data, so the
output is byte-identical for the same size and seed whatever the number of threads.

The code is split by stage: shapes (sizes, constants, shared helpers), users, genres, pairs,
taste, dates, text, titles, and build (the whole run).
"""

from movierec.generate.build import generate
from movierec.generate.genres import GENRES
from movierec.generate.shapes import SIZES, GenerateSummary, SampleShape
from movierec.generate.titles import _GENRE_WORDS

__all__ = ["SampleShape", "SIZES", "GenerateSummary", "generate", "GENRES", "_GENRE_WORDS"]
