"""Component-wise distributions and normality of z-points (issue section 1)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.special import logsumexp

from latentatlas.analysis.blockstats import (
    LocalDriver,
    StoreStatistics,
    as_rows,
    store_statistics,
)
from latentatlas.analysis.gaussian import MahalanobisModel, _whitening, single_threaded_blas
from latentatlas.core.jsonable import jsonable
from latentatlas.core.rng import RandomState, as_rng, subsample_indices
from latentatlas.core.validation import check_fraction

# Shapiro–Wilk's p-value approximation is only valid up to n = 5000 (scipy warns beyond).
SHAPIRO_MAX_N = 5000
# Components tested at once (the float64 copy of a group stays small at N = 65,536).
SHAPIRO_COLUMNS = 1024


@dataclass(frozen=True, eq=False)  # arrays inside: compare to_dict() instead
class ComponentStats:
    """Per-component summary of z-points; every array has shape (N,).

    ``std`` is the sample standard deviation (ddof=1); ``skewness`` and ``kurtosis`` (excess, 0 for
    a normal) are the bias-corrected sample estimates (scipy's ``bias=False``); a constant
    component has NaN skewness and kurtosis.
    """

    mean: np.ndarray
    std: np.ndarray
    skewness: np.ndarray
    kurtosis: np.ndarray
    minimum: np.ndarray
    maximum: np.ndarray
    n: int

    def to_dict(self) -> dict:
        return jsonable(
            {
                "n": self.n,
                "N": len(self.mean),
                "mean": self.mean,
                "std": self.std,
                "skewness": self.skewness,
                "kurtosis": self.kurtosis,
                "minimum": self.minimum,
                "maximum": self.maximum,
                "max_abs_skewness": _nanmax(np.abs(self.skewness)),
                "max_abs_kurtosis": _nanmax(np.abs(self.kurtosis)),
            }
        )


def _nanmax(a: np.ndarray) -> float | None:
    return float(np.nanmax(a)) if np.isfinite(a).any() else None


def component_stats(Z, *, statistics: StoreStatistics | None = None) -> ComponentStats:
    """Mean, std, skewness, excess kurtosis, min and max of each component.

    Two passes over row blocks (mean, then central moments m2, m3, m4; see
    :mod:`~latentatlas.analysis.blockstats`), so a memory-mapped store is read one block at a time;
    skewness and kurtosis are then bias-corrected exactly as
    ``scipy.stats.skew/kurtosis(..., bias=False)`` do.

    Parameters
    ----------
    Z : array-like, shape (n, N), n >= 2
    statistics : StoreStatistics, optional
        The moments of ``Z`` already computed (e.g. on a Dask cluster): no pass over the data.

    Returns
    -------
    ComponentStats
    """
    X = as_rows(Z, min_rows=2)
    if statistics is None:
        statistics = store_statistics(LocalDriver(X), covariance=False, radii=False)
    return stats_from_moments(statistics)


def stats_from_moments(st: StoreStatistics) -> ComponentStats:
    """:class:`ComponentStats` from the moments of :func:`store_statistics`."""
    n, mean, m2, m3, m4 = st.n, st.mean, st.m2, st.m3, st.m4
    N = len(mean)
    with np.errstate(divide="ignore", invalid="ignore"):
        # A (numerically) constant component has no shape: NaN, as scipy returns.
        flat = m2 <= (np.finfo(np.float64).resolution * mean) ** 2  # scipy's rule
        g1 = np.where(flat, np.nan, m3 / m2**1.5)
        g2 = np.where(flat, np.nan, m4 / m2**2 - 3.0)
        # The corrections need n > 2 (skewness) and n > 3 (kurtosis); below that: NaN.
        skew = np.sqrt((n - 1.0) * n) / (n - 2.0) * g1 if n > 2 else np.full(N, np.nan)
        kurt = (
            ((n + 1.0) * g2 + 6.0) * (n - 1.0) / ((n - 2.0) * (n - 3.0))
            if n > 3
            else np.full(N, np.nan)
        )
    return ComponentStats(
        mean=mean,
        std=np.sqrt(m2 * n / (n - 1.0)),
        skewness=skew,
        kurtosis=kurt,
        minimum=st.minimum,
        maximum=st.maximum,
        n=n,
    )


def extreme_components(stats_: ComponentStats, k: int = 4) -> list[int]:
    """The ``k`` components whose shape is furthest from normal.

    Ranked by the Jarque–Bera shape score ``skewness**2 + kurtosis**2 / 4`` (both 0 for a normal
    distribution); ties keep component order; constant components (NaN) come last.

    Returns
    -------
    list of int, length ``min(k, N)``
    """
    score = stats_.skewness**2 + stats_.kurtosis**2 / 4.0
    score = np.where(np.isfinite(score), score, -np.inf)
    order = np.argsort(-score, kind="stable")
    return [int(j) for j in order[: max(int(k), 0)]]


def trim_outliers(
    Z, quantile: float = 0.99, *, model: MahalanobisModel | None = None
) -> tuple[np.ndarray, np.ndarray, float]:
    """Drop the points beyond a Mahalanobis radius (the ``quantile`` of the points' own distances).

    Parameters
    ----------
    Z : array-like, shape (n, N)
    quantile : float in (0, 1]
        Share of points kept (up to ties): 0.99 drops the 1 % furthest from the bulk.
    model : MahalanobisModel, optional
        An already fitted model to reuse (saves a covariance pass on large inputs).

    Returns
    -------
    core : ndarray, shape (m, N)
    keep_mask : ndarray of bool, shape (n,)
    radius : float
        Points with Mahalanobis distance ``<= radius`` are kept.
    """
    X = as_rows(Z, min_rows=2)
    quantile = check_fraction(quantile, "quantile")
    model = model if model is not None else MahalanobisModel().fit(X)
    d = model.distances_of(X)
    radius = float(np.quantile(d, quantile))
    keep = d <= radius
    return np.asarray(X[keep], dtype=np.float64), keep, radius


def henze_zirkler(X, *, block_rows: int = 1024) -> tuple[float, float]:
    """Henze–Zirkler test of multivariate normality (Henze & Zirkler 1990).

    Statistic and log-normal p-value approximation as in the R package MVN and
    ``pingouin.multivariate_normality``: smoothing ``beta = ((2N+1) n / 4)^(1/(N+4)) / sqrt(2)``,
    the maximum-likelihood covariance (divisor n), Mahalanobis terms through an eigh-based
    pseudo-inverse (stable when n is not much larger than N). As in MVN, a singular covariance
    (rank < N, e.g. n <= N) gives the statistic ``4 n`` (normality rejected).

    Unlike those packages the arithmetic is done around 1 and in log space: for large N every
    data-dependent term is below ``1e-30`` (e.g. N = 256), so ``1 + tiny`` and the log-normal's
    ``log(1 + si2 / mu^2)`` round to exactly 1 / 0 in float64 and the reference code returns NaN
    or a 0/1 step. The same formulas evaluated with ``log1p``/``logsumexp`` stay finite. Note that
    at such N the test has little power (the statistic is dominated by constants); it is
    informative for moderate N.

    The O(n^2) pair sum runs in row blocks, so memory is O(block_rows * n).

    Parameters
    ----------
    X : array-like, shape (n, N), n >= 3

    Returns
    -------
    statistic, p_value : float
        The statistic as a float is ``1 + delta`` (so it may print as 1.0 for large N while the
        p-value still uses ``delta``).
    """
    X = as_rows(X, min_rows=3, name="X")
    n, p = X.shape
    # n <= p points span at most n - 1 dimensions: singular without forming the (p, p) matrix.
    rank = 0
    if n > p:
        X = np.asarray(X, dtype=np.float64)
        Xc = X - X.mean(axis=0)
        with single_threaded_blas():
            S = (Xc.T @ Xc) / n
        W, _, rank = _whitening(S, None)
    beta = ((2 * p + 1) * n / 4.0) ** (1.0 / (p + 4)) / np.sqrt(2.0)
    b2 = beta**2
    a = 1.0 + 2.0 * b2
    if rank == p:
        # HZ = n [ n^-2 sum_jk e^{-b2/2 D_jk} - 2 (1+b2)^{-p/2} n^-1 sum_j e^{-b2 D_j/(2(1+b2))}
        #          + a^{-p/2} ];  the n diagonal terms (D_jj = 0) contribute exactly 1, so
        # HZ = 1 + delta with delta = T1 - T2 + T3, each term kept as a logarithm.
        Y = Xc @ W  # whitened: squared Mahalanobis distances are plain squared norms
        dj = np.einsum("ij,ij->i", Y, Y)
        log_t1 = _log_offdiag_pair_sum(Y, dj, b2, block_rows) - np.log(n)
        log_t2 = np.log(2.0) - p / 2.0 * np.log1p(b2) + logsumexp(-b2 / (2.0 * (1.0 + b2)) * dj)
        log_t3 = np.log(n) - p / 2.0 * np.log(a)
        m = max(log_t1, log_t2, log_t3)
        delta = np.exp(m) * (np.exp(log_t1 - m) - np.exp(log_t2 - m) + np.exp(log_t3 - m))
    else:
        delta = 4.0 * n - 1.0
    # Mean and variance of HZ under normality -> log-normal approximation of its distribution.
    wb = (1.0 + b2) * (1.0 + 3.0 * b2)
    one_minus_mu = np.exp(-p / 2.0 * np.log(a)) * (
        1.0 + p * b2 / a + p * (p + 2) * b2**2 / (2.0 * a**2)
    )
    si2 = (
        2.0 * np.exp(-p / 2.0 * np.log1p(4.0 * b2))
        + 2.0
        * np.exp(-p * np.log(a))
        * (1.0 + 2.0 * p * b2**2 / a**2 + 3.0 * p * (p + 2) * b2**4 / (4.0 * a**4))
        - 4.0
        * np.exp(-p / 2.0 * np.log(wb))
        * (1.0 + 3.0 * p * b2**2 / (2.0 * wb) + p * (p + 2) * b2**4 / (2.0 * wb**2))
    )
    log_mu = np.log1p(-one_minus_mu)
    ratio = np.log1p(si2 / np.exp(2.0 * log_mu))  # log((si2 + mu^2) / mu^2)
    if not (np.isfinite(ratio) and ratio > 0.0):  # all moments underflowed (N in the thousands)
        return float(1.0 + delta), float("nan")
    psi = np.sqrt(ratio)
    pmu = log_mu - 0.5 * ratio  # log(sqrt(mu^4 / (si2 + mu^2)))
    # lognorm.sf(HZ, psi, scale=exp(pmu)) written with log(HZ) = log1p(delta).
    p_value = float(stats.norm.sf((np.log1p(delta) - pmu) / psi))
    return float(1.0 + delta), p_value


def _log_offdiag_pair_sum(Y: np.ndarray, dj: np.ndarray, b2: float, block_rows: int) -> float:
    """``log sum_{j != k} exp(-b2/2 * |y_j - y_k|^2)``, streamed over row blocks (running
    log-sum-exp, so terms like ``exp(-500)`` neither underflow nor need an (n, n) matrix)."""
    n = len(Y)
    running = -np.inf
    for start in range(0, n, block_rows):
        Yb = Y[start : start + block_rows]
        djk = dj[start : start + len(Yb), None] + dj[None, :] - 2.0 * (Yb @ Y.T)
        np.maximum(djk, 0.0, out=djk)  # rounding can make tiny squared distances negative
        v = -0.5 * b2 * djk
        v[np.arange(len(Yb)), np.arange(start, start + len(Yb))] = -np.inf  # the diagonal is 1
        running = np.logaddexp(running, logsumexp(v))
    return float(running)


@dataclass(frozen=True, eq=False)  # arrays inside: compare to_dict() instead
class NormalityResult:
    """Per-component (Shapiro–Wilk) and joint (Henze–Zirkler) normality of the trimmed core.

    ``shapiro_p`` has shape (N,). ``n_used`` points (a random subsample of the core) enter both
    tests (Shapiro–Wilk uses a random 5000 of them at most: ``shapiro_n``). ``n_trimmed`` of the
    ``n_total`` points lay beyond the Mahalanobis radius ``trim_radius``.
    """

    shapiro_p: np.ndarray
    share_rejected: float
    hz_statistic: float
    hz_p_value: float
    n_used: int
    n_trimmed: int
    trim_radius: float
    alpha: float
    n_total: int
    shapiro_n: int
    trim_quantile: float
    sample: int | None

    @property
    def hz_rejected(self) -> bool:
        return bool(self.hz_p_value < self.alpha)

    def to_dict(self) -> dict:
        return jsonable(
            {
                "shapiro_p": self.shapiro_p,
                "share_rejected": self.share_rejected,
                "n_rejected": int((self.shapiro_p < self.alpha).sum()),
                "hz_statistic": self.hz_statistic,
                "hz_p_value": self.hz_p_value,
                "hz_rejected": self.hz_rejected,
                "n_used": self.n_used,
                "n_trimmed": self.n_trimmed,
                "n_total": self.n_total,
                "trim_radius": self.trim_radius,
                "trim_quantile": self.trim_quantile,
                "alpha": self.alpha,
                "shapiro_n": self.shapiro_n,
                "sample": self.sample,
            }
        )


def normality(
    Z,
    sample: int | None = 2000,
    trim_quantile: float = 0.99,
    alpha: float = 0.05,
    random_state: RandomState = 0,
    *,
    model: MahalanobisModel | None = None,
) -> NormalityResult:
    """Normality of each component and of the whole distribution, on the trimmed core.

    Outliers beyond the ``trim_quantile`` Mahalanobis radius (fitted on all n points) are dropped
    first; then ``sample`` points of the core (all if None or larger) are drawn at random and
    tested: Shapiro–Wilk per component (``scipy.stats.shapiro``) and Henze–Zirkler jointly.

    Parameters
    ----------
    Z : array-like, shape (n, N), n >= 3
    sample : int or None
        Subsample size for the tests (Henze–Zirkler is O(sample^2)).
    trim_quantile : float in (0, 1]
        1.0 keeps every point.
    alpha : float
        Significance level for ``share_rejected`` / ``hz_rejected``.
    random_state : int, Generator or None
    model : MahalanobisModel, optional
        A model already fitted on ``Z`` (reused for the trimming).

    Returns
    -------
    NormalityResult
    """
    X = as_rows(Z, min_rows=3)
    alpha = check_fraction(alpha, "alpha")
    rng = as_rng(random_state)
    trim_quantile = check_fraction(trim_quantile, "trim_quantile")
    model = model if model is not None else MahalanobisModel().fit(X)
    d = model.distances_of(X)
    radius = float(np.quantile(d, trim_quantile))  # as trim_outliers, without copying the core
    keep = d <= radius
    core_idx = np.flatnonzero(keep)
    if len(core_idx) < 3:
        raise ValueError(f"only {len(core_idx)} points left after trimming; need at least 3")
    S = X[core_idx[subsample_indices(len(core_idx), sample, rng)]]
    S_sw = S[subsample_indices(len(S), SHAPIRO_MAX_N, rng)]
    shapiro_n = len(S_sw)
    shapiro_p = np.empty(X.shape[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "range zero" for constant components
        for c in range(0, X.shape[1], SHAPIRO_COLUMNS):  # column groups: no float64 copy of all
            cols = np.asarray(S_sw[:, c : c + SHAPIRO_COLUMNS], dtype=np.float64)
            shapiro_p[c : c + cols.shape[1]] = stats.shapiro(cols, axis=0).pvalue
    hz, hz_p = henze_zirkler(S)
    return NormalityResult(
        shapiro_p=shapiro_p,
        share_rejected=float(np.mean(shapiro_p < alpha)),
        hz_statistic=hz,
        hz_p_value=hz_p,
        n_used=len(S),
        n_trimmed=int(len(X) - keep.sum()),
        trim_radius=radius,
        alpha=alpha,
        n_total=len(X),
        shapiro_n=shapiro_n,
        trim_quantile=float(trim_quantile),
        sample=None if sample is None else int(sample),
    )
