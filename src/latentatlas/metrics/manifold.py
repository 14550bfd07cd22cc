"""k-nearest-neighbour manifold metrics of Naeem et al. 2020 (precision, recall, density,
coverage), computed in bounded-memory blocks with results identical to the direct computation.

Definitions (as in the reference ``prdc`` package, clovaai/generative-evaluation-prdc): with
``d`` the Euclidean distance, ``r_i`` the distance from real point i to its k-th nearest other
real point (the (k+1)-th smallest distance, self included at index 0) and ``f_j`` the same among
the fake points,

- precision = share of fake points j with ``d(real_i, fake_j) < r_i`` for some i,
- recall    = share of real points i with ``d(real_i, fake_j) < f_j`` for some j,
- density   = (1/k) * mean over fake j of ``#{i : d(real_i, fake_j) < r_i}``,
- coverage  = share of real points i with ``min_j d(real_i, fake_j) < r_i``.

How it stays fast and exact
---------------------------
Distances are never stored as an n x m matrix: rows are processed in blocks (``block_size``
rows, column tiles when a block would exceed ``max_block_elements``). Each block is screened
with one float32 matrix product that yields *certified bounds* on the exact squared distances
``s_ij = sum_k (x_ik - y_jk)^2`` (float64, the direct computation): ``g_ij <= s_ij <=
g_ij + w_i + w_j`` where ``w`` follows from a worst-case rounding analysis of the float32 product
(see :class:`_Screen`). Almost every comparison is decided by the bounds; the few pairs within
rounding distance of a threshold (and every pair that decides a k-NN radius) are recomputed
exactly in float64. Ties on a ball's boundary therefore resolve exactly like the direct
computation (strict ``<`` as in ``prdc``; ``inclusive=True`` gives ``<=``).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext

import numpy as np
from threadpoolctl import threadpool_limits

from latentatlas.core.validation import check_points, check_same_dim

_EPS64 = 2.0**-53
# Candidate pairs handled at once (each costs ~40 bytes of index/bound arrays).
_CHUNK_PAIRS = 2**20
# Float64 elements per exact-recheck batch (the (pairs, N) difference array).
_EXACT_ELEMENTS = 2**20


class _Screen:
    """Certified lower/upper bounds on exact squared distances from one low-precision product.

    Both sets are shifted by a common centre (distances do not change, norms shrink, so the
    rounding bound tightens) and rounded to the screening dtype; the augmented rows
    ``a_i = [-2 x_i, (1-C) |x_i|^2, 1]`` and ``b_j = [y_j, 1, (1-C) |y_j|^2]`` make one GEMM
    return ``g_ij = s_ij - C (|x_i|^2 + |y_j|^2)`` up to rounding. With C at 1.5x the worst-case
    relative error of that computation (GEMM error gamma_{N+2} = (N+2)u/(1-(N+2)u) for any
    summation order, plus rounding the inputs and the norms, plus the float64 direct
    computation's own rounding), every rounding error is below ``C (|x_i|^2 + |y_j|^2) / 1.5``,
    hence ``g_ij <= s_ij <= g_ij + 2C (|x_i|^2 + |y_j|^2)``.
    """

    def __init__(self, X: np.ndarray, Y: np.ndarray, centre: np.ndarray) -> None:
        N = X.shape[1]
        A64 = X - centre
        B64 = Y - centre
        scale = max(float(np.abs(A64).max()), float(np.abs(B64).max()))
        # float32 unless its range or precision cannot hold the problem (then float64 bounds).
        use32 = (N + 2) * 2.0**-24 < 0.01 and (scale == 0.0 or 1e-15 < scale < 1e15)
        self.dtype = np.float32 if use32 else np.float64
        u = 2.0**-24 if use32 else _EPS64
        terms = N + 2
        gamma = terms * u / (1.0 - terms * u)
        self.C = 1.5 * (2.01 * gamma + 6.0 * u + 4.0 * (N + 3) * _EPS64)
        self.A = self._augment(A64, first=True)
        self.B = self._augment(B64, first=False)
        self.wa = 2.0 * self.C * self._na
        self.wb = 2.0 * self.C * self._nb

    def _augment(self, M64: np.ndarray, first: bool) -> np.ndarray:
        n, N = M64.shape
        M = M64.astype(self.dtype)
        norms = np.einsum("ij,ij->i", M, M, dtype=np.float64)  # of the rounded vectors
        out = np.empty((n, N + 2), dtype=self.dtype)
        if first:
            out[:, :N] = -2.0 * M  # exact: a power-of-two scaling
            out[:, N] = (1.0 - self.C) * norms
            out[:, N + 1] = 1.0
            self._na = norms
        else:
            out[:, :N] = M
            out[:, N] = 1.0
            out[:, N + 1] = (1.0 - self.C) * norms
            self._nb = norms
        return out

    def product(self, rows: slice, cols: slice | np.ndarray) -> np.ndarray:
        """Lower bounds ``g`` for the block ``rows x cols``, shape (len(rows), len(cols))."""
        return self.A[rows] @ self.B[cols].T


def _up(T: np.ndarray, dtype) -> np.ndarray:
    """Thresholds rounded up into ``dtype`` (so ``g <= T`` implies ``g <= _up(T)``)."""
    Tc = T.astype(dtype)
    return np.where(Tc < T, np.nextafter(Tc, dtype(np.inf)), Tc)


def _exact_sq(X: np.ndarray, Y: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Direct float64 squared distances ``sum((X[rows] - Y[cols])**2, axis=-1)``, in batches.

    The same expression a direct (n, m, N) computation evaluates pair by pair, so values, and
    ties between them, agree bit for bit.
    """
    out = np.empty(len(rows))
    step = max(1, _EXACT_ELEMENTS // X.shape[1])
    for s in range(0, len(rows), step):
        D = X[rows[s : s + step]] - Y[cols[s : s + step]]
        out[s : s + step] = (D**2).sum(axis=-1)
    return out


def _group_order(rows: np.ndarray, values: np.ndarray, n_rows: int):
    """Sort candidate pairs by (row, value); return order, sorted rows/values and row starts."""
    order = np.lexsort((values, rows))
    counts = np.bincount(rows, minlength=n_rows)
    starts = np.cumsum(counts) - counts
    return order, rows[order], values[order], counts, starts


def _group_kth(rows: np.ndarray, values: np.ndarray, k: int, n_rows: int) -> np.ndarray:
    """Per row, the k-th smallest (0-based) of its values; inf where a row has <= k values."""
    _, _, v, counts, starts = _group_order(rows, values, n_rows)
    out = np.full(n_rows, np.inf)
    ok = counts > k
    out[ok] = v[starts[ok] + k]
    return out


def _merge_smallest(best: np.ndarray, rows: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Merge new (row, value) pairs into ``best`` (n_rows, L), the sorted L smallest per row."""
    n_rows, L = best.shape
    _, r, v, _, starts = _group_order(rows, values, n_rows)
    rank = np.arange(len(r)) - starts[r]
    sel = rank < L
    pad = np.full((n_rows, L), np.inf)
    pad[r[sel], rank[sel]] = v[sel]
    return np.sort(np.concatenate([best, pad], axis=1), axis=1)[:, :L]


def _nonzero(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.nonzero`` for a sparse C-contiguous 2-D bool mask, ~8x faster: scan it as 64-bit
    words, then look only inside the non-zero words."""
    flat = mask.reshape(-1)
    n8 = flat.size - flat.size % 8
    words = np.flatnonzero(flat[:n8].view(np.uint64))
    idx = (words[:, None] * 8 + np.arange(8)).ravel()
    idx = np.concatenate([idx[flat[idx]], n8 + np.flatnonzero(flat[n8:])])
    return np.divmod(idx, mask.shape[1])


def _row_chunks(mask: np.ndarray, cap: int):
    """Row ranges of ``mask`` holding at most ~``cap`` True entries each (>= 1 row)."""
    if np.count_nonzero(mask) <= cap:
        yield 0, len(mask)
        return
    cum = np.cumsum(np.count_nonzero(mask, axis=1))
    start = 0
    while start < len(mask):
        base = cum[start - 1] if start else 0
        stop = max(int(np.searchsorted(cum, base + cap, side="right")), start + 1)
        yield start, stop
        start = stop


def kth_neighbour_sq(
    X: np.ndarray,
    k: int,
    block_size: int = 1024,
    max_block_elements: int = 2**24,
    n_jobs: int = 1,
) -> np.ndarray:
    """Exact squared distance from each point to its k-th nearest other point.

    The (k+1)-th smallest of ``s_ij = sum((X[i] - X[j])**2)`` over all j, self (0) included, as
    ``np.partition(S, k, axis=1)[:, k]`` on the full matrix would give. Only the upper block
    triangle of S is screened (S is symmetric, bit for bit): a block of rows I against columns
    j >= start of I serves the rows of I directly and the later rows j through its transpose.

    Parameters
    ----------
    X : ndarray, shape (n, N), float64, n > k
    n_jobs : int
        Worker threads (row blocks are dealt out round-robin; each keeps its own best lists,
        merged at the end).

    Returns
    -------
    ndarray, shape (n,)
    """
    n = len(X)
    scr = _Screen(X, X, X.mean(axis=0))
    # An upper bound on each row's k-th value from an evenly spread subset of columns (k+1
    # points at most this far away exist); about (k+1) * n / |subset| columns pass it.
    n_sub = min(n, max(32 * (k + 1), n // 8))
    sub = np.unique(np.linspace(0, n - 1, n_sub).round().astype(np.int64))
    wb_sub_max = float(scr.wb[sub].max())
    t = np.empty(n)
    b = max(1, min(block_size, n))
    blocks = [slice(r0, min(r0 + b, n)) for r0 in range(0, n, b)]

    def upper_bounds(_, rs: slice) -> None:
        # Upper bounds g + wa_i + wb_j <= g + wa_i + max(wb): partition the low-precision block
        # itself (cheaper than a float64 copy), then add the row's band.
        g_sub = scr.product(rs, sub)
        t[rs] = np.partition(g_sub, k, axis=1)[:, k].astype(np.float64) + scr.wa[rs] + wb_sub_max

    def scan(best: np.ndarray, rs: slice) -> None:
        c_step = max(1, max_block_elements // (rs.stop - rs.start))
        for c0 in range(rs.start, n, c_step):
            cs = slice(c0, min(c0 + c_step, n))
            g = scr.product(rs, cs)
            thr = _up(np.minimum(t, best[:, k]), scr.dtype)
            # Rows of I against these columns.
            possible = g <= thr[rs, None]
            for rows, cols, gv, ub in _candidates(possible, g, scr, rs, cs):
                _update_best(X, best, t, rows, cols, gv, ub)
            # Later rows j (columns here beyond I) against the rows of I, via the transpose.
            off = max(0, rs.stop - cs.start)
            if off < cs.stop - cs.start:
                g_t = g[:, off:]
                c_t = slice(cs.start + off, cs.stop)
                possible = g_t <= thr[None, c_t]
                for cols, rows, gv, ub in _candidates(possible, g_t, scr, rs, c_t):
                    _update_best(X, best, t, rows, cols, gv, ub)

    _parallel(blocks, n_jobs, lambda: None, upper_bounds)
    # Per worker: the sorted k+1 smallest exact values it has found for every row. Each pair is
    # screened by exactly one worker, so merging the lists gives every row's k+1 smallest.
    bests = _parallel(blocks, n_jobs, lambda: np.full((n, k + 1), np.inf), scan)
    best = bests[0] if len(bests) == 1 else np.sort(np.concatenate(bests, axis=1), axis=1)
    return best[:, k]


def _parallel(tasks: list, n_jobs: int, make_state, run) -> list:
    """``run(state, task)`` for every task on ``n_jobs`` threads; worker w takes tasks w,
    w + n_jobs, ... (interleaved, so blocks of a shrinking triangle balance) with its own
    ``state = make_state()``. Returns the states. numpy releases the GIL in the heavy steps."""
    n_jobs = max(1, min(n_jobs, len(tasks)))
    states = [make_state() for _ in range(n_jobs)]
    if n_jobs == 1:
        for task in tasks:
            run(states[0], task)
        return states

    def work(w: int) -> None:
        for task in tasks[w::n_jobs]:
            run(states[w], task)

    with ThreadPoolExecutor(n_jobs) as pool:
        list(pool.map(work, range(n_jobs)))  # list(): re-raise a worker's exception here
    return states


def _update_best(
    X: np.ndarray,
    best: np.ndarray,
    t: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    g: np.ndarray,
    ub: np.ndarray,
) -> None:
    """Fold candidate neighbours (rows[p] -> cols[p], bounds g <= s <= ub) into ``best``."""
    k = best.shape[1] - 1
    uniq, inv = np.unique(rows, return_inverse=True)
    # A row with k+1 candidates whose upper bounds are <= t2 has its k-th value <= t2: every
    # candidate whose lower bound exceeds t2 can be dropped before the exact recomputation.
    t2 = np.minimum(np.minimum(t[uniq], best[uniq, k]), _group_kth(inv, ub, k, len(uniq)))
    keep = g <= t2[inv]
    s = _exact_sq(X, X, rows[keep], cols[keep])
    best[uniq] = _merge_smallest(best[uniq], inv[keep], s)


def _decide(
    X: np.ndarray,
    Y: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    g: np.ndarray,
    ub: np.ndarray,
    T: np.ndarray,
    r: np.ndarray,
    inclusive: bool,
) -> np.ndarray:
    """``sqrt(s) < r`` (or ``<=``) for candidate pairs, exact where the bounds cannot tell.

    ``T = r**2`` as the exact squared value r came from. The relative margins make sure a decision
    by the bounds also holds after the square roots are rounded.
    """
    sure_in = ub < T * (1.0 - 4 * _EPS64)
    sure_out = g > T * (1.0 + 4 * _EPS64)
    unsure = ~(sure_in | sure_out)
    inside = sure_in
    if unsure.any():
        d = np.sqrt(_exact_sq(X, Y, rows[unsure], cols[unsure]))
        inside[unsure] = d <= r[unsure] if inclusive else d < r[unsure]
    return inside


def prdc(
    real,
    fake,
    k: int = 5,
    block_size: int = 1024,
    *,
    inclusive: bool = False,
    max_block_elements: int = 2**24,
    n_jobs: int | None = None,
) -> dict:
    """Precision, recall, density and coverage (Naeem et al. 2020), blocked and exact.

    Parameters
    ----------
    real : array-like, shape (n, N), n > k
    fake : array-like, shape (m, N), m > k
    k : int
        Neighbourhood size (the paper and ``prdc`` use 5).
    block_size : int
        Rows per block of every distance computation; memory is O(block_size * max(n, m)) but
        at most ``max_block_elements`` distances at a time (columns are tiled beyond that).
    inclusive : bool
        Count a point exactly on a ball's boundary as inside (``<=``). Default False: strict
        ``<`` exactly as the reference ``prdc`` package (identical sets then give density 1).
    max_block_elements : int
        Cap on the distances one worker holds at once (float32: 4 bytes each).
    n_jobs : int or None
        Worker threads; None = the CPUs available (at most 8). With more than one, BLAS is held
        to one thread per worker for the duration of the call. Results do not depend on it.

    Returns
    -------
    dict
        ``precision``, ``recall``, ``density``, ``coverage`` (floats; the same numbers the
        direct computation on full distance matrices gives), ``n_real``, ``n_fake``, ``k``,
        ``inclusive``.
    """
    k = int(k)
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if int(block_size) < 1 or int(max_block_elements) < 1:
        raise ValueError("block_size and max_block_elements must be positive")
    R = check_points(real, min_rows=k + 1, name="real")
    F = check_points(fake, min_rows=k + 1, name="fake")
    check_same_dim(R, F)
    jobs = _n_jobs(n_jobs)
    # With several worker threads, BLAS runs single-threaded inside each (no oversubscription).
    with threadpool_limits(limits=1, user_api="blas") if jobs > 1 else nullcontext():
        return _prdc(R, F, k, int(block_size), int(max_block_elements), inclusive, jobs)


def _n_jobs(n_jobs: int | None) -> int:
    if n_jobs is None:
        try:
            cpus = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            cpus = os.cpu_count() or 1
        return max(1, min(cpus, 8))
    if int(n_jobs) < 1:
        raise ValueError(f"n_jobs must be a positive integer or None, got {n_jobs}")
    return int(n_jobs)


def _prdc(
    R: np.ndarray,
    F: np.ndarray,
    k: int,
    block_size: int,
    max_block_elements: int,
    inclusive: bool,
    jobs: int,
) -> dict:
    n, m = len(R), len(F)
    Tr = kth_neighbour_sq(R, k, block_size, max_block_elements, jobs)
    Tf = kth_neighbour_sq(F, k, block_size, max_block_elements, jobs)
    rr, rf = np.sqrt(Tr), np.sqrt(Tf)

    scr = _Screen(R, F, 0.5 * (R.mean(axis=0) + F.mean(axis=0)))
    thr_real = _up(Tr, scr.dtype)
    thr_fake = _up(Tf, scr.dtype)
    covered = np.zeros(n, dtype=bool)  # real point whose ball holds a fake point
    recalled = np.zeros(n, dtype=bool)  # real point inside some fake ball
    b = max(1, min(block_size, n))
    c_step = max(1, min(m, max_block_elements // b))

    def cross(n_balls: np.ndarray, rs: slice) -> None:
        # Row blocks are disjoint across workers, so covered/recalled writes never collide;
        # n_balls (per fake point) is per worker and summed at the end.
        for c0 in range(0, m, c_step):
            cs = slice(c0, min(c0 + c_step, m))
            g = scr.product(rs, cs)
            # Real balls (row thresholds): precision, density, coverage.
            possible = g <= thr_real[rs, None]
            for rows, cols, gv, ub in _candidates(possible, g, scr, rs, cs):
                inside = _decide(R, F, rows, cols, gv, ub, Tr[rows], rr[rows], inclusive)
                n_balls += np.bincount(cols[inside], minlength=m)
                covered[rows[inside]] = True
            # Fake balls (column thresholds): recall.
            possible = g <= thr_fake[None, cs]
            for rows, cols, gv, ub in _candidates(possible, g, scr, rs, cs):
                inside = _decide(R, F, rows, cols, gv, ub, Tf[cols], rf[cols], inclusive)
                recalled[rows[inside]] = True

    blocks = [slice(r0, min(r0 + b, n)) for r0 in range(0, n, b)]
    n_balls = sum(_parallel(blocks, jobs, lambda: np.zeros(m, dtype=np.int64), cross))
    return {
        "precision": float(np.count_nonzero(n_balls) / m),
        "recall": float(np.count_nonzero(recalled) / n),
        "density": float((1.0 / k) * (n_balls.sum() / m)),
        "coverage": float(np.count_nonzero(covered) / n),
        "n_real": n,
        "n_fake": m,
        "k": k,
        "inclusive": bool(inclusive),
    }


def _candidates(possible: np.ndarray, g: np.ndarray, scr: _Screen, rs: slice, cs: slice):
    """Global (rows, cols) of the True entries of a block mask with their lower/upper bounds, in
    chunks of bounded size."""
    for r0, r1 in _row_chunks(possible, _CHUNK_PAIRS):
        rows, cols = _nonzero(possible[r0:r1])
        rows += r0
        gv = g[rows, cols].astype(np.float64)
        rows += rs.start
        cols += cs.start
        yield rows, cols, gv, gv + scr.wa[rows] + scr.wb[cols]
