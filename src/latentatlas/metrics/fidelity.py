"""Small verdict metrics over z-points: copy distance, re-encoding drift, Mahalanobis tail.

Each compares generated points with *held-out* real points, so a generator that behaves like the
data scores like the data (ratio ~= 1, or the real baseline share) whatever the units of z.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from latentatlas.core.rng import RandomState, as_rng, subsample_indices
from latentatlas.core.validation import check_fraction, check_points, check_same_dim


def copy_distance(
    fake: Any,
    train: Any,
    heldout: Any,
    *,
    copy_quantile: float = 0.01,
    max_points: int | None = 5000,
    random_state: RandomState = 0,
) -> dict:
    """Nearest-training-point distance of generated points relative to held-out real points'.

    A generator that copies (or nearly copies) training points sits much closer to the training
    set than fresh real points do: its ratio drops towards 0. Held-out real points score ~= 1; a
    generator spreading points away from the data scores > 1.

    Parameters
    ----------
    fake : array-like, shape (m, N)
        Generated points.
    train : array-like, shape (n, N)
        The points the generator was fitted on.
    heldout : array-like, shape (h, N)
        Real points never used for fitting (the reference).
    copy_quantile : float
        Defines ``copy_share``: the share of fake points nearer to the training set than this
        quantile of the held-out distances (held-out points score ~= ``copy_quantile``).
    max_points : int, optional
        Cap on fake and held-out query points (uniform, seeded subsample): the medians are
        stable with a few thousand queries, and each query costs a pass over ``train``.
    random_state : int or numpy Generator
        Seeds the subsampling.

    Returns
    -------
    dict
        ``copy_distance`` (median fake distance / median held-out distance; NaN when the latter
        is 0), ``median_fake``, ``median_heldout``, ``copy_share``, ``copy_share_heldout``,
        ``copy_quantile``, ``n_fake``, ``n_train``, ``n_heldout`` (query counts after capping).
        Distances are Euclidean in the raw z coordinates.
    """
    from sklearn.neighbors import NearestNeighbors

    F = check_points(fake, min_rows=1, name="fake")
    T = check_points(train, min_rows=1, name="train")
    H = check_points(heldout, min_rows=1, name="heldout")
    check_same_dim(T, F, ("train", "fake"))
    check_same_dim(T, H, ("train", "heldout"))
    copy_quantile = check_fraction(copy_quantile, "copy_quantile")
    rng = as_rng(random_state)
    F = F[subsample_indices(len(F), max_points, rng)]
    H = H[subsample_indices(len(H), max_points, rng)]
    # Brute force in N ~ 256 (trees do not help); scikit-learn computes it in chunks bounded by
    # its working_memory setting, so memory stays small whatever the sizes.
    nn = NearestNeighbors(n_neighbors=1, algorithm="brute").fit(T)
    d_fake = nn.kneighbors(F, return_distance=True)[0][:, 0]
    d_held = nn.kneighbors(H, return_distance=True)[0][:, 0]
    med_fake = float(np.median(d_fake))
    med_held = float(np.median(d_held))
    threshold = float(np.quantile(d_held, copy_quantile))
    return {
        "copy_distance": med_fake / med_held if med_held > 0 else float("nan"),
        "median_fake": med_fake,
        "median_heldout": med_held,
        "copy_share": float(np.mean(d_fake < threshold)),
        "copy_share_heldout": float(np.mean(d_held < threshold)),
        "copy_quantile": copy_quantile,
        "n_fake": len(F),
        "n_train": len(T),
        "n_heldout": len(H),
    }


def reencoding_drift(
    z: Any,
    z_reencoded: Any,
    z_real: Any,
    z_real_reencoded: Any,
) -> dict:
    """Median re-encoding drift ``||E(D(z)) - z||`` of generated points relative to real ones.

    Points in the data region are near fixed points of encode-decode, so real points drift
    little; points off the data manifold drift more. The ratio is ~= 1 for a generator that
    behaves like real data.

    Parameters
    ----------
    z : array-like, shape (m, N)
        Generated points.
    z_reencoded : array-like, shape (m, N)
        ``E(D(z))``, row for row.
    z_real : array-like, shape (k, N)
        Real (held-out) points.
    z_real_reencoded : array-like, shape (k, N)
        ``E(D(z_real))``, row for row.

    Returns
    -------
    dict
        ``drift_ratio`` (``median_fake / median_real``; NaN when ``median_real`` is 0),
        ``median_fake``, ``median_real``, ``n_fake``, ``n_real``.
    """
    d_fake, dim_fake = _row_drift(z, z_reencoded, "z")
    d_real, dim_real = _row_drift(z_real, z_real_reencoded, "z_real")
    if dim_fake != dim_real:
        raise ValueError(f"z and z_real have different dimensions: {dim_fake} vs {dim_real}")
    med_fake = float(np.median(d_fake))
    med_real = float(np.median(d_real))
    return {
        "drift_ratio": med_fake / med_real if med_real > 0 else float("nan"),
        "median_fake": med_fake,
        "median_real": med_real,
        "n_fake": len(d_fake),
        "n_real": len(d_real),
    }


def _row_drift(a: Any, b: Any, name: str) -> tuple[np.ndarray, int]:
    # Per-row Euclidean drift, shape (m,), and the dimension N.
    A = check_points(a, min_rows=1, name=name)
    B = check_points(b, min_rows=1, name=f"{name}_reencoded")
    if A.shape != B.shape:
        raise ValueError(f"{name} and {name}_reencoded differ in shape: {A.shape} vs {B.shape}")
    return np.linalg.norm(B - A, axis=1), A.shape[1]


def mahalanobis_tail(real: Any, fake: Any, quantile: float = 0.99, *, fit_on: Any = None) -> float:
    """Share of ``fake`` beyond the ``quantile`` of the real points' Mahalanobis distances.

    Without ``fit_on`` the mean and covariance come from ``real`` itself
    (:func:`latentatlas.analysis.voids.void_shares`, the one implementation). With ``fit_on``
    (e.g. the training points) they come from there, so ``real`` and ``fake`` are both
    out-of-sample: in-sample distances are biased low when n is not much larger than N (about
    1,000 held-out points in N = 256), which would push even a perfect generator into the tail.

    Parameters
    ----------
    real : array-like, shape (n, N)
    fake : array-like, shape (m, N)
    quantile : float
    fit_on : array-like, shape (k, N), or a fitted Gaussian, optional
        Points to fit the Gaussian to (:func:`~latentatlas.analysis.ppca.gaussian_model`: the
        full covariance up to N = 1,024, low rank plus diagonal above), or an already fitted
        model with ``distance(X)`` (the verdict fits one for every generator to share).

    Returns
    -------
    float in [0, 1]; real points themselves score ~= ``1 - quantile``.
    """
    from latentatlas.analysis.voids import void_shares

    if fit_on is None:
        return float(void_shares(real, fake, tail_quantile=quantile)["mahalanobis_tail"])
    from latentatlas.analysis.ppca import gaussian_model

    R = check_points(real, min_rows=2, name="real")
    F = check_points(fake, min_rows=1, name="fake")
    check_same_dim(R, F)
    if hasattr(fit_on, "distance"):
        model = fit_on
    else:
        model = gaussian_model(check_points(fit_on, min_rows=2, name="fit_on"))
    threshold = np.quantile(model.distance(R), check_fraction(quantile, "quantile"))
    return float(np.mean(model.distance(F) > threshold))
