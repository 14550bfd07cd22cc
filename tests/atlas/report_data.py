"""Synthetic z-points and small settings shared by the report tests."""

from __future__ import annotations

from typing import Any

import numpy as np

# Small samples: the whole report suite must stay well under a minute on 2 busy cores. The other
# settings keep their defaults so that `latentatlas analyze` (which exposes only these two) can
# reproduce a library run exactly.
FAST = {"sample": 1500, "prdc_sample": 200}


def synthetic_z(n: int = 600, dim: int = 16, seed: int = 0) -> np.ndarray:
    """Correlated normal z-points whose centroid sits well away from the origin."""
    rng = np.random.default_rng(seed)
    # Scaled so the mixing stays well conditioned (moderate correlations, no flat directions).
    mix = np.eye(dim) + 0.6 * rng.standard_normal((dim, dim)) / np.sqrt(dim)
    offset = np.linspace(-1.5, 2.5, dim)
    return (rng.standard_normal((n, dim)) @ mix.T + offset).astype(np.float32)


def flat(obj: Any) -> list[Any]:
    """Every leaf value of a nested summary (dicts and lists)."""
    if isinstance(obj, dict):
        return [x for v in obj.values() for x in flat(v)]
    if isinstance(obj, (list, tuple)):
        return [x for v in obj for x in flat(v)]
    return [obj]
