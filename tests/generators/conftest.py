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


@pytest.fixture(scope="session")
def gaussian() -> Gaussian:
    rng = np.random.default_rng(2024)
    N, n = 5, 20_000
    Q, _ = np.linalg.qr(rng.standard_normal((N, N)))
    cov = (Q * np.array([6.0, 3.0, 1.5, 0.8, 0.3])) @ Q.T
    mean = np.array([2.0, -1.0, 0.5, 1.5, -0.5])
    return Gaussian(Z=rng.multivariate_normal(mean, cov, size=n), mean=mean, cov=cov)


@pytest.fixture(scope="session")
def small() -> np.ndarray:
    """Correlated, off-centre points for the contract tests (fast to fit)."""
    rng = np.random.default_rng(7)
    return rng.standard_normal((400, 5)) @ rng.standard_normal((5, 5)) + 1.0
