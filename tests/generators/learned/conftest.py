from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch
from prior_configs import CENTRES


@dataclass(frozen=True)
class Blobs:
    """Two well-separated unit-variance blobs in 2-d: a single Gaussian fits them badly."""

    train: np.ndarray
    heldout: np.ndarray


def _blobs(n: int, rng: np.random.Generator) -> np.ndarray:
    labels = rng.integers(0, 2, size=n)
    return CENTRES[labels] + 0.7 * rng.standard_normal((n, 2))


@pytest.fixture(scope="session")
def blobs() -> Blobs:
    rng = np.random.default_rng(5)
    return Blobs(train=_blobs(600, rng), heldout=_blobs(1000, rng))


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    # The tiny networks here are dominated by per-call overhead; on busy shared cores, torch's
    # thread pool makes them several times slower, not faster.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def fitted(blobs):
    from prior_configs import TINY

    return {name: factory().fit(blobs.train) for name, factory in TINY.items()}
