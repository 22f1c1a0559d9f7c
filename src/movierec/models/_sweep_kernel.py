"""The explicit alternating fits' half-sweep sums as compiled kernels (numba), over the CSR of one side.

`RowBatches.sweep` (movierec.models.rows) updates every row of one side (users or movies) of
`BiasedMF`, `BayesianMF` and `BayesianTimeSVDpp` from its normal equations: for row u with
ratings I_u, X^T X and X^T t where x_i = [1, q_i] (the other side's factors) and t_i = r_ui - mu
- b_i (the other side's bias). It used to gather each batch padded to its longest row, (batch,
width, k+1) float32, and form both with stacked float32 GEMMs; at 100M ratings that gather and
its padding were most of an epoch. `normal_equations` forms them straight from the CSR instead,
and `squared_errors` the training errors of the new rows, neither materializing the gather.

Built on numba's `njit` (compiled on first call, or by `make setup`'s warm-up, and cached in
`__pycache__`), one thread per call, without Python's global lock (`nogil`): `BatchRunner` maps
the batches over threads, and dbt's other fit keeps its core meanwhile. Float32 factors and
targets, float64 products and sums. Each batch's sums are its own, so the results do not depend
on the thread count.
"""

from __future__ import annotations

import numba
import numpy as np

# ratings per block of `normal_equations`: the block's (k + 2, padded to 4) x CHUNK float64 buffer
# (24 KB at k = 21) stays in the L1 cache while the (k + 1)(k + 2)/2 dot products read it
CHUNK = 128


@numba.njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def normal_equations(indptr, other, value, design, rows, gram, rhs, kept) -> None:
    """For each b, the normal equations of row u = rows[b] into gram[b] ((d, d), X^T X) and
    rhs[b] ((d,), X^T t), where for each rating e in [indptr[u], indptr[u+1]), with o =
    other[e]: x_e = [1, design[o, 1:]] and t_e = value[e] - design[o, 0]. `design` is the other
    side's (n_other, d) [bias, factors]. A row without ratings gets zeros.

    With `kept` of (the rows' ratings, d + 1) float32, also write there each rating's gathered
    [design[o, 0], design[o, 1:], t] in the order of `rows` and of their ratings, so that
    `squared_errors` reads them in order instead of gathering them again from all over `design`
    (with 480K users' factors, a second gather cost a third of the movies' half-sweep); an empty
    `kept` (0 rows) keeps nothing.

    The ratings are taken CHUNK at a time into a buffer laid out by column ([1, factors, t],
    zero-padded to a multiple of 4 columns, x ratings; float64; t is rounded to float32 like
    the former numpy path). Then the upper triangle of the
    augmented [X, t]^T [X, t] (rhs being its last column) adds the block's dot products, 2 x 4
    of them at a time (tiles on the diagonal compute a few entries below it too): 8 running
    sums held in registers over 6 columns read, where one dot product at a time reads 2
    columns per sum (measured in a micro-benchmark: 1.2x to 2.6x faster than one at a time).
    The triangle is mirrored at the end. Float64 products and sums; the only fast-math flags,
    `reassoc` and `contract`, let the sums run in SIMD partial sums and fused multiply-adds:
    they round in another order than written, the same on every run on a machine."""
    d = design.shape[1]
    m = d + 1  # [1, factors, t]
    padded = (m + 3) // 4 * 4
    buf = np.zeros((padded, CHUNK))  # the padding columns stay zero
    buf[0, :] = 1.0  # the bias column, never overwritten
    acc = np.empty((padded, padded))
    block = np.empty((CHUNK, m), dtype=np.float32)  # [bias, factors, t] of the block's ratings
    keep = kept.shape[0] > 0
    place = 0  # where the next rating goes in `kept`
    for b in range(rows.shape[0]):
        u = rows[b]
        hi = indptr[u + 1]
        acc[:, :] = 0.0
        start = indptr[u]
        while start < hi:
            n = min(CHUNK, hi - start)
            # the block's design rows copied as they are (contiguous reads and writes), then
            # transposed into `buf` a column at a time: writing `buf` by column straight from the
            # design rows scatters every rating's writes over k + 1 cache lines (about twice the
            # gather's time at k = 50, measured)
            for e in range(n):
                h = design[other[start + e]]
                for j in range(d):
                    block[e, j] = h[j]
                block[e, d] = value[start + e] - h[0]
            for j in range(1, m):
                column = buf[j]
                for e in range(n):
                    column[e] = block[e, j]
            if keep:
                for e in range(n):
                    for j in range(m):
                        kept[place + e, j] = block[e, j]
                place += n
            for i0 in range(0, d, 2):
                a0 = buf[i0]
                a1 = buf[i0 + 1]
                for j0 in range(i0 // 4 * 4, padded, 4):
                    b0 = buf[j0]
                    b1 = buf[j0 + 1]
                    b2 = buf[j0 + 2]
                    b3 = buf[j0 + 3]
                    s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = 0.0
                    for e in range(n):
                        x0 = a0[e]
                        x1 = a1[e]
                        y0 = b0[e]
                        y1 = b1[e]
                        y2 = b2[e]
                        y3 = b3[e]
                        s00 += x0 * y0
                        s01 += x0 * y1
                        s02 += x0 * y2
                        s03 += x0 * y3
                        s10 += x1 * y0
                        s11 += x1 * y1
                        s12 += x1 * y2
                        s13 += x1 * y3
                    acc[i0, j0] += s00
                    acc[i0, j0 + 1] += s01
                    acc[i0, j0 + 2] += s02
                    acc[i0, j0 + 3] += s03
                    acc[i0 + 1, j0] += s10
                    acc[i0 + 1, j0 + 1] += s11
                    acc[i0 + 1, j0 + 2] += s12
                    acc[i0 + 1, j0 + 3] += s13
            start += n
        for i in range(d):
            for j in range(i, d):
                gram[b, i, j] = acc[i, j]
                gram[b, j, i] = acc[i, j]
            rhs[b, i] = acc[i, d]


@numba.njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def squared_errors(indptr, value, rows, kept, new, mu: float, low: float, high: float):
    """(unclipped, clipped) sums of squared training errors of the rows rows[b], whose new
    [bias, factors] are new[b], from `kept` as `normal_equations` left it (each rating's other
    side's [bias, factors, t], in order): for a rating e of row u, with h its kept other side's
    [bias, factors], the model's r - mu is f = new[b, 0] + h[0] + new[b, 1:] . h[1:] and the
    rating's is value[e], so the errors are value[e] - f and clip(mu + f, low, high) - (mu +
    value[e]). Float64 sums."""
    d = new.shape[1]
    sse = 0.0
    clipped = 0.0
    place = 0
    for b in range(rows.shape[0]):
        u = rows[b]
        w = new[b]
        w0 = np.float64(w[0])
        for e in range(indptr[u], indptr[u + 1]):
            h = kept[place]
            place += 1
            s = 0.0
            for j in range(1, d):
                s += np.float64(w[j]) * np.float64(h[j])
            f = w0 + np.float64(h[0]) + s
            v = np.float64(value[e])
            residual = v - f
            sse += residual * residual
            prediction = min(max(mu + f, low), high)
            c = prediction - (mu + v)
            clipped += c * c
    return sse, clipped
