"""Slices through the cube: points whose components all lie in [-b, b] except the two plotted
ones (issue section 8)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from latentatlas.core.jsonable import jsonable
from latentatlas.core.rng import RandomState, as_rng
from latentatlas.core.validation import check_points

DEFAULT_SIZES = (1000, 5000, 20000, 80000)
# Rows per block when building the (rows, N) out-of-bounds mask.
_BLOCK_ROWS = 16384


def _check_b(b: float) -> float:
    if not (np.isfinite(b) and b > 0):
        raise ValueError(f"b must be a positive number, got {b}")
    return float(b)


def _check_pair(pair, N: int) -> tuple[int, int]:
    try:
        j1, j2 = (int(j) for j in pair)
    except (TypeError, ValueError):
        raise ValueError(f"pair must be two component indices, got {pair!r}") from None
    if j1 == j2 or not (0 <= j1 < N and 0 <= j2 < N):
        raise ValueError(f"pair must be two different components in [0, {N}), got {pair!r}")
    return j1, j2


def slice_mask(Z, pair: Sequence[int], b: float) -> np.ndarray:
    """Which points lie in the slice of ``pair``: |x_j| <= b for every j not in the pair.

    Parameters
    ----------
    Z : array-like, shape (n, N)
    pair : (j1, j2)
    b : float

    Returns
    -------
    ndarray of bool, shape (n,)
    """
    X = check_points(Z, min_rows=1)
    j1, j2 = _check_pair(pair, X.shape[1])
    b = _check_b(b)
    others = np.ones(X.shape[1], dtype=bool)
    others[[j1, j2]] = False
    mask = np.empty(len(X), dtype=bool)
    for start in range(0, len(X), _BLOCK_ROWS):  # row blocks: no (n, N) temporaries
        out = np.abs(X[start : start + _BLOCK_ROWS]) > b
        out[:, ~others] = False
        mask[start : start + len(out)] = ~out.any(axis=1)
    return mask


def slice_counts(
    Z,
    pair: Sequence[int],
    b: float,
    sizes: Sequence[int] = DEFAULT_SIZES,
    random_state: RandomState = 0,
) -> list[dict]:
    """Slice counts on random subsets of growing size.

    The subsets are nested (prefixes of one random permutation), so counts never decrease with
    size, as when a study keeps adding points. Sizes are capped at n (duplicates after capping are
    dropped); each entry records the size actually used.

    Returns
    -------
    list of {"size": int, "count": int, "share": float}
    """
    X = check_points(Z, min_rows=1)
    mask = slice_mask(X, pair, b)
    n = len(X)
    used: list[int] = []
    for s in sizes:
        s = min(int(s), n)
        if s < 1:
            raise ValueError(f"sizes must be positive, got {s}")
        if s not in used:
            used.append(s)
    perm = as_rng(random_state).permutation(n)
    cum = np.concatenate([[0], np.cumsum(mask[perm])])
    return [{"size": s, "count": int(cum[s]), "share": float(cum[s] / s)} for s in used]


@dataclass(frozen=True, eq=False)  # arrays inside: compare to_dict() instead
class SliceScan:
    """Exact slice counts for many pairs.

    ``pairs`` (P, 2) int, ``counts`` (P,) int. ``n_inside`` points lie inside the cube entirely
    (they are in every slice).
    """

    pairs: np.ndarray
    counts: np.ndarray
    b: float
    n: int
    n_inside: int

    def top(self, k: int = 10) -> list[tuple[int, int, int]]:
        """The ``k`` pairs with the most points in their slice (ties: pair order)."""
        order = np.argsort(-self.counts, kind="stable")[:k]
        return [(int(self.pairs[o, 0]), int(self.pairs[o, 1]), int(self.counts[o])) for o in order]

    def to_dict(self) -> dict:
        c = self.counts
        has = len(c) > 0
        return jsonable(
            {
                "b": self.b,
                "n": self.n,
                "n_pairs": len(c),
                "n_inside_cube": self.n_inside,
                "min": int(c.min()) if has else None,
                "median": float(np.median(c)) if has else None,
                "mean": float(c.mean()) if has else None,
                "max": int(c.max()) if has else None,
                "share_pairs_empty": float(np.mean(c == 0)) if has else None,
                "top_pairs": [list(t) for t in self.top(10)],
            }
        )


def slice_scan(Z, b: float, pairs: Sequence[Sequence[int]] | None = None) -> SliceScan:
    """Exact slice counts for all N(N-1)/2 pairs (or the given ones) in O(n N).

    A point is in slice (j1, j2) iff its set of out-of-bound components (|x_j| > b) is a subset
    of {j1, j2}. So only points with at most two such components matter: with none they count
    for every pair, with one (j) for every pair containing j, with two for exactly that pair.

    Parameters
    ----------
    Z : array-like, shape (n, N), N >= 2
    b : float
    pairs : sequence of (j1, j2), optional
        Default: all pairs j1 < j2 in row-major order (``np.triu_indices(N, 1)``).

    Returns
    -------
    SliceScan
    """
    X = check_points(Z, min_rows=1)
    n, N = X.shape
    b = _check_b(b)
    if N < 2:
        raise ValueError("slices need at least 2 components")
    n_inside = 0
    single = np.zeros(N, dtype=np.int64)
    double_codes = []
    for start in range(0, n, _BLOCK_ROWS):
        out = np.abs(X[start : start + _BLOCK_ROWS]) > b
        n_out = out.sum(axis=1)
        n_inside += int((n_out == 0).sum())
        rows1 = np.flatnonzero(n_out == 1)
        single += np.bincount(np.nonzero(out[rows1])[1], minlength=N)
        rows2 = np.flatnonzero(n_out == 2)
        cols = np.nonzero(out[rows2])[1].reshape(-1, 2)  # row-major: each row's two columns, sorted
        double_codes.append(cols[:, 0].astype(np.int64) * N + cols[:, 1])
    codes = np.concatenate(double_codes) if double_codes else np.zeros(0, np.int64)
    if pairs is None:
        i, j = np.triu_indices(N, k=1)
        P = np.stack([i, j], axis=1)
    else:
        P = np.array([_check_pair(p, N) for p in pairs], dtype=np.int64).reshape(-1, 2)
    lo, hi = P.min(axis=1), P.max(axis=1)
    double = _count_codes(codes, lo.astype(np.int64) * N + hi)
    counts = n_inside + single[P[:, 0]] + single[P[:, 1]] + double
    return SliceScan(pairs=P, counts=counts.astype(np.int64), b=b, n=n, n_inside=n_inside)


def _count_codes(codes: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """How often each query value occurs in ``codes`` (sparse: no N x N table)."""
    uniq, cnt = np.unique(codes, return_counts=True)
    if len(uniq) == 0:
        return np.zeros(len(queries), dtype=np.int64)
    pos = np.minimum(np.searchsorted(uniq, queries), len(uniq) - 1)
    return np.where(uniq[pos] == queries, cnt[pos], 0)
