"""Sampling in the PCA frame of the real points, within confidence bounds: per principal axis
(the study's sampler), per plane of consecutive axes, or inside one ellipsoid."""

from __future__ import annotations

import math
import re
from numbers import Real

import numpy as np
from scipy import special

from latentatlas.analysis.gaussian import BLOCK_ROWS, MahalanobisModel, single_threaded_blas
from latentatlas.analysis.ppca import LowRankGaussian
from latentatlas.core.validation import check_points, check_positive
from latentatlas.generators.base import BaseGenerator, summarise_array
from latentatlas.generators.normal import (
    LOG_2PI,
    frame_coordinates,
    standard_normal_logpdf,
    use_low_rank,
)

__all__ = ["PCAEllipsoid"]

# Below this acceptance rate the rejection sampler refuses at fit time (> 1000 draws per point).
MIN_ACCEPTANCE = 1e-3
# Largest block of candidate coordinates drawn at once (entries; 4M float64 = 32 MB).
MAX_BLOCK_ENTRIES = 1 << 22
_QUANTILE = re.compile(r"q(\d+(?:\.\d*)?)")
BOUNDS = ("axis", "plane", "ball")


def _parse_limit(limit) -> tuple[float | None, float | None]:
    """``(quantile, radius)``: "q99" -> (0.99, None), 3.0 -> (None, 3.0), None -> (None, None)."""
    if limit is None:
        return None, None
    if isinstance(limit, str):
        m = _QUANTILE.fullmatch(limit)
        q = float(m.group(1)) / 100.0 if m else -1.0
        if not 0.0 < q <= 1.0:
            raise ValueError(
                f"limit must be 'qP' (a percentile 0 < P <= 100, e.g. 'q99'), a positive radius "
                f"or None, got {limit!r}"
            )
        return q, None
    if (
        isinstance(limit, Real)
        and not isinstance(limit, bool)
        and math.isfinite(limit)
        and limit > 0
    ):
        return None, float(limit)
    raise ValueError(f"limit must be 'qP' (e.g. 'q99'), a positive radius or None, got {limit!r}")


class PCAEllipsoid(BaseGenerator):
    """Points drawn in the PCA frame of the real points, within confidence bounds, mapped back.

    In the frame of the covariance eigenvectors a point is ``u * sqrt(eigenvalue)`` per axis, so
    ``u_k`` is principal coordinate k in sigma units. Points are drawn with ``u`` inside the
    bound and mapped back by ``mean_ + (u * sqrt(explained_variance_)) @ components_``.

    The study's final sampler draws each principal coordinate from a normal with its
    eigen-variance restricted to its confidence interval, and in its 2-D view keeps pairs of
    principal coordinates inside confidence ellipses. The bounds:

    - ``"axis"`` (default): every ``|u_k| <= c``; with c = 2 each coordinate stays in its 95.4 %
      interval. Sampled exactly from the truncated normal by inverse CDF: rejection would keep
      0.954**256 = 6e-6 of 256-d draws.
    - ``"plane"``: the planes of axes (1, 2), (3, 4), ... each keep ``||(u_2i, u_2i+1)|| <= r``
      (the Mahalanobis ellipse of radius r in that plane; a last odd axis keeps ``|u| <= r``).
      Sampled exactly: a uniform angle and the inverse CDF of the truncated Rayleigh radius.
    - ``"ball"``: ``||u|| <= limit`` over all sampled axes, one ellipsoid. A 256-d normal's
      radius is about 16 while the real points' 99th percentile is larger, so the default
      ``limit="q99"`` rejects almost nothing: this bound is then the same as
      :class:`MultivariateNormal` restricted to k axes.

    Per-coordinate bounds shrink the samples: at c = 2 a coordinate keeps 77 % of its variance
    (``coordinate_variance_``) and almost no real point has every coordinate inside
    (``real_inside_``). The verdict shows what that does to the decoded images.

    Parameters
    ----------
    bound : "axis", "plane" or "ball"
    c : float > 0
        Per-axis bound in sigma units (``bound="axis"``).
    r : float > 0
        Mahalanobis radius of the ellipse in each plane (``bound="plane"``).
    limit : "qP", float or None
        Radius of the ellipsoid in sigma units (``bound="ball"``). "qP" (default "q99") is the
        P-th percentile of the real points' own Mahalanobis radii (in the frame of the kept
        axes); a float is an explicit radius; None means no limit (only with
        ``distribution="normal"``).
    distribution : "normal" or "uniform"
        "normal": the normal restricted to the bound (exactly; for "ball" by vectorised
        rejection, batches sized by the exact acceptance ``P(chi2_k <= limit^2)``; fit refuses a
        limit that accepts less than 0.1 %). "uniform": uniform inside the bound (a box, discs,
        or the ellipsoid, where in k dimensions the volume, hence the points, sit close to the
        boundary: radius ``limit * U**(1/k)``, median ``0.997 * limit`` for k = 256).
    n_components : int or None
        Number k of top axes sampled; in the full form the other coordinates stay at the mean.
        None keeps every axis of non-zero variance (at most n - 1 when n <= N; in the low-rank
        form the rank of best held-out likelihood); larger values are capped there.
    covariance : "auto", "full" or "low-rank"
        "auto": "full" when there are more points than components and N <= 1,024, else
        "low-rank" (as :class:`~latentatlas.generators.normal.MultivariateNormal`). "low-rank":
        the axes come from :class:`~latentatlas.analysis.ppca.LowRankGaussian` (no N x N
        matrix) and the N - k other directions get its isotropic Gaussian rest
        (``noise_variance_``), so the density is positive off the k-dimensional span.
    temperature : float > 0
        Scales samples about the mean: every variance x temperature**2 (see
        :class:`BaseGenerator`); ``score_samples`` follows.

    Attributes
    ----------
    mean_ : ndarray, shape (N,)
    components_ : ndarray, shape (k, N)
        Orthonormal PCA axes (rows), by decreasing variance.
    explained_variance_ : ndarray, shape (k,)
        Covariance eigenvalues (ddof = 1) of those axes.
    explained_variance_ratio_ : float
        Their share of the total variance.
    n_components_ : int
        k.
    limit_ : float or None
        The bound used: c, r, or the ellipsoid's radius (None: no limit).
    acceptance_ : float
        Share of normal draws kept by rejection (1.0 unless ``bound="ball"`` with a limit).
    real_inside_ : float
        Share of the training points that satisfy the bound (all k coordinates / all planes).
    coordinate_variance_ : float or None
        Variance of one sampled coordinate relative to its eigen-variance (exact; None for
        "ball", where it depends on k).
    limit_quantile_ : float or None
        The percentile behind ``limit_`` as a fraction (0.99 for "q99"), None otherwise.
    covariance_form_ : "full" or "low-rank+diag"
    noise_variance_ : float
        Variance of each direction outside the k axes (0 in the full form: none there).
    n_features_in_ : int
    """

    _fitted_arrays = ("mean_", "components_", "explained_variance_")
    _fitted_scalars = (
        "covariance_form_",
        "noise_variance_",
        "explained_variance_ratio_",
        "n_components_",
        "limit_",
        "acceptance_",
        "real_inside_",
        "coordinate_variance_",
        "limit_quantile_",
    )

    def __init__(
        self,
        bound: str = "axis",
        c: float = 2.0,
        r: float = 2.0,
        limit: str | float | None = "q99",
        distribution: str = "normal",
        n_components: int | None = None,
        covariance: str = "auto",
        temperature: float = 1.0,
    ) -> None:
        self.bound = bound
        self.c = c
        self.r = r
        self.limit = limit
        self.distribution = distribution
        self.n_components = n_components
        self.covariance = covariance
        self.temperature = temperature

    def fit(self, Z, y=None) -> PCAEllipsoid:
        """Fit the PCA frame and the bound to ``Z`` of shape (n, N), n >= 2."""
        if self.bound not in BOUNDS:
            raise ValueError(f"bound must be one of {', '.join(BOUNDS)}, got {self.bound!r}")
        if self.distribution not in ("normal", "uniform"):
            raise ValueError(
                f"distribution must be 'normal' or 'uniform', got {self.distribution!r}"
            )
        if self.bound == "ball":
            quantile, radius = _parse_limit(self.limit)
            if quantile is None and radius is None and self.distribution == "uniform":
                raise ValueError("distribution='uniform' needs a limit (a radius or 'qP')")
        else:
            name = "c" if self.bound == "axis" else "r"
            quantile, radius = None, check_positive(getattr(self, name), name, " (sigma units)")
        X = check_points(Z, min_rows=2)
        N = X.shape[1]
        k = self.n_components
        if k is not None and (
            isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= N
        ):
            raise ValueError(f"n_components must be None or an int in [1, {N}], got {k!r}")

        if use_low_rank(self.covariance, *X.shape):
            k = self._fit_low_rank(X, k)
            distances = None
            W = self.components_.T / np.sqrt(self.explained_variance_)
        else:
            model = MahalanobisModel().fit(X)
            if model.rank_ == 0:
                raise ValueError("the points have no variance: there is no PCA frame to sample in")
            k = model.rank_ if k is None else min(int(k), model.rank_)
            sd = np.sqrt(model.eigenvalues_[:k])
            # whitening_ = eigenvectors / sqrt(eigenvalues), descending: undo the scaling for axes.
            self.components_ = np.ascontiguousarray((model.whitening_[:, :k] * sd).T)
            self.explained_variance_ = model.eigenvalues_[:k].copy()
            self.explained_variance_ratio_ = float(
                self.explained_variance_.sum() / model.eigenvalues_.sum()
            )
            self.mean_ = model.mean_
            self.covariance_form_, self.noise_variance_ = "full", 0.0
            distances = model.distances_ if k == model.rank_ else None
            W = model.whitening_[:, :k]
        self.n_components_ = k
        self.limit_quantile_ = quantile
        self.acceptance_ = 1.0
        self.coordinate_variance_ = None

        if self.bound != "ball":
            self.limit_ = radius
            self.real_inside_ = _share_inside(X, self.mean_, W, self.bound, radius)
            self.coordinate_variance_ = _coordinate_variance(self.bound, self.distribution, radius)
        elif quantile is None and radius is None:
            self.limit_, self.real_inside_ = None, 1.0
        else:
            r = distances if distances is not None else _radii(X, self.mean_, W)
            self.limit_ = float(np.quantile(r, quantile)) if radius is None else radius
            self.real_inside_ = float(np.mean(r <= self.limit_))
            if self.distribution == "normal":
                # P(||u|| <= limit) for u ~ N(0, I_k): the chi-square CDF, exact.
                self.acceptance_ = float(special.gammainc(k / 2.0, self.limit_**2 / 2.0))
                if self.acceptance_ < MIN_ACCEPTANCE:
                    raise ValueError(
                        f"limit {self.limit_:.4g} keeps only {self.acceptance_:.2e} of normal "
                        f"draws in {k} dimensions (a normal's radius is about sqrt(k) = "
                        f"{math.sqrt(k):.3g}): use a larger limit or distribution='uniform'"
                    )
        self.n_features_in_ = N
        return self

    def _fit_low_rank(self, X: np.ndarray, k: int | None) -> int:
        """Set the frame from the low-rank-plus-diagonal Gaussian; return its rank (>= 1)."""
        model = LowRankGaussian(n_components="heldout" if k is None else k).fit(X)
        if model.rank_ == 0:
            # Held-out likelihood preferred pure noise: still sample along the largest axis.
            model = LowRankGaussian(n_components=1).fit(X)
        if model.rank_ == 0:
            raise ValueError("the points have no variance: there is no PCA frame to sample in")
        k, lam, sigma2 = model.rank_, model.explained_variance_, model.noise_variance_
        self.mean_ = model.mean_
        self.components_ = model.components_
        self.explained_variance_ = lam
        self.explained_variance_ratio_ = float(
            lam.sum() / (lam.sum() + (X.shape[1] - k) * sigma2)
        )
        self.covariance_form_, self.noise_variance_ = "low-rank+diag", float(sigma2)
        return k

    def _sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        k, bound = self.n_components_, self.bound
        if bound == "axis":
            u = _sample_axes(n, k, self.limit_, self.distribution, rng)
        elif bound == "plane":
            u = _sample_planes(n, k, self.limit_, self.distribution, rng)
        elif self.distribution == "uniform":
            u = rng.standard_normal((n, k))
            norms = np.sqrt(np.einsum("ij,ij->i", u, u))
            radius = self.limit_ * rng.random(n) ** (1.0 / k)
            u *= (radius / np.maximum(norms, np.finfo(np.float64).tiny))[:, None]
        elif self.limit_ is None:
            u = rng.standard_normal((n, k))
        else:
            u = self._truncated_normal(n, rng)
        X = self.mean_ + (u * np.sqrt(self.explained_variance_)) @ self.components_
        if self.noise_variance_ > 0:
            # The Gaussian rest, on the directions orthogonal to the k axes.
            e = rng.standard_normal((n, self.n_features_in_))
            with single_threaded_blas():
                e -= (e @ self.components_.T) @ self.components_
            X += math.sqrt(self.noise_variance_) * e
        return X

    def _density_dim(self) -> int:
        return int(self.n_components_) if self.noise_variance_ == 0 else int(self.n_features_in_)

    def _score_samples(self, X: np.ndarray) -> np.ndarray:
        k, limit, bound = self.n_components_, self.limit_, self.bound
        U, on_span = frame_coordinates(X, self.mean_, self.components_.T, self.explained_variance_)
        # Density of u in sigma units, then the Jacobian of u -> z on the k sampled axes.
        if bound == "ball" and limit is None:
            out = standard_normal_logpdf(U)
        elif self.distribution == "normal":
            out = standard_normal_logpdf(U) - _log_mass(bound, limit, k, self.acceptance_)
        else:
            out = np.full(len(U), -_log_volume(bound, limit, k))
        inside = on_span
        if limit is not None:
            inside = inside & (
                _inside(U, bound, limit)
                if bound != "ball"
                else np.einsum("ij,ij->i", U, U) <= limit**2
            )
        out = out - 0.5 * np.sum(np.log(self.explained_variance_))
        if self.noise_variance_ > 0:
            out += self._rest_logpdf(X, U)
        out[~inside] = -np.inf
        return out

    def _rest_logpdf(self, X: np.ndarray, U: np.ndarray) -> np.ndarray:
        """Log-density of the isotropic Gaussian rest at the rows' parts off the k axes."""
        D = X - self.mean_
        inside = np.einsum("ij,ij->i", U * U, np.broadcast_to(self.explained_variance_, U.shape))
        rest = np.maximum(np.einsum("ij,ij->i", D, D) - inside, 0.0)
        m, s2 = self.n_features_in_ - self.n_components_, self.noise_variance_
        return -0.5 * (rest / s2 + m * (LOG_2PI + math.log(s2)))

    def _truncated_normal(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``(n, k)`` standard normal rows with norm <= ``limit_``, by batched rejection."""
        k, p, r2 = self.n_components_, self.acceptance_, self.limit_**2
        out = np.empty((n, k))
        filled, drawn = 0, 0
        # A safety net only: with p >= MIN_ACCEPTANCE, exceeding 10x the expected draws does not
        # happen in practice.
        max_draws = 10 * math.ceil(n / p) + 1024
        max_rows = max(1, MAX_BLOCK_ENTRIES // k)
        while filled < n:
            need = n - filled
            # 10 % more than expected plus a few, so one batch nearly always suffices.
            m = min(math.ceil(need / p * 1.1) + 16, max_rows)
            u = rng.standard_normal((m, k))
            ok = u[np.einsum("ij,ij->i", u, u) <= r2][:need]
            out[filled : filled + len(ok)] = ok
            filled += len(ok)
            drawn += m
            if filled < n and drawn > max_draws:
                raise RuntimeError(
                    f"rejection sampling drew {drawn} candidates for {filled}/{n} points "
                    f"(expected acceptance {p:.3g})"
                )
        return out

    def _summary(self) -> dict:
        return {
            "bound": self.bound,
            "distribution": self.distribution,
            "covariance_form": self.covariance_form_,
            "noise_variance": self.noise_variance_,
            "n_components": self.n_components_,
            "limit": self.limit_,
            "coordinate_variance": self.coordinate_variance_,
            "limit_quantile": self.limit_quantile_,
            "acceptance": self.acceptance_,
            "real_inside": self.real_inside_,
            "explained_variance_ratio": self.explained_variance_ratio_,
            "explained_variance": summarise_array(self.explained_variance_),
            "mean_norm": np.linalg.norm(self.mean_),
        }


def _radii(X: np.ndarray, mean: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Mahalanobis radii of the rows of ``X`` in the frame of the whitened axes ``W`` (N, k),
    in blocks."""
    out = np.empty(X.shape[0])
    for start in range(0, X.shape[0], BLOCK_ROWS):
        Y = (X[start : start + BLOCK_ROWS] - mean) @ W
        out[start : start + len(Y)] = np.sqrt(np.einsum("ij,ij->i", Y, Y))
    return out


def _share_inside(
    X: np.ndarray, mean: np.ndarray, W: np.ndarray, bound: str, limit: float
) -> float:
    """Share of the rows of ``X`` whose principal coordinates (whitened axes ``W``, (N, k))
    satisfy the bound."""
    inside = 0
    for start in range(0, X.shape[0], BLOCK_ROWS):
        inside += int(_inside((X[start : start + BLOCK_ROWS] - mean) @ W, bound, limit).sum())
    return inside / X.shape[0]


def _inside(U: np.ndarray, bound: str, limit: float) -> np.ndarray:
    """``(n,)`` whether each row of sigma-unit coordinates ``U`` satisfies the bound."""
    if bound == "axis":
        return np.all(np.abs(U) <= limit, axis=1)
    k = U.shape[1]
    pairs = U[:, : k - k % 2].reshape(len(U), -1, 2)
    ok = np.all(np.einsum("ijk,ijk->ij", pairs, pairs) <= limit**2, axis=1)
    if k % 2:
        ok &= np.abs(U[:, -1]) <= limit
    return ok


def _sample_axes(
    n: int, k: int, c: float, distribution: str, rng: np.random.Generator
) -> np.ndarray:
    """``(n, k)`` coordinates, each independently in [-c, c]: uniform, or the standard normal
    truncated there, drawn exactly by inverse CDF."""
    p = rng.random((n, k))
    if distribution == "uniform":
        return c * (2.0 * p - 1.0)
    lo = special.ndtr(-c)
    return special.ndtri(lo + p * (1.0 - 2.0 * lo))


def _sample_planes(
    n: int, k: int, r: float, distribution: str, rng: np.random.Generator
) -> np.ndarray:
    """``(n, k)`` coordinates whose consecutive pairs lie in the disc of radius ``r`` (a last odd
    coordinate in [-r, r]): uniform, or the standard normal restricted to it, exactly."""
    m = k // 2
    angle = 2.0 * np.pi * rng.random((n, m))
    p = rng.random((n, m))
    if distribution == "uniform":
        radius = r * np.sqrt(p)
    else:
        # The radius of a 2-D standard normal is Rayleigh: P(R <= s) = 1 - exp(-s^2 / 2).
        radius = np.sqrt(-2.0 * np.log1p(-p * -np.expm1(-(r**2) / 2.0)))
    u = np.empty((n, k))
    u[:, 0 : 2 * m : 2] = radius * np.cos(angle)
    u[:, 1 : 2 * m : 2] = radius * np.sin(angle)
    if k % 2:
        u[:, -1:] = _sample_axes(n, 1, r, distribution, rng)
    return u


def _coordinate_variance(bound: str, distribution: str, limit: float) -> float:
    """Variance of one sampled coordinate in sigma units (1 for an untruncated normal)."""
    if distribution == "uniform":
        # Uniform on [-c, c]: c^2 / 3; uniform in a disc of radius r: r^2 / 4 per coordinate.
        return limit**2 / 3.0 if bound == "axis" else limit**2 / 4.0
    if bound == "axis":
        # The standard normal truncated to [-c, c]: 1 - 2 c phi(c) / (2 Phi(c) - 1).
        mass = 1.0 - 2.0 * special.ndtr(-limit)
        return float(1.0 - 2.0 * limit * math.exp(-(limit**2) / 2) / math.sqrt(2 * math.pi) / mass)
    # Half of E[R^2 | R <= r] for the Rayleigh radius; R^2 is exponential with mean 2.
    a = limit**2 / 2.0
    return float(1.0 - a * math.exp(-a) / -math.expm1(-a))


def _log_mass(bound: str, limit: float, k: int, acceptance: float) -> float:
    """Log of the standard normal's mass inside the bound, in k dimensions."""
    if bound == "ball":
        return math.log(acceptance)
    if bound == "axis":
        return k * math.log1p(-2.0 * special.ndtr(-limit))
    pair = math.log(-math.expm1(-(limit**2) / 2.0))
    return (k // 2) * pair + (k % 2) * math.log1p(-2.0 * special.ndtr(-limit))


def _log_volume(bound: str, limit: float, k: int) -> float:
    """Log of the bound's volume in k dimensions (sigma units)."""
    if bound == "axis":
        return k * math.log(2.0 * limit)
    if bound == "plane":
        return (k // 2) * math.log(math.pi * limit**2) + (k % 2) * math.log(2.0 * limit)
    return (k / 2) * math.log(math.pi) + k * math.log(limit) - special.gammaln(k / 2 + 1)
