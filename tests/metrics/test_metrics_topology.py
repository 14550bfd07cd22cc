"""Persistent homology (ripser) and the topological distance between two clouds."""

from __future__ import annotations

import numpy as np
import pytest

from latentatlas.metrics.topology import maxmin_landmarks, persistence, topology_distance


def circle(n: int, dim: int = 8, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    theta = rng.uniform(0, 2 * np.pi, n)
    X = 0.1 * rng.standard_normal((n, dim))
    X[:, 0] += 5 * np.cos(theta)
    X[:, 1] += 5 * np.sin(theta)
    return X


def blobs(n: int, gap: float, dim: int = 8, seed: int = 1) -> np.ndarray:
    """Two unit Gaussians ``gap`` apart along the first axis."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, dim))
    X[: n // 2, 0] += gap
    return X


def test_landmarks_cover_the_cloud() -> None:
    X = np.random.default_rng(2).standard_normal((400, 3))
    idx, radius = maxmin_landmarks(X, 50, random_state=0)
    assert len(set(idx.tolist())) == 50
    nearest = np.linalg.norm(X[:, None] - X[idx][None], axis=2).min(axis=1)
    assert nearest.max() == pytest.approx(radius)
    # The last landmark was the farthest point when chosen: farther than the final radius.
    assert np.linalg.norm(X[idx[:-1]] - X[idx[-1]], axis=1).min() >= radius


def test_circle_has_one_loop_and_blobs_two_components() -> None:
    ring = persistence(circle(600), n_landmarks=120)
    assert ring["components"] == 1 and ring["loops"] == 1
    assert ring["h1"][0][1] - ring["h1"][0][0] > 3 * ring["threshold"]
    two = persistence(blobs(600, gap=20.0), n_landmarks=120)
    assert two["components"] == 2 and two["loops"] == 0
    assert two["h0"][0] > 10 > two["threshold"] and two["n_landmarks"] == 120
    one = persistence(blobs(600, gap=0.0), n_landmarks=120)
    assert one["components"] == 1


def test_distance_sees_a_filled_gap() -> None:
    real = blobs(300, gap=20.0, seed=1)
    same = blobs(300, gap=20.0, seed=2)
    # One Gaussian with the real mean and spread per axis: it fills the gap between the blobs.
    rng = np.random.default_rng(3)
    filled = real.mean(axis=0) + real.std(axis=0) * rng.standard_normal((300, 8))
    near = topology_distance(real, same, random_state=0)
    far = topology_distance(real, filled, random_state=0)
    assert far["h0"] > 2 * near["h0"]
    assert near["n_points"] == 300 and near["scale"] > 0
    again = topology_distance(real, same, random_state=0)
    assert again == near
    with pytest.raises(ValueError, match="real"):
        topology_distance(real[:, :3], same)
