"""Radii of z-points against the uniform cube, and the cube size b that fits them best
(issue sections 4 and 6)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from latentatlas.analysis.blockstats import LocalDriver, as_rows, radii_block
from latentatlas.analysis.theory import cube_radii
from latentatlas.core.jsonable import jsonable
from latentatlas.core.rng import RandomState

# Multiples of the fitted b shown next to it by default.
DEFAULT_MULTIPLES = (0.5, 1.0, 1.5, 2.0)
# Quantile levels used to match two radius distributions (1-D Wasserstein-2 via quantiles).
N_QUANTILE_LEVELS = 2000
SUMMARY_QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
SHELL_QUANTILES = (0.01, 0.99)


def radii(Z) -> np.ndarray:
    """Euclidean norms of the points.

    Parameters
    ----------
    Z : array-like, shape (n, N)

    Returns
    -------
    ndarray, shape (n,)
    """
    return LocalDriver(as_rows(Z, min_rows=1)).map_rows(radii_block)


def _check_radii(r) -> np.ndarray:
    r = np.asarray(r, dtype=np.float64).ravel()
    if len(r) == 0 or not np.isfinite(r).all() or (r < 0).any():
        raise ValueError("radii must be a non-empty array of finite, non-negative numbers")
    return r


def fit_cube_b(r, N: int, random_state: RandomState = 0, n_mc: int = 20000) -> float:
    """The cube half-width b whose radius distribution best matches the radii ``r``.

    Radii of the cube [-b, b]^N are b times those of [-1, 1]^N, so the 1-D Wasserstein-2
    distance ``int_0^1 (q_r(u) - b q_1(u))^2 du`` between the quantile functions is a quadratic
    in b, minimised in closed form by ``b = E[q_r q_1] / E[q_1^2]``. The expectations run over
    ``N_QUANTILE_LEVELS`` mid-point levels; ``q_1`` comes from ``n_mc`` Monte Carlo radii.
    Linear in r: ``fit_cube_b(c * r, N) == c * fit_cube_b(r, N)``.

    Parameters
    ----------
    r : array-like, shape (n,)
        Radii (norms) of the real points.
    N : int
        Dimension of the cube.

    Returns
    -------
    float
    """
    r = _check_radii(r)
    q1 = _quantiles(cube_radii(N, 1.0, n_mc, random_state))
    qr = _quantiles(r)
    return float(np.dot(qr, q1) / np.dot(q1, q1))


def _quantiles(x: np.ndarray) -> np.ndarray:
    levels = (np.arange(N_QUANTILE_LEVELS) + 0.5) / N_QUANTILE_LEVELS
    return np.quantile(x, levels)


@dataclass(frozen=True, eq=False)  # arrays inside: compare to_dict() instead
class RadiiResult:
    """Real radii against uniform-cube radii for several b.

    ``real_radii`` (n,); ``bs`` the cube sizes compared (ascending, the fitted one included);
    ``cube_radii`` b -> (n_mc,) Monte Carlo radii; ``wasserstein`` b -> 1-D Wasserstein-1 distance
    (scipy) between the real and the cube radii; ``summary`` mean/std/min/max/quantiles of the
    real radii; ``cube_summary`` b -> mean and 1st/99th percentile of the cube radii.
    """

    real_radii: np.ndarray
    b_fitted: float | None
    bs: list[float]
    cube_radii: dict[float, np.ndarray]
    wasserstein: dict[float, float]
    summary: dict
    cube_summary: dict[float, dict]
    N: int
    n_mc: int

    @property
    def b_best(self) -> float:
        """The compared b with the smallest Wasserstein distance."""
        return min(self.wasserstein, key=self.wasserstein.get)

    def to_dict(self) -> dict:
        return jsonable(
            {
                "N": self.N,
                "n": len(self.real_radii),
                "n_mc": self.n_mc,
                "b_fitted": self.b_fitted,
                "b_best": self.b_best,
                "bs": self.bs,
                "real": self.summary,
                "cubes": [
                    {"b": b, "wasserstein": self.wasserstein[b], **self.cube_summary[b]}
                    for b in self.bs
                ],
            }
        )


def _summary(r: np.ndarray) -> dict:
    return {
        "mean": float(r.mean()),
        "std": float(r.std(ddof=1)) if len(r) > 1 else 0.0,
        "min": float(r.min()),
        "max": float(r.max()),
        "quantiles": {
            str(q): float(v)
            for q, v in zip(SUMMARY_QUANTILES, np.quantile(r, SUMMARY_QUANTILES), strict=True)
        },
    }


def radius_comparison(
    Z,
    bs: Sequence[float] | None = None,
    b_fit: str | float | None = "auto",
    random_state: RandomState = 0,
    n_mc: int = 20000,
    *,
    real_radii: np.ndarray | None = None,
) -> RadiiResult:
    """Compare the radius distribution of z-points with uniform cubes of several sizes.

    Parameters
    ----------
    Z : array-like, shape (n, N)
    bs : sequence of float, optional
        Cube half-widths to compare. Default: the fitted b times 0.5, 1, 1.5, 2.
    b_fit : "auto", float or None
        "auto" fits b with :func:`fit_cube_b`; a float is taken as given (e.g. ``--b 1.5``) and
        reported as ``b_fitted``; None skips fitting (``bs`` is then required).
    random_state : int, Generator or None
        Seed of the Monte Carlo cube radii.
    n_mc : int
        Monte Carlo points per cube (one run for b = 1, scaled: cube radii are linear in b).
    real_radii : ndarray, shape (n,), optional
        The radii of ``Z`` already computed (e.g. by ``store_statistics``): no pass over ``Z``.

    Returns
    -------
    RadiiResult
    """
    X = as_rows(Z, min_rows=2)
    N = X.shape[1]
    r = radii(X) if real_radii is None else _check_radii(real_radii)
    r1 = cube_radii(N, 1.0, n_mc, random_state)
    if isinstance(b_fit, str):
        if b_fit != "auto":
            raise ValueError(f"b_fit must be 'auto', a number or None, got {b_fit!r}")
        q1 = _quantiles(r1)
        b_fitted: float | None = float(np.dot(_quantiles(r), q1) / np.dot(q1, q1))
    elif b_fit is None:
        b_fitted = None
    else:
        b_fitted = float(b_fit)
        if not (np.isfinite(b_fitted) and b_fitted > 0):
            raise ValueError(f"b must be a positive number, got {b_fit}")
    if bs is None:
        if b_fitted is None:
            raise ValueError("give bs or a b to fit (b_fit='auto' or a number)")
        cand = [m * b_fitted for m in DEFAULT_MULTIPLES]
    else:
        cand = [float(b) for b in bs] + ([] if b_fitted is None else [b_fitted])
    if not cand or not all(np.isfinite(b) and b > 0 for b in cand):
        raise ValueError(f"cube sizes must be positive numbers, got {cand}")
    bs_used = sorted(set(cand))
    cube = {b: b * r1 for b in bs_used}
    lo, hi = np.quantile(r1, SHELL_QUANTILES)
    return RadiiResult(
        real_radii=r,
        b_fitted=b_fitted,
        bs=bs_used,
        cube_radii=cube,
        wasserstein={b: float(stats.wasserstein_distance(r, cube[b])) for b in bs_used},
        summary=_summary(r),
        cube_summary={
            b: {"mean": float(b * r1.mean()), "r_low": float(b * lo), "r_high": float(b * hi)}
            for b in bs_used
        },
        N=N,
        n_mc=int(n_mc),
    )


def union_coverage(
    r_real, bs: Sequence[float], N: int, random_state: RandomState = 0, n_mc: int = 20000
) -> dict:
    """What a union of cubes [-b, b]^N (one per b in ``bs``) covers of the real radii.

    Each cube puts its points in a thin shell; its radius interval is taken as the 1st–99th
    percentile of its Monte Carlo radii. A real radius in none of the intervals is "missed".

    Parameters
    ----------
    r_real : array-like, shape (n,)
    bs : sequence of float
    N : int

    Returns
    -------
    dict
        ``bs``; ``shells``: list of {b, r_low, r_high, share_real} (share of real radii inside
        that shell); ``share_covered``; ``share_missed`` = 1 - share_covered, split into
        ``share_below`` (inside the innermost shell), ``share_above`` (beyond the outermost) and
        ``share_between`` (in gaps between shells); ``n_real``; ``n_mc``.
    """
    r = _check_radii(r_real)
    bs = [float(b) for b in bs]
    if not bs or not all(np.isfinite(b) and b > 0 for b in bs):
        raise ValueError(f"bs must be a non-empty list of positive numbers, got {bs}")
    lo1, hi1 = np.quantile(cube_radii(N, 1.0, n_mc, random_state), SHELL_QUANTILES)
    shells, covered = [], np.zeros(len(r), dtype=bool)
    for b in sorted(set(bs)):
        inside = (r >= b * lo1) & (r <= b * hi1)
        covered |= inside
        shells.append(
            {"b": b, "r_low": b * lo1, "r_high": b * hi1, "share_real": float(inside.mean())}
        )
    below = r < shells[0]["r_low"]
    above = r > shells[-1]["r_high"]
    return jsonable(
        {
            "bs": [s["b"] for s in shells],
            "shells": shells,
            "share_covered": float(covered.mean()),
            "share_missed": float(1.0 - covered.mean()),
            "share_below": float(below.mean()),
            "share_above": float(above.mean()),
            "share_between": float((~covered & ~below & ~above).mean()),
            "n_real": len(r),
            "n_mc": int(n_mc),
        }
    )
