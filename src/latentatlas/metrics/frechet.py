"""Fréchet distance between two sets of feature vectors (the statistic behind FID, Heusel et al.
2017): the 2-Wasserstein distance between the Gaussians fitted to each set,

    FD = |mu_a - mu_b|^2 + tr(S_a) + tr(S_b) - 2 tr((S_a S_b)^(1/2)).

Only meaningful in a feature space that the model being judged did not make: on the z-points
themselves a full-covariance normal fitted to the data matches mean and covariance by
construction, so its FD is just sampling noise (Stein et al. 2023 on judges and the judged).

Two routes give the same number. "covariance": the d x d covariances and an eigenvalue problem,
O(n d^2 + d^3). "gram", used when d exceeds 1,024 and the larger sample size (high-dimensional
features or z-points, where d x d would not fit): with centred A (n, d) and B (m, d),
``tr((S_a S_b)^(1/2))`` is the sum of the singular values of the n x m cross-Gram matrix
``A B^T / sqrt((n-1)(m-1))`` (the non-zero eigenvalues of ``S_a S_b`` are those of
``M M^T``), so it costs O(n m d) time and O(n m) memory beyond the points. Where d > n the
Gram route is also the more accurate one: the covariance route takes square roots of the
rounding-level eigenvalues of a rank-deficient product (about 1e-8 relative at d = 300, n = 40).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np

from latentatlas.core.rng import RandomState
from latentatlas.core.validation import check_points, check_same_dim
from latentatlas.metrics.intervals import bootstrap_interval

__all__ = ["FrechetReference", "frechet_distance", "frechet_route", "frechet_test"]


# Below this dimension the covariance route stays (a 1,024 x 1,024 eigenproblem takes 0.4 s), so
# the verdict's judges (256 and 128 features) keep the numbers they always had.
GRAM_MIN_DIM = 1024


def frechet_route(d: int, n: int, m: int) -> str:
    """Which route :func:`frechet_distance` takes for features of dimension ``d`` and ``n``,
    ``m`` points: "gram" when ``d > max(n, m)`` and ``d > 1,024``, else "covariance"."""
    return "gram" if d > max(n, m) and d > GRAM_MIN_DIM else "covariance"


def _centred(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mu = X.mean(axis=0)
    return mu, X - mu


def _fd_gram(A: np.ndarray, B: np.ndarray) -> float:
    """The Fréchet distance through the n x m cross-Gram matrix (no d x d matrix)."""
    mu_a, Ac = _centred(A)
    mu_b, Bc = _centred(B)
    scale = np.sqrt((len(A) - 1) * (len(B) - 1))
    cross = float(np.linalg.svd(Ac @ Bc.T / scale, compute_uv=False).sum())
    tr_a = float(np.einsum("ij,ij->", Ac, Ac)) / (len(A) - 1)
    tr_b = float(np.einsum("ij,ij->", Bc, Bc)) / (len(B) - 1)
    return max(float(((mu_a - mu_b) ** 2).sum()) + tr_a + tr_b - 2.0 * cross, 0.0)


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
    Computed through the d x d covariances, or through the n x m cross-Gram matrix when
    ``d > max(n, m)`` and ``d > 1,024`` (:func:`frechet_route`; the same number up to rounding).
    """
    A = check_points(a, min_rows=2, name="a")
    B = check_points(b, min_rows=2, name="b")
    check_same_dim(A, B)
    if frechet_route(A.shape[1], len(A), len(B)) == "gram":
        return _fd_gram(A, B)
    return _fd(A, B)


class FrechetReference:
    """A reference set that stays fixed across comparisons (the verdict's decoded held-out
    codes against every generator), whose mean, covariance and the covariance's square root
    are computed once, on first use, instead of once per comparison. Pass it as ``a`` to
    :func:`frechet_test`; the numbers are those of passing the points with
    ``resample_a=False``."""

    def __init__(self, a: Any) -> None:
        self.points = check_points(a, min_rows=2, name="a")

    @cached_property
    def moments(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(mean (d,), covariance (d, d), its PSD square root (d, d))."""
        mu, S = _moments(self.points)
        return mu, S, _psd_root(S)


def frechet_test(
    a: Any, b: Any, n_boot: int = 50, random_state: RandomState = 0, resample_a: bool = True
) -> dict[str, Any]:
    """The Fréchet distance of ``a`` (n, d) and ``b`` (m, d) with a 95 % bootstrap interval.

    ``resample_a=False`` keeps ``a`` fixed and resamples only ``b``: the right interval when
    ``a`` is a reference shared by every set being compared (the verdict's decoded held-out
    codes), whose own noise shifts every distance alike; it is also twice as fast (the
    reference's square root is computed once). ``a`` may be a :class:`FrechetReference`
    (implies ``resample_a=False``), so that the square root is computed once for every ``b``.

    Returns ``{"fd": float, "ci95": (lo, hi), "n_a": n, "n_b": m, "route": "covariance" or
    "gram"}`` (:func:`frechet_route`).
    """
    ref = a if isinstance(a, FrechetReference) else None
    A = ref.points if ref is not None else check_points(a, min_rows=2, name="a")
    B = check_points(b, min_rows=2, name="b")
    check_same_dim(A, B)
    route = frechet_route(A.shape[1], len(A), len(B))
    if route == "gram":
        if resample_a and ref is None:
            ci = bootstrap_interval(_fd_gram, (A, B), n_boot=n_boot, random_state=random_state)
        else:
            ci = bootstrap_interval(
                lambda X: _fd_gram(A, X), (B,), n_boot=n_boot, random_state=random_state
            )
        return {"fd": _fd_gram(A, B), "ci95": ci, "n_a": len(A), "n_b": len(B), "route": route}
    if ref is None and resample_a:
        ci = bootstrap_interval(_fd, (A, B), n_boot=n_boot, random_state=random_state)
        return {"fd": _fd(A, B), "ci95": ci, "n_a": len(A), "n_b": len(B), "route": route}
    mu_a, S_a, root_a = (ref if ref is not None else FrechetReference(A)).moments
    ci = bootstrap_interval(
        lambda X: _fd_from(mu_a, S_a, root_a, X), (B,), n_boot=n_boot, random_state=random_state
    )
    fd = _fd_from(mu_a, S_a, root_a, B)
    return {"fd": fd, "ci95": ci, "n_a": len(A), "n_b": len(B), "route": route}
