"""Spatial latents as what they are: C channels over H x W positions (numpy/scipy only).

A store whose ``store.json`` records ``latent_shape: [C, H, W]`` holds each latent flattened in
C-major order, ``z[c * H * W + h * W + w]`` (numpy's ``reshape(n, C, H, W)``; torch's
``flatten(1)`` of a (B, C, H, W) batch). :func:`spatial_stats` reads the (n, C*H*W) array in row
blocks (a memory-mapped float32 store is never converted whole) and returns, per channel, the
moments and histograms, the scale and shift that standardise it beside the model's configured
``scaling_factor``/``shift_factor``, per-position mean and std maps, the spatial
autocorrelation against distance, the cross-channel correlation, and how far N(0, I) at the
configured scale is from the latents.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from latentatlas.analysis.blockstats import Driver, LocalDriver, channel_statistics
from latentatlas.core.errors import LatentAtlasError
from latentatlas.core.jsonable import jsonable
from latentatlas.core.rng import RandomState, as_rng, subsample_indices

__all__ = ["SpatialStats", "radial_autocorrelation", "spatial_shape", "spatial_stats"]

# Rows a block holds: about 32 MB of float64 whatever N is.
BLOCK_VALUES = 2**22
HIST_BINS = 60
# N(0, I)'s radius interval that counts as "its shell" (central 99 %).
SHELL_LEVELS = (0.005, 0.995)
# Standard deviation and mean within which the latents count as unit-variance and centred.
UNIT_STD_TOLERANCE = 0.1
ZERO_MEAN_TOLERANCE = 0.1


def spatial_shape(meta: Mapping[str, Any], dim: int) -> tuple[int, int, int] | None:
    """The (C, H, W) a store's sidecar records for its latents, or None when it records no
    spatial shape (a flat latent, or one position per channel).

    Raises LatentAtlasError (one line) when the recorded shape does not multiply out to ``dim``.
    """
    shape = meta.get("latent_shape")
    if not isinstance(shape, list | tuple) or len(shape) != 3:
        return None
    try:
        c, h, w = (int(s) for s in shape)
    except (TypeError, ValueError):
        raise LatentAtlasError(
            f"store.json: latent_shape {shape!r} is not three integers"
        ) from None
    if min(c, h, w) < 1 or c * h * w != dim:
        raise LatentAtlasError(
            f"store.json: latent_shape {list(shape)} does not multiply out to N = {dim}"
        )
    return None if h * w == 1 else (c, h, w)


def _blocks(Z: Any, shape: tuple[int, int, int]) -> Iterator[np.ndarray]:
    """``(b, C, H, W)`` float64 blocks of the rows of ``Z``."""
    step = max(1, BLOCK_VALUES // math.prod(shape))
    for start in range(0, len(Z), step):
        yield np.asarray(Z[start : start + step], dtype=np.float64).reshape(-1, *shape)


def _check(Z: Any, shape: tuple[int, int, int]) -> None:
    if getattr(Z, "ndim", None) != 2 or Z.shape[1] != math.prod(shape):
        raise ValueError(
            f"Z must be an (n, {math.prod(shape)}) array for latent shape {shape}, "
            f"got shape {getattr(Z, 'shape', None)}"
        )
    if Z.shape[0] < 2:
        raise ValueError(f"Z needs at least 2 points, got {Z.shape[0]}")


def radial_autocorrelation(
    Z: Any, shape: tuple[int, int, int], mean: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-channel spatial autocorrelation against distance, averaged over the rows of ``Z``.

    Each channel's field, less its channel mean (``mean``, (C,); default estimated from ``Z``),
    is zero-padded to (2H, 2W) so that the FFT gives linear, not circular, lagged products;
    each lag's sum is divided by the number of position pairs at that lag, then by lag 0.

    Returns
    -------
    distance : (D,) integer distances 0 .. max(H, W) // 2 (further lags have few pairs)
    profile : (C, D) correlation at each distance (lags binned by rounded Euclidean distance)
    lag1 : (C,) correlation of horizontal and vertical neighbours (mean of the two)
    """
    c, h, w = shape
    if mean is None:
        total = sum(b.sum(axis=(0, 2, 3)) for b in _blocks(Z, shape))
        mean = total / (len(Z) * h * w)
    mean = np.asarray(mean, dtype=np.float64).reshape(1, c, 1, 1)
    size = (2 * h, 2 * w)
    power = np.zeros((c, 2 * h, w + 1))
    for block in _blocks(Z, shape):
        spec = np.fft.rfft2(block - mean, s=size)
        power += (spec.real**2 + spec.imag**2).sum(axis=0)
    lagged = np.fft.irfft2(power, s=size)
    ones = np.abs(np.fft.rfft2(np.ones((h, w)), s=size)) ** 2
    pairs = np.rint(np.fft.irfft2(ones, s=size))
    acov = np.where(pairs > 0, lagged / np.maximum(pairs, 1), 0.0)
    corr = acov / np.maximum(acov[:, :1, :1], np.finfo(np.float64).tiny)
    dy = np.fft.fftfreq(2 * h, 1 / (2 * h))[:, None]
    dx = np.fft.fftfreq(2 * w, 1 / (2 * w))[None, :]
    dist = np.rint(np.hypot(dy, dx)).astype(int)
    top = max(1, max(h, w) // 2)
    keep = (dist <= top) & (pairs > 0)
    weights = np.bincount(dist[keep], weights=pairs[keep], minlength=top + 1)
    profile = np.stack(
        [
            np.bincount(dist[keep], weights=(corr[k] * pairs)[keep], minlength=top + 1)
            for k in range(c)
        ]
    ) / np.maximum(weights, 1)
    neighbours = [corr[:, i, j] for i, j in ((0, 1), (1, 0)) if pairs[i, j] > 0]
    lag1 = np.mean(neighbours, axis=0) if neighbours else np.full(c, np.nan)
    return np.arange(top + 1), profile, lag1


def _crossing(distance: np.ndarray, profile: np.ndarray, level: float) -> float | None:
    """The distance where a decreasing correlation profile first falls below ``level`` (linear
    between the integer distances), None when it never does within the distances given."""
    below = np.flatnonzero(profile < level)
    if len(below) == 0:
        return None
    i = int(below[0])
    if i == 0:
        return 0.0
    y0, y1 = profile[i - 1], profile[i]
    return float(distance[i - 1] + (y0 - level) / (y0 - y1) * (distance[i] - distance[i - 1]))


@dataclass(frozen=True)
class SpatialStats:
    """What :func:`spatial_stats` measured; arrays per channel are (C,), maps (C, H, W)."""

    shape: tuple[int, int, int]
    n: int
    channel_mean: np.ndarray
    channel_std: np.ndarray
    channel_skewness: np.ndarray
    channel_kurtosis: np.ndarray  # excess (0 for a normal)
    hist_edges: np.ndarray  # (C, HIST_BINS + 1)
    hist_counts: np.ndarray  # (C, HIST_BINS)
    mean_map: np.ndarray
    std_map: np.ndarray
    channel_corr: np.ndarray  # (C, C), over samples and positions
    acf_distance: np.ndarray  # (D,)
    acf: np.ndarray  # (C, D)
    acf_sample: int
    lag1: np.ndarray
    corr_length_e: list[float | None]  # where the autocorrelation drops below 1/e
    corr_length_half: list[float | None]  # ... below 0.5
    radii: np.ndarray  # (n,)
    scaling: dict[str, Any]
    gaussian_gap: dict[str, Any]
    verdict: str

    @property
    def max_cross_channel(self) -> float:
        """The largest |correlation| between two different channels (0 for one channel)."""
        off = self.channel_corr[~np.eye(len(self.channel_corr), dtype=bool)]
        return float(np.abs(off).max()) if off.size else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready numbers (no histograms or maps: those go to the figures)."""
        c = self.shape[0]
        return jsonable(
            {
                "latent_shape": list(self.shape),
                "order": "C-major: z[c*H*W + h*W + w]",
                "n": self.n,
                "channels": [
                    {
                        "channel": k,
                        "mean": self.channel_mean[k],
                        "std": self.channel_std[k],
                        "skewness": self.channel_skewness[k],
                        "excess_kurtosis": self.channel_kurtosis[k],
                        "lag1_correlation": self.lag1[k],
                        "correlation_length_1_over_e": self.corr_length_e[k],
                        "correlation_length_half": self.corr_length_half[k],
                    }
                    for k in range(c)
                ],
                "position_mean_range": [self.mean_map.min(), self.mean_map.max()],
                "position_std_range": [self.std_map.min(), self.std_map.max()],
                "channel_correlation": self.channel_corr,
                "max_abs_cross_channel_correlation": self.max_cross_channel,
                "autocorrelation": {
                    "distance": self.acf_distance,
                    "per_channel": self.acf,
                    "sample": self.acf_sample,
                },
                "scaling": self.scaling,
                "gaussian_gap": self.gaussian_gap,
                "verdict": self.verdict,
            }
        )


def _factors(meta: Mapping[str, Any]) -> tuple[float | None, float | None]:
    scale, shift = meta.get("scaling_factor"), meta.get("shift_factor")
    return (
        None if scale is None else float(scale),
        None if shift is None else float(shift),
    )


def _scaling(
    mean: float,
    std: float,
    ch_mean: np.ndarray,
    ch_std: np.ndarray,
    scale: float | None,
    shift: float | None,
) -> dict[str, Any]:
    """The scale and shift that make the latents zero-mean, unit-variance, in the model's
    convention: stored z = (raw - shift_factor) * scaling_factor, so raw = z / scale + shift and
    the standardising factors are scale / std(z) and mean(z) / scale + shift."""
    s = 1.0 if scale is None else scale
    t = 0.0 if shift is None else shift
    return {
        "configured_scaling_factor": scale,
        "configured_shift_factor": shift,
        "mean_at_configured": mean,
        "std_at_configured": std,
        "scaling_factor_for_unit_std": s / std,
        "shift_factor_for_zero_mean": mean / s + t,
        # Without a shift (SD 1.x/2.x/SDXL's convention): the scale that gives unit second moment.
        "scaling_factor_for_unit_rms_without_shift": s / math.sqrt(std**2 + (mean + t * s) ** 2),
        "per_channel_scaling_factor": s / ch_std,
        "per_channel_shift_factor": ch_mean / s + t,
    }


def _verdict(sc: dict[str, Any], ch_mean: np.ndarray, ch_std: np.ndarray, gap: dict) -> str:
    """The section's conclusion in plain words: the overall and per-channel scale, and whether
    N(0, I) at the configured scale lands where the latents are."""
    scale, shift = sc["configured_scaling_factor"], sc["configured_shift_factor"]
    mean, std = sc["mean_at_configured"], sc["std_at_configured"]
    if scale is None:
        where = "As stored (the model configures no scaling_factor)"
    else:
        where = f"At the configured scaling_factor {scale:.6g}" + (
            f" and shift_factor {shift:.6g}" if shift else ""
        )
    text = (
        f"{where} the latents have mean {mean:.3g} and standard deviation {std:.3g} over all "
        f"channels (per channel {ch_std.min():.3g} to {ch_std.max():.3g})"
    )
    if abs(std - 1) <= UNIT_STD_TOLERANCE and abs(mean) <= ZERO_MEAN_TOLERANCE:
        text += ": unit variance overall."
    else:
        text += (
            f"; unit variance needs scaling_factor {sc['scaling_factor_for_unit_std']:.4g}"
            f" with shift_factor {sc['shift_factor_for_zero_mean']:.4g}"
            f" (without a shift: {sc['scaling_factor_for_unit_rms_without_shift']:.4g})."
        )
    off = (np.abs(ch_std - 1) > UNIT_STD_TOLERANCE) | (np.abs(ch_mean) > ZERO_MEAN_TOLERANCE)
    if off.any() and len(ch_std) > 1:
        per = sc["per_channel_scaling_factor"]
        text += (
            f" {int(off.sum())} of {len(ch_std)} channels are not zero-mean and unit-variance "
            f"at that scale (per-channel scaling factors {per.min():.4g} to {per.max():.4g}): "
            "no single factor makes every channel N(0, 1)."
        )
    lo, hi = gap["radius_range_over_sqrt_n"]
    shell_lo, shell_hi = (v / math.sqrt(gap["dimension"]) for v in gap["normal_shell"])
    inside = gap["radius_share_in_normal_shell"]
    text += (
        f" {100 * inside:.0f} % of the latents have a radius inside N(0, I)'s 99 % shell "
        f"({shell_lo:.3g} to {shell_hi:.3g} x sqrt(N); the latents' central 98 %: {lo:.3g} to "
        f"{hi:.3g} x sqrt(N)), so samples of N(0, I) "
        + ("land where the latents are" if inside >= 0.9 else "miss the latents' shell")
    )
    kurt = gap["max_abs_channel_excess_kurtosis"]
    text += f"; the most heavy- or light-tailed channel has excess kurtosis {kurt:.3g}."
    return text


def _gaussian_gap(
    Z: Any,
    ch_mean: np.ndarray,
    ch_std: np.ndarray,
    ch_kurt: np.ndarray,
    mean_map: np.ndarray,
    std_map: np.ndarray,
    r: np.ndarray,
    two_sample_points: int,
    rng: np.random.Generator,
) -> dict[str, Any]:
    """How far N(0, I) (the latents as stored, i.e. at the configured scale) is from them."""
    dim = mean_map.size
    kl = 0.5 * (ch_std**2 + ch_mean**2 - 1.0) - np.log(ch_std)
    lo, hi = stats.chi.ppf(SHELL_LEVELS, dim)
    gap: dict[str, Any] = {
        # KL(N(mean_c, std_c^2) || N(0, 1)) per value, and the 1-D Frechet distance (W2^2).
        "per_channel_kl": kl,
        "per_channel_frechet": ch_mean**2 + (ch_std - 1.0) ** 2,
        # The Frechet distance to N(0, I) of the per-position Gaussian (diagonal covariance),
        # per dimension: 0 when every position is N(0, 1).
        "diagonal_frechet_per_dim": float(
            (np.sum(mean_map**2) + np.sum((std_map - 1.0) ** 2)) / dim
        ),
        "normal_shell": [float(lo), float(hi)],
        "radius_share_in_normal_shell": float(np.mean((r >= lo) & (r <= hi))),
        "median_radius_over_sqrt_n": float(np.median(r) / math.sqrt(dim)),
        "radius_range_over_sqrt_n": (np.quantile(r, [0.01, 0.99]) / math.sqrt(dim)).tolist(),
        "dimension": dim,
        "max_abs_channel_excess_kurtosis": float(np.max(np.abs(ch_kurt))),
    }
    if two_sample_points >= 2:
        from latentatlas.metrics.mmd import mmd_test

        rows = subsample_indices(len(Z), two_sample_points, rng)
        real = np.asarray(Z[rows], dtype=np.float64)
        noise = rng.standard_normal((len(real), dim))
        test = mmd_test(real, noise, max_points=None, random_state=rng)
        gap["mmd_vs_normal"] = {k: test[k] for k in ("mmd2", "p_value", "n_real", "n_fake")}
    return gap


def spatial_stats(
    Z: Any,
    shape: tuple[int, int, int],
    meta: Mapping[str, Any] | None = None,
    *,
    acf_sample: int | None = 2000,
    two_sample_points: int = 200,
    random_state: RandomState = 0,
    driver: Driver | None = None,
) -> SpatialStats:
    """Everything the spatial section shows, from (n, C*H*W) latents in C-major order.

    Parameters
    ----------
    Z : array-like, shape (n, C*H*W)
        Read in row blocks of about 32 MB (a memmap stays on disk); any float dtype.
    shape : (C, H, W)
    meta : the store's sidecar: ``scaling_factor`` and ``shift_factor`` when it records them
        (z is then taken to be ``(raw - shift_factor) * scaling_factor``, diffusers' convention).
    acf_sample : rows the autocorrelation averages over (a seeded subsample; None: all).
    two_sample_points : real points (and as many N(0, I) draws) of the MMD test against N(0, I);
        below 2 skips it.
    random_state : seeds both subsamples and the N(0, I) draws.
    driver : runs the per-channel moments (``blockstats.channel_statistics``); the atlas passes
        its own, so ``--dask`` computes them on the cluster. Default: local row blocks of ``Z``.
    """
    _check(Z, shape)
    c, h, w = shape
    n, per = len(Z), h * w
    rng = as_rng(random_state)
    moments = channel_statistics(driver or LocalDriver(Z), c)
    ch_mean, ch_std = moments["mean"], moments["std"]
    lo, hi = moments["minimum"], moments["maximum"]
    var = ch_std**2
    # A constant channel keeps finite numbers on the page: skewness 0, excess kurtosis -3.
    ch_skew = np.where(var > 0, moments["skewness"], 0.0)
    ch_kurt = np.where(var > 0, moments["kurtosis"], -3.0)
    cov = moments["covariance"]
    denom = np.sqrt(np.outer(np.diag(cov), np.diag(cov)))
    channel_corr = np.where(denom > 0, cov / np.maximum(denom, 1e-300), 0.0)
    np.fill_diagonal(channel_corr, 1.0)
    # The radii and the per-position maps, about the channel means.
    pc = ch_mean.reshape(1, c, 1)
    pos1, pos2 = np.zeros((c, per)), np.zeros((c, per))
    r = np.empty(n)
    start = 0
    for block in _blocks(Z, shape):
        b = len(block)
        x = block.reshape(b, c, per)
        r[start : start + b] = np.sqrt(np.einsum("ij,ij->i", x.reshape(b, -1), x.reshape(b, -1)))
        start += b
        d = x - pc
        pos1 += d.sum(axis=0)
        pos2 += (d * d).sum(axis=0)
    pm = pos1 / n
    mean_map = (ch_mean[:, None] + pm).reshape(c, h, w)
    std_map = np.sqrt(np.maximum(pos2 / n - pm**2, 0.0)).reshape(c, h, w)
    total_mean = float(ch_mean.mean())
    total_std = float(np.sqrt(np.mean(var + ch_mean**2) - total_mean**2))

    # Histograms over each channel's range.
    edges = np.linspace(lo, hi, HIST_BINS + 1, axis=1)
    width = np.where(hi > lo, (hi - lo) / HIST_BINS, 1.0)
    counts = np.zeros(c * HIST_BINS, dtype=np.int64)
    offset = (np.arange(c) * HIST_BINS)[None, :, None]
    for block in _blocks(Z, shape):
        x = block.reshape(len(block), c, per)
        idx = ((x - lo[None, :, None]) / width[None, :, None]).astype(np.int64)
        idx = np.clip(idx, 0, HIST_BINS - 1) + offset
        counts += np.bincount(idx.ravel(), minlength=c * HIST_BINS)
    rows = subsample_indices(n, acf_sample, rng)
    sub = Z if len(rows) == n else _Rows(Z, rows)
    distance, acf, lag1 = radial_autocorrelation(sub, shape, ch_mean)

    scale, shift = _factors(meta or {})
    sc = _scaling(total_mean, total_std, ch_mean, ch_std, scale, shift)
    gap = _gaussian_gap(Z, ch_mean, ch_std, ch_kurt, mean_map, std_map, r, two_sample_points, rng)
    return SpatialStats(
        shape=(c, h, w),
        n=n,
        channel_mean=ch_mean,
        channel_std=ch_std,
        channel_skewness=ch_skew,
        channel_kurtosis=ch_kurt,
        hist_edges=edges,
        hist_counts=counts.reshape(c, HIST_BINS),
        mean_map=mean_map,
        std_map=std_map,
        channel_corr=channel_corr,
        acf_distance=distance,
        acf=acf,
        acf_sample=len(rows),
        lag1=lag1,
        corr_length_e=[_crossing(distance, a, 1 / math.e) for a in acf],
        corr_length_half=[_crossing(distance, a, 0.5) for a in acf],
        radii=r,
        scaling=sc,
        gaussian_gap=gap,
        verdict=_verdict(sc, ch_mean, ch_std, gap),
    )


class _Rows:
    """The sorted ``rows`` of ``Z`` as an array-like that :func:`_blocks` slices (the rows of a
    memmap are read block by block, never copied whole)."""

    def __init__(self, Z: Any, rows: np.ndarray) -> None:
        self.Z, self.rows = Z, rows
        self.shape = (len(rows), Z.shape[1])

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: slice) -> np.ndarray:
        return np.asarray(self.Z[self.rows[index]])
