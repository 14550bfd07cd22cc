"""Pairwise correlations between components (issue section 2)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from latentatlas.analysis.blockstats import DENSE_MAX_N, as_rows
from latentatlas.analysis.gaussian import MahalanobisModel, mean_covariance
from latentatlas.core.jsonable import jsonable
from latentatlas.core.rng import RandomState, as_rng

ABS_R_QUANTILES = (0.5, 0.9, 0.99)
# Above this many components the matrix is computed on a random subset of this size: all
# N (N - 1) / 2 pairs would be 2.1 billion at N = 65,536.
MAX_COMPONENTS = DENSE_MAX_N


@dataclass(frozen=True, eq=False)  # arrays inside: compare to_dict() instead
class CorrelationResult:
    """Pearson correlations of the N components.

    ``corr`` and ``cov`` have shape (N, N) (not in ``to_dict``); ``abs_r`` holds the N(N-1)/2
    upper-triangle values |r_ij| (i < j, row-major); ``top_positive`` / ``top_negative`` list
    ``(j1, j2, r)`` with j1 < j2, strongest first (only pairs with r > 0 / r < 0).
    ``components`` lists the components the matrices cover (sorted; all N unless N was above
    ``MAX_COMPONENTS``), and the pair indices above are component numbers, not positions.
    """

    corr: np.ndarray
    cov: np.ndarray
    top_positive: list[tuple[int, int, float]]
    top_negative: list[tuple[int, int, float]]
    abs_r: np.ndarray
    mean_abs_r: float
    median_abs_r: float
    max_abs_r: float
    components: np.ndarray
    n_features: int

    def to_dict(self) -> dict:
        q = (
            {str(t): float(np.quantile(self.abs_r, t)) for t in ABS_R_QUANTILES}
            if len(self.abs_r)
            else {}
        )
        return jsonable(
            {
                "N": self.n_features,
                "components_used": len(self.components),
                "sampled": len(self.components) < self.n_features,
                "n_pairs": len(self.abs_r),
                "top_positive": [list(t) for t in self.top_positive],
                "top_negative": [list(t) for t in self.top_negative],
                "mean_abs_r": self.mean_abs_r,
                "median_abs_r": self.median_abs_r,
                "max_abs_r": self.max_abs_r,
                "abs_r_quantiles": q,
            }
        )


def correlations(
    Z,
    top: int = 10,
    *,
    model: MahalanobisModel | None = None,
    max_components: int | None = None,
    random_state: RandomState = 0,
) -> CorrelationResult:
    """Pearson correlation and covariance matrices, strongest pairs and the spread of |r|.

    Parameters
    ----------
    Z : array-like, shape (n, N), n >= 2
    top : int
        How many strongest positive and negative pairs to list.
    model : MahalanobisModel, optional
        A model fitted on ``Z``: its covariance is reused (no pass over the data).
    max_components : int, optional
        Default ``MAX_COMPONENTS``. Above this N, a random subset of this many components
        (seeded by ``random_state``) stands for all of them: the spread of |r| over its pairs
        estimates the spread over all pairs.

    Returns
    -------
    CorrelationResult
        A constant component has correlation 0 with every other one (and 1 with itself).
    """
    X = as_rows(Z, min_rows=2)
    n_features = X.shape[1]
    cols = np.arange(n_features)
    max_components = MAX_COMPONENTS if max_components is None else int(max_components)
    if n_features > max_components:
        cols = np.sort(as_rng(random_state).choice(n_features, max_components, replace=False))
    N = len(cols)
    if model is not None and N == n_features and model.has_covariance:
        cov = model.covariance_.copy()
    else:
        _, cov = mean_covariance(X, columns=None if N == n_features else cols)
    std = np.sqrt(np.diag(cov))
    safe = np.where(std > 0, std, 1.0)
    corr = cov / safe[:, None] / safe[None, :]
    corr[std == 0, :] = 0.0
    corr[:, std == 0] = 0.0
    np.clip(corr, -1.0, 1.0, out=corr)  # rounding can push |r| a hair above 1
    np.fill_diagonal(corr, 1.0)
    i, j = np.triu_indices(N, k=1)
    r = corr[i, j]
    ci, cj = cols[i], cols[j]
    pos = [(int(ci[o]), int(cj[o]), float(r[o])) for o in _strongest(-r, top) if r[o] > 0]
    neg = [(int(ci[o]), int(cj[o]), float(r[o])) for o in _strongest(r, top) if r[o] < 0]
    abs_r = np.abs(r)
    has = len(abs_r) > 0
    return CorrelationResult(
        corr=corr,
        cov=cov,
        top_positive=pos,
        top_negative=neg,
        abs_r=abs_r,
        mean_abs_r=float(abs_r.mean()) if has else float("nan"),
        median_abs_r=float(np.median(abs_r)) if has else float("nan"),
        max_abs_r=float(abs_r.max()) if has else float("nan"),
        components=cols,
        n_features=n_features,
    )


def _strongest(key: np.ndarray, top: int) -> np.ndarray:
    """Indices of the ``top`` smallest ``key`` values, in order (ties: index order), without
    sorting all N (N - 1) / 2 of them."""
    if len(key) > top > 0:
        cut = np.partition(key, top - 1)[top - 1]
        cand = np.flatnonzero(key <= cut)
    else:
        cand = np.arange(len(key))
    return cand[np.argsort(key[cand], kind="stable")][: max(top, 0)]
