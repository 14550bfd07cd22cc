"""Held-out log-likelihood: the density-estimation score of a generator, from its
``score_samples`` on real points it was not fitted on."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["heldout_log_likelihood"]


def heldout_log_likelihood(log_density: Any, n_dims: int) -> dict:
    """Summarise log-densities of held-out points in nats per dimension.

    Parameters
    ----------
    log_density : array-like, shape (n,)
        ``generator.score_samples(heldout)``; ``-inf`` where a point lies outside the
        generator's support (a cube, a truncation).
    n_dims : int
        N, the latent dimension, so models of different N compare per dimension.

    Returns
    -------
    dict
        ``nats_per_dim``: mean log-density / N (``-inf`` as soon as one held-out point is
        outside the support: a density that excludes real data scores as it should);
        ``share_in_support``: share of held-out points with a finite density (what a bounded
        generator such as the cube is judged by instead); ``nats_per_dim_in_support``: the mean
        over those points only (``nan`` if none); ``n``.
    """
    s = np.asarray(log_density, dtype=np.float64).ravel()
    if len(s) == 0 or int(n_dims) < 1:
        raise ValueError("need at least one log-density and n_dims >= 1")
    if np.isnan(s).any() or np.isposinf(s).any():
        raise ValueError("log-densities must be finite or -inf")
    inside = np.isfinite(s)
    share = float(inside.mean())
    return {
        "nats_per_dim": float(s.mean() / n_dims) if share == 1.0 else float("-inf"),
        "share_in_support": share,
        "nats_per_dim_in_support": float(s[inside].mean() / n_dims) if inside.any() else np.nan,
        "n": int(len(s)),
    }
