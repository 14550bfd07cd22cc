"""Where artificial points fall outside the real bulk (issue section 9, the non-k-NN part)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from latentatlas.analysis.blockstats import as_rows, block_rows
from latentatlas.analysis.gaussian import MahalanobisModel
from latentatlas.core.jsonable import jsonable
from latentatlas.core.validation import check_fraction, check_same_dim


def void_shares(
    real,
    fake,
    tail_quantile: float = 0.99,
    range_quantiles: Sequence[float] = (0.005, 0.995),
    *,
    model: MahalanobisModel | None = None,
) -> dict:
    """Share of artificial points beyond the real Mahalanobis tail / outside the real ranges.

    Parameters
    ----------
    real : array-like, shape (n, N)
    fake : array-like, shape (m, N)
    tail_quantile : float
        The real points' Mahalanobis-distance quantile used as the tail threshold.
    range_quantiles : (low, high)
        Per-component real quantiles delimiting the "real range".
    model : MahalanobisModel, optional
        A model already fitted on ``real``.

    Returns
    -------
    dict
        ``mahalanobis_tail``: share of fake with distance > the real ``tail_quantile`` distance
        (``tail_threshold``); ``out_of_range``: share of fake with at least one component outside
        the real [low, high] quantile range. The same two shares for the real points themselves
        (``mahalanobis_tail_real`` ~= 1 - tail_quantile, ``out_of_range_real``) are the baselines:
        with N independent components ``out_of_range_real`` ~= 1 - (1 - 0.01)^N, e.g. 0.92 at
        N = 256, so compare the fake share with it rather than with 1 %. Also ``n_real``,
        ``n_fake``, ``tail_quantile``, ``range_quantiles``.
    """
    R = as_rows(real, min_rows=2, name="real")
    F = as_rows(fake, min_rows=1, name="fake")
    check_same_dim(R, F)
    tail_quantile = check_fraction(tail_quantile, "tail_quantile")
    lo_q, hi_q = (check_fraction(q, "range_quantiles", low_open=False) for q in range_quantiles)
    if not lo_q < hi_q:
        raise ValueError(f"range_quantiles must be increasing, got {tuple(range_quantiles)}")
    model = model if model is not None else MahalanobisModel().fit(R)
    d_real = model.distances_of(R)
    threshold = float(np.quantile(d_real, tail_quantile))
    d_fake = model.distance(F)
    lo, hi = _column_quantiles(R, lo_q, hi_q)
    return jsonable(
        {
            "mahalanobis_tail": float(np.mean(d_fake > threshold)),
            "out_of_range": _share_out(F, lo, hi),
            "mahalanobis_tail_real": float(np.mean(d_real > threshold)),
            "out_of_range_real": _share_out(R, lo, hi),
            "tail_threshold": threshold,
            "tail_quantile": tail_quantile,
            "range_quantiles": [lo_q, hi_q],
            "n_real": len(R),
            "n_fake": len(F),
        }
    )


def _share_out(X: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    out, block = 0, block_rows(X.shape[1], X.itemsize)
    for s in range(0, len(X), block):
        B = X[s : s + block]
        out += int(((B < lo) | (B > hi)).any(axis=1).sum())
    return out / len(X)


def _column_quantiles(X: np.ndarray, q_lo: float, q_hi: float, cols: int = 16) -> tuple:
    """Per-column quantiles (numpy's default linear method) on small column groups: each group
    is transposed into a contiguous (cols, n) copy, far faster than ``axis=0`` on an (n, N) array
    and without a second full-size copy."""
    lo, hi = np.empty(X.shape[1]), np.empty(X.shape[1])
    for c in range(0, X.shape[1], cols):
        lo[c : c + cols], hi[c : c + cols] = np.quantile(
            np.ascontiguousarray(X[:, c : c + cols].T), [q_lo, q_hi], axis=1
        )
    return lo, hi
