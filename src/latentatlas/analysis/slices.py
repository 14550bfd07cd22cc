"""Slices through the cube: points whose components all lie in [-b, b] except the two plotted
ones (issue section 8)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from latentatlas.analysis.blockstats import LocalDriver, as_rows, block_rows, slice_partial
from latentatlas.core.jsonable import jsonable
from latentatlas.core.rng import RandomState, as_rng

DEFAULT_SIZES = (1000, 5000, 20000, 80000)
# Above this many pairs (N > 1,448) the scan evaluates a random sample of this many pairs plus
# every pair that can be among the fullest (see slice_scan).
MAX_SCAN_PAIRS = 2**20


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
    X = as_rows(Z, min_rows=1)
    j1, j2 = _check_pair(pair, X.shape[1])
    b = _check_b(b)
    others = np.ones(X.shape[1], dtype=bool)
    others[[j1, j2]] = False
    mask = np.empty(len(X), dtype=bool)
    step = block_rows(X.shape[1], X.itemsize)
    for start in range(0, len(X), step):  # row blocks: no (n, N) temporaries
        out = np.abs(X[start : start + step]) > b
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
    X = as_rows(Z, min_rows=1)
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
    (they are in every slice). ``n_pairs_total`` pairs exist; when ``sampled``, ``pairs`` holds a
    random sample of them plus every pair that can be among the fullest, and ``mean`` (the mean
    count over all pairs) is exact either way.
    """

    pairs: np.ndarray
    counts: np.ndarray
    b: float
    n: int
    n_inside: int
    n_pairs_total: int = 0
    sampled: bool = False
    mean: float | None = None

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
                "n_pairs": self.n_pairs_total or len(c),
                "n_pairs_evaluated": len(c),
                "sampled": self.sampled,
                "n_inside_cube": self.n_inside,
                "min": int(c.min()) if has else None,
                "median": float(np.median(c)) if has else None,
                "mean": self.mean if self.mean is not None else (float(c.mean()) if has else None),
                "max": int(c.max()) if has else None,
                "share_pairs_empty": float(np.mean(c == 0)) if has else None,
                "top_pairs": [list(t) for t in self.top(10)],
            }
        )


def slice_scan(
    Z,
    b: float,
    pairs: Sequence[Sequence[int]] | None = None,
    *,
    partial: dict | None = None,
    max_pairs: int | None = None,
    random_state: RandomState = 0,
) -> SliceScan:
    """Exact slice counts for all N(N-1)/2 pairs (or the given ones) in O(n N).

    A point is in slice (j1, j2) iff its set of out-of-bound components (|x_j| > b) is a subset
    of {j1, j2}. So only points with at most two such components matter: with none they count
    for every pair, with one (j) for every pair containing j, with two for exactly that pair.

    Parameters
    ----------
    Z : array-like, shape (n, N), N >= 2
    b : float
    pairs : sequence of (j1, j2), optional
        Default: all pairs j1 < j2 in row-major order (``np.triu_indices(N, 1)``); when there
        are more than ``max_pairs``, a seeded random sample of ``max_pairs`` pairs plus every pair
        of two components among the 11 with the most single out-of-cube points and every pair
        some point has as its only two out-of-cube components (so the 10 fullest pairs are
        exact), sorted.
    partial : dict, optional
        :func:`~latentatlas.analysis.blockstats.slice_partial` of all points already computed
        (e.g. on a Dask cluster): no pass over ``Z``.

    Returns
    -------
    SliceScan
    """
    X = as_rows(Z, min_rows=1)
    n, N = X.shape
    b = _check_b(b)
    if N < 2:
        raise ValueError("slices need at least 2 components")
    part = partial if partial is not None else LocalDriver(X).reduce(slice_partial, b)
    n_inside, single, codes = int(part["inside"]), part["single"], part["codes"]
    total = N * (N - 1) // 2
    max_pairs = MAX_SCAN_PAIRS if max_pairs is None else int(max_pairs)
    sampled = pairs is None and total > max_pairs
    if pairs is None and not sampled:
        i, j = np.triu_indices(N, k=1)
        P = np.stack([i, j], axis=1)
    elif sampled:
        P = _pair_sample(N, single, codes, max_pairs, as_rng(random_state))
    else:
        P = np.array([_check_pair(p, N) for p in pairs], dtype=np.int64).reshape(-1, 2)
    lo, hi = P.min(axis=1), P.max(axis=1)
    double = _count_codes(codes, lo.astype(np.int64) * N + hi)
    counts = n_inside + single[P[:, 0]] + single[P[:, 1]] + double
    # Each point with one out-of-cube component is in N - 1 slices, one with two in one slice.
    mean = (
        n_inside + ((N - 1) * float(single.sum()) + len(codes)) / total if pairs is None else None
    )
    return SliceScan(
        pairs=P,
        counts=counts.astype(np.int64),
        b=b,
        n=n,
        n_inside=n_inside,
        n_pairs_total=total if pairs is None else len(P),
        sampled=sampled,
        mean=mean,
    )


def _pair_sample(
    N: int, single: np.ndarray, codes: np.ndarray, size: int, rng: np.random.Generator
) -> np.ndarray:
    """A random sample of pairs j1 < j2 plus every pair that can be among the 10 fullest."""
    i = rng.integers(0, N, size)
    j = rng.integers(0, N - 1, size)
    j = j + (j >= i)  # uniform over the other N - 1 components
    top = np.argsort(-single, kind="stable")[:11]
    ti, tj = np.triu_indices(len(top), k=1)
    lo = np.concatenate([np.minimum(i, j), np.minimum(top[ti], top[tj]), codes // N])
    hi = np.concatenate([np.maximum(i, j), np.maximum(top[ti], top[tj]), codes % N])
    uniq = np.unique(lo.astype(np.int64) * N + hi)
    return np.stack([uniq // N, uniq % N], axis=1)


def _count_codes(codes: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """How often each query value occurs in ``codes`` (sparse: no N x N table)."""
    uniq, cnt = np.unique(codes, return_counts=True)
    if len(uniq) == 0:
        return np.zeros(len(queries), dtype=np.int64)
    pos = np.minimum(np.searchsorted(uniq, queries), len(uniq) - 1)
    return np.where(uniq[pos] == queries, cnt[pos], 0)
