"""A Gaussian field for spatial latents (C x H x W, flattened C-major): per-channel means and a
stationary spatial covariance across channels, fitted and sampled by FFT.

The model is the stationary Gaussian whose cross-spectral density is the data's: at every 2-D
frequency k the C x C matrix ``S(k) = E[X(k) X(k)^H] / (H W)`` of the centred fields' FFTs
(periodic boundaries: the fields are taken to live on an H x W torus). Sampling filters white
noise, ``y = irfft2(L(k) rfft2(w))`` with ``L L^H = S``; the density is exact in the Fourier
basis (a unitary change of variables), so ``score_samples`` costs O(n N log N + n C^2 H W).
Nothing of size N x N is ever formed, so it fits N = 65,536 (16 x 64 x 64) in seconds.

Latents are not periodic: on the torus each row's last position neighbours its first, a pair
that hardly correlates in a real latent, so neighbour correlations come out about 1/H of
themselves lower than in the data (1.6 % at 64 x 64, 3 % at 32 x 32); the zero-padded estimate a
linear, edge-free covariance would need is too noisy at long lags to stay positive definite.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from latentatlas.generators.base import BaseGenerator, summarise_array

__all__ = ["StationaryGaussian"]

LOG_2PI = math.log(2.0 * math.pi)
# Added to every S(k) relative to its mean diagonal: keeps each C x C matrix positive definite
# when fewer points than channels (or a constant frequency) leave it singular.
RIDGE = 1e-6
# Rows a block holds: about 32 MB of float64 whatever N is.
BLOCK_VALUES = 2**22


class StationaryGaussian(BaseGenerator):
    """Gaussian z-points with per-channel means and a stationary cross-channel spatial
    covariance: what a convolutional VAE's latent looks like to second order.

    Parameters
    ----------
    latent_shape : (C, H, W) or None
        How each z-point's N = C*H*W components are laid out (C-major, as ``store.json``'s
        ``latent_shape``); required (``compare`` and ``sample`` pass the store's).
    temperature : float > 0
        Scales samples about the mean (see :class:`BaseGenerator`).

    Attributes
    ----------
    latent_shape_ : tuple (C, H, W)
    channel_mean_ : (C,)
    spectrum_ : complex (H * (W // 2 + 1), C, C), the cross-spectral density on rfft2's grid
    mean_ : (N,) the channel means at every position
    n_features_in_ : int
    """

    _fitted_arrays = ("channel_mean_", "spectrum_")
    _fitted_scalars = ("latent_shape_",)

    def __init__(self, latent_shape: Any = None, temperature: float = 1.0) -> None:
        self.latent_shape = latent_shape
        self.temperature = temperature

    def _shape(self, dim: int) -> tuple[int, int, int]:
        if self.latent_shape is None:
            raise ValueError(
                "the spatial generator needs latent_shape (C, H, W): use a store whose "
                "store.json records a latent_shape of three sizes"
            )
        try:
            shape = tuple(int(s) for s in self.latent_shape)
        except (TypeError, ValueError):
            raise ValueError(f"latent_shape must be (C, H, W), got {self.latent_shape!r}") from None
        if len(shape) != 3 or min(shape) < 1 or math.prod(shape) != dim:
            raise ValueError(
                f"latent_shape {list(shape)} does not lay out the {dim} components of Z "
                "as C x H x W"
            )
        return shape  # type: ignore[return-value]

    def _blocks(self, Z: np.ndarray) -> Iterator[np.ndarray]:
        c, h, w = self.latent_shape_
        step = max(1, BLOCK_VALUES // Z.shape[1])
        for start in range(0, len(Z), step):
            block = np.asarray(Z[start : start + step], dtype=np.float64)
            if not np.isfinite(block).all():
                raise ValueError("Z contains NaN or inf")
            yield block.reshape(-1, c, h, w)

    def fit(self, Z, y=None) -> StationaryGaussian:
        """Learn the channel means and the cross-spectral density from ``Z`` (n, C*H*W), read
        in row blocks (a memory-mapped store is not copied whole)."""
        Z = np.asarray(Z)
        if Z.ndim != 2 or Z.shape[1] == 0 or not np.issubdtype(Z.dtype, np.number):
            raise ValueError(f"Z must be a numeric (n, N) array, got shape {Z.shape}")
        if len(Z) < 2:
            raise ValueError(f"Z needs at least 2 points, got {len(Z)}")
        self.latent_shape_ = self._shape(Z.shape[1])
        c, h, w = self.latent_shape_
        total = np.zeros(c)
        for block in self._blocks(Z):
            total += block.sum(axis=(0, 2, 3))
        mean = total / (len(Z) * h * w)
        cross = np.zeros((h * (w // 2 + 1), c, c), dtype=np.complex128)
        for block in self._blocks(Z):
            X = np.fft.rfft2(block - mean[:, None, None]).reshape(len(block), c, -1)
            cross += np.einsum("bck,bdk->kcd", X, X.conj())
        S = cross / ((len(Z) - 1) * h * w)
        S = _hermitian_columns(0.5 * (S + S.conj().transpose(0, 2, 1)), h, w)
        scale = max(float(np.mean(np.einsum("kcc->kc", S).real)), np.finfo(np.float64).tiny)
        self.spectrum_ = S + RIDGE * scale * np.eye(c)
        self.channel_mean_ = mean
        self.n_features_in_ = int(Z.shape[1])
        self._restore()
        return self

    def _restore(self) -> None:
        self.latent_shape_ = tuple(int(s) for s in self.latent_shape_)
        c, h, w = self.latent_shape_
        self.mean_ = np.repeat(np.asarray(self.channel_mean_, dtype=np.float64), h * w)
        self._chol = np.linalg.cholesky(self.spectrum_)
        # Each rfft2 column stands for itself and its mirror -k, but for the columns (k_x = 0
        # and, for even W, k_x = W/2) that hold their own mirrors.
        weights = np.full((h, w // 2 + 1), 2.0)
        weights[:, 0] = 1.0
        if w % 2 == 0:
            weights[:, -1] = 1.0
        self._weights = weights.ravel()

    def _sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        c, h, w = self.latent_shape_
        out = np.empty((n, self.n_features_in_))
        step = max(1, BLOCK_VALUES // self.n_features_in_)
        for start in range(0, n, step):
            b = min(step, n - start)
            noise = np.fft.rfft2(rng.standard_normal((b, c, h, w))).reshape(b, c, -1)
            Y = np.einsum("kcd,bdk->bck", self._chol, noise).reshape(b, c, h, -1)
            out[start : start + b] = np.fft.irfft2(Y, s=(h, w)).reshape(b, -1)
        return out + self.mean_

    def _score_samples(self, X: np.ndarray) -> np.ndarray:
        c, h, w = self.latent_shape_
        logdet = 2.0 * np.log(np.abs(np.einsum("kcc->kc", self._chol))).sum(axis=1)
        const = self.n_features_in_ * LOG_2PI + self._weights @ logdet
        quad = np.empty(len(X))
        step = max(1, BLOCK_VALUES // self.n_features_in_)
        for start in range(0, len(X), step):
            part = (X[start : start + step] - self.mean_).reshape(-1, c, h, w)
            F = np.fft.rfft2(part).reshape(len(part), c, -1)
            # Per frequency, L^-1 X: the whitened Fourier coefficients.
            V = np.linalg.solve(self._chol, F.transpose(2, 1, 0))  # (K, C, b)
            power = np.einsum("k,kcb->b", self._weights, V.real**2 + V.imag**2)
            quad[start : start + len(part)] = power / (h * w)
        return -0.5 * (const + quad)

    def channel_std(self) -> np.ndarray:
        """``(C,)`` the model's per-position standard deviation of each channel."""
        c, h, w = self.latent_shape_
        diag = np.einsum("kcc->kc", self.spectrum_).real
        return np.sqrt(self._weights @ diag / (h * w))

    def _summary(self) -> dict:
        return {
            "latent_shape": list(self.latent_shape_),
            "channel_mean": summarise_array(self.channel_mean_),
            "channel_std": summarise_array(self.channel_std()),
        }


def _hermitian_columns(S: np.ndarray, h: int, w: int) -> np.ndarray:
    """S with exact Hermitian symmetry, S(-k) = conj(S(k)), in the rfft2 columns that hold both
    k and -k (k_x = 0 and, for even W, W/2), so that filtered real noise stays real: irfft2
    would drop an imaginary rest, and the variance with it."""
    grid = S.reshape(h, w // 2 + 1, *S.shape[1:]).copy()
    mirror = (-np.arange(h)) % h
    for col in {0, w // 2} if w % 2 == 0 else {0}:
        grid[:, col] = 0.5 * (grid[:, col] + grid[mirror, col].conj())
    return grid.reshape(S.shape)
