"""iALS's conjugate-gradient half-sweep as one compiled kernel (numba), over the CSR of one side.

Built on numba's `njit` (compiled on first call, or by `make setup`'s warm-up, and cached in
`__pycache__`), one thread, without Python's global lock (`nogil`): dbt runs two fits at once as
threads of one process, and the other fit keeps its core while this one runs. `ImplicitALS` calls it through `_Rows.solve_cg`
(movierec.models.topn), which computes the k x k Gramian with BLAS first.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, fastmath={"reassoc", "contract"})
def _apply(n: int, x, base, reg_u: float, v, target: float, out) -> None:
    """out = A_u v - target * X_u^T 1, with A_u v = sum_{e < n} x_e (x_e . v) + base v + reg_u v,
    the row's ratings being the first n rows of `x` (the other side's factors gathered by
    `cg_rows`, float32). Float64 sums. The only fast-math flags are `reassoc`, so that each dot
    product x_e . v runs in SIMD partial sums, and `contract` (fused multiply-adds): the sums
    round in another order than written, the same on every run on a machine; no assumption about
    NaN or infinity."""
    k = v.shape[0]
    for j in range(k):  # base v + reg_u v; base is symmetric, so base v = sum_j v_j base[j, :]
        out[j] = reg_u * v[j]
    for j in range(k):
        vj = v[j]
        for m in range(k):
            out[m] += vj * base[j, m]
    # eight ratings at a time: eight independent dot products, then one pass of `out` for all
    # eight (a rating at a time, each dot product waits on its adds and each update of `out` on
    # the one before: about twice the time, measured on the medium sample)
    e = 0
    while e + 8 <= n:
        h0 = x[e]
        h1 = x[e + 1]
        h2 = x[e + 2]
        h3 = x[e + 3]
        h4 = x[e + 4]
        h5 = x[e + 5]
        h6 = x[e + 6]
        h7 = x[e + 7]
        s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
        for j in range(k):
            vj = v[j]
            s0 += h0[j] * vj
            s1 += h1[j] * vj
            s2 += h2[j] * vj
            s3 += h3[j] * vj
            s4 += h4[j] * vj
            s5 += h5[j] * vj
            s6 += h6[j] * vj
            s7 += h7[j] * vj
        s0 -= target
        s1 -= target
        s2 -= target
        s3 -= target
        s4 -= target
        s5 -= target
        s6 -= target
        s7 -= target
        for j in range(k):
            out[j] += ((s0 * h0[j] + s1 * h1[j]) + (s2 * h2[j] + s3 * h3[j])) + (
                (s4 * h4[j] + s5 * h5[j]) + (s6 * h6[j] + s7 * h7[j])
            )
        e += 8
    for tail in range(e, n):  # the last n % 8 ratings
        h = x[tail]
        s = 0.0
        for j in range(k):
            s += h[j] * v[j]
        d = s - target
        for j in range(k):
            out[j] += d * h[j]


@numba.njit(cache=True, nogil=True)
def cg_rows(indptr, other, design, base, reg, out, steps: int) -> None:
    """Each row's iALS system A_u w = b_u, solved approximately by `steps` conjugate-gradient
    steps from out[u] (the row's previous factors), written back to out[u]:

        A_u = sum_{i in I_u} h_i h_i^T + base + reg[u] I,   b_u = sum_{i in I_u} h_i,

    where I_u = other[indptr[u]:indptr[u+1]] indexes the rows h_i of `design` (n_other x k,
    float32) and base = alpha H^T H (k x k, float64). A_u is never formed: a step applies it to a
    vector, (ratings + k) x k per row. From w = out[u]: r = b - A w, p = r; then per step
    a = r.r / p.A p (0 where p.A p <= 0), w += a p, r -= a A p, p = r + (r_new.r_new / r.r) p
    (0 where r.r <= 0). A row without ratings steps towards 0 (b = 0). The vectors and sums are
    float64. Each row's h_i are first copied into one buffer (as long as the longest row), so
    the 1 + steps passes read them in order. Rows are independent; one thread."""
    n_rows, k = out.shape
    longest = 0
    for u in range(n_rows):
        longest = max(longest, indptr[u + 1] - indptr[u])
    x = np.empty((longest, k), dtype=design.dtype)
    w = np.empty(k)
    r = np.empty(k)
    p = np.empty(k)
    ap = np.empty(k)
    for u in range(n_rows):
        lo = indptr[u]
        n = indptr[u + 1] - lo
        # the row's factors, gathered once: the 1 + steps passes below then read them in order
        # from the cache, not from all over `design` (at 100M ratings the movies' half-sweep
        # reads 96 MB of user factors: gathered once, 13 s a half-sweep against 23 s)
        for e in range(n):
            h = design[other[lo + e]]
            for j in range(k):
                x[e, j] = h[j]
        reg_u = reg[u]
        for j in range(k):
            w[j] = out[u, j]
        _apply(n, x, base, reg_u, w, 1.0, ap)  # A w - b in one pass over the ratings
        rs_old = 0.0
        for j in range(k):
            r[j] = -ap[j]
            p[j] = r[j]
            rs_old += r[j] * r[j]
        for _ in range(steps):
            _apply(n, x, base, reg_u, p, 0.0, ap)
            curvature = 0.0
            for j in range(k):
                curvature += p[j] * ap[j]
            step = rs_old / curvature if curvature > 0.0 else 0.0
            rs_new = 0.0
            for j in range(k):
                w[j] += step * p[j]
                r[j] -= step * ap[j]
                rs_new += r[j] * r[j]
            beta = rs_new / rs_old if rs_old > 0.0 else 0.0
            for j in range(k):
                p[j] = r[j] + beta * p[j]
            rs_old = rs_new
        for j in range(k):
            out[u, j] = w[j]
