from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest


@dataclass(frozen=True)
class Gaussian:
    """A sample from a multivariate normal with known parameters."""

    Z: np.ndarray
    mean: np.ndarray
    cov: np.ndarray
    eigenvalues: np.ndarray  # descending


@pytest.fixture(scope="session")
def gaussian() -> Gaussian:
    rng = np.random.default_rng(12345)
    N, n = 6, 20_000
    eigenvalues = np.array([9.0, 4.0, 2.0, 1.0, 0.5, 0.25])
    Q, _ = np.linalg.qr(rng.standard_normal((N, N)))
    cov = (Q * eigenvalues) @ Q.T
    mean = np.array([1.5, -1.0, 0.5, 2.0, 0.0, -0.5])
    Z = rng.multivariate_normal(mean, cov, size=n)
    return Gaussian(Z=Z, mean=mean, cov=cov, eigenvalues=eigenvalues)
