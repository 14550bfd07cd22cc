"""Fréchet distance between two sets of feature vectors (the statistic behind FID, Heusel et al.
2017): the 2-Wasserstein distance between the Gaussians fitted to each set,

    FD = |mu_a - mu_b|^2 + tr(S_a) + tr(S_b) - 2 tr((S_a S_b)^(1/2)).

Only meaningful in a feature space that the model being judged did not make: on the z-points
themselves a full-covariance normal fitted to the data matches mean and covariance by
construction, so its FD is just sampling noise (Stein et al. 2023 on judges and the judged).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from latentatlas.core.rng import RandomState
from latentatlas.core.validation import check_points, check_same_dim
from latentatlas.metrics.intervals import bootstrap_interval

__all__ = ["frechet_distance", "frechet_test"]


def _moments(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return X.mean(axis=0), np.cov(X, rowvar=False)


def _psd_root(S: np.ndarray) -> np.ndarray:
    w, V = np.linalg.eigh(S)
    return (V * np.sqrt(np.clip(w, 0.0, None))) @ V.T


def _fd_from(mu_a: np.ndarray, S_a: np.ndarray, root_a: np.ndarray, B: np.ndarray) -> float:
    mu_b, S_b = _moments(B)
    # tr((S_a S_b)^(1/2)) is the sum of square roots of the eigenvalues of S_a S_b, which are
    # those of the symmetric PSD matrix S_a^(1/2) S_b S_a^(1/2): real and >= 0 up to rounding.
    # An eigenvalue problem is ~5x faster than scipy's sqrtm and never returns complex noise.
    M = root_a @ S_b @ root_a
    eig = np.linalg.eigvalsh((M + M.T) / 2.0)
    cross = float(np.sqrt(np.clip(eig, 0.0, None)).sum())
    fd = float(((mu_a - mu_b) ** 2).sum() + np.trace(S_a) + np.trace(S_b) - 2.0 * cross)
    return max(fd, 0.0)


def _fd(A: np.ndarray, B: np.ndarray) -> float:
    mu_a, S_a = _moments(A)
    return _fd_from(mu_a, S_a, _psd_root(S_a), B)


def frechet_distance(a: Any, b: Any) -> float:
    """Fréchet distance between features ``a`` (n, d) and ``b`` (m, d), n, m >= 2.

    Biased upwards at small n (the covariance estimates' noise adds to it); compare values
    computed with the same n, as the verdict does, or read them against its real-vs-real ceiling.
    """
    A = check_points(a, min_rows=2, name="a")
    B = check_points(b, min_rows=2, name="b")
    check_same_dim(A, B)
    return _fd(A, B)


def frechet_test(
    a: Any, b: Any, n_boot: int = 50, random_state: RandomState = 0, resample_a: bool = True
) -> dict[str, Any]:
    """The Fréchet distance of ``a`` (n, d) and ``b`` (m, d) with a 95 % bootstrap interval.

    ``resample_a=False`` keeps ``a`` fixed and resamples only ``b``: the right interval when
    ``a`` is a reference shared by every set being compared (the verdict's decoded held-out
    codes), whose own noise shifts every distance alike; it is also twice as fast (the
    reference's square root is computed once).

    Returns ``{"fd": float, "ci95": (lo, hi), "n_a": n, "n_b": m}``.
    """
    A = check_points(a, min_rows=2, name="a")
    B = check_points(b, min_rows=2, name="b")
    check_same_dim(A, B)
    mu_a, S_a = _moments(A)
    root_a = _psd_root(S_a)
    if resample_a:
        ci = bootstrap_interval(_fd, (A, B), n_boot=n_boot, random_state=random_state)
    else:
        ci = bootstrap_interval(
            lambda X: _fd_from(mu_a, S_a, root_a, X), (B,), n_boot=n_boot, random_state=random_state
        )
    return {"fd": _fd_from(mu_a, S_a, root_a, B), "ci95": ci, "n_a": len(A), "n_b": len(B)}
