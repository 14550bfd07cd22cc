"""Paths in coordinate planes and interpolation between z-points."""

from __future__ import annotations

import numpy as np
import pytest

from latentatlas.generators import lerp, plane_circle, plane_segment, slerp

BASE = np.array([0.3, -1.2, 2.5, 0.7, -0.4, 1.1])


def _only_pair_changes(P, base, pair):
    others = np.setdiff1d(np.arange(base.size), pair)
    return np.array_equal(P[:, others], np.broadcast_to(base[others], (len(P), others.size)))


def test_plane_segment():
    base = BASE.copy()
    P = plane_segment(base, (1, 4), start=[-3.0, 0.1], end=[2.0, 5.7], steps=11)
    assert P.shape == (11, 6) and P.dtype == np.float64
    assert _only_pair_changes(P, BASE, [1, 4])
    assert np.array_equal(P[0, [1, 4]], [-3.0, 0.1]) and np.array_equal(P[-1, [1, 4]], [2.0, 5.7])
    steps = np.diff(P[:, [1, 4]], axis=0)
    assert np.allclose(steps, steps[0], atol=1e-12)  # evenly spaced on a straight line
    assert np.array_equal(base, BASE)  # the caller's base is not modified
    # Pair order matters: (4, 1) swaps which coordinate gets start[0].
    Q = plane_segment(BASE, (4, 1), [-3.0, 0.1], [2.0, 5.7], 2)
    assert np.array_equal(Q[0, [4, 1]], [-3.0, 0.1])


@pytest.mark.parametrize("radius", [1.7, (2.0, 0.5)])
def test_plane_circle(radius):
    centre = np.array([0.5, -1.0])
    P = plane_circle(BASE, (0, 5), centre, radius, steps=36)
    assert P.shape == (36, 6) and _only_pair_changes(P, BASE, [0, 5])
    r = np.broadcast_to(radius, (2,))
    u = (P[:, [0, 5]] - centre) / r
    assert np.allclose(np.hypot(u[:, 0], u[:, 1]), 1.0, atol=1e-12)
    assert np.allclose(P[0, [0, 5]], centre + [r[0], 0.0])  # starts on the j1 axis
    # Distinct angles, evenly spaced, the closing point not repeated.
    angles = np.unwrap(np.arctan2(u[:, 1], u[:, 0]))
    assert np.allclose(np.diff(angles), 2 * np.pi / 36)
    assert plane_circle(BASE, (0, 5), centre, radius, steps=1).shape == (1, 6)


def test_plane_circle_radius_zero_is_the_centre():
    P = plane_circle(BASE, (2, 3), [1.0, 2.0], 0.0, steps=4)
    assert np.array_equal(P[:, [2, 3]], np.tile([1.0, 2.0], (4, 1)))


@pytest.mark.parametrize(
    "call",
    [
        lambda: plane_segment(BASE, (1, 1), [0, 0], [1, 1], 5),
        lambda: plane_segment(BASE, (1, 6), [0, 0], [1, 1], 5),
        lambda: plane_segment(BASE, (-1, 2), [0, 0], [1, 1], 5),
        lambda: plane_segment(BASE, (1,), [0, 0], [1, 1], 5),
        lambda: plane_segment(BASE, (1.5, 2), [0, 0], [1, 1], 5),
        lambda: plane_segment(BASE, (1, 2), [0, 0, 0], [1, 1], 5),
        lambda: plane_segment(BASE, (1, 2), [0, 0], [1, 1], 1),
        lambda: plane_segment(BASE[None], (1, 2), [0, 0], [1, 1], 5),
        lambda: plane_segment([np.nan, 1.0], (0, 1), [0, 0], [1, 1], 5),
        lambda: plane_circle(BASE, (0, 1), [0, 0], -1.0, 5),
        lambda: plane_circle(BASE, (0, 1), [0, 0], (1.0, 2.0, 3.0), 5),
        lambda: plane_circle(BASE, (0, 1), [0, 0], "big", 5),
        lambda: plane_circle(BASE, (0, 1), [0, 0], 1.0, 0),
        lambda: lerp(BASE, BASE[:3], 5),
        lambda: slerp(BASE, BASE, 1),
        lambda: slerp(BASE, BASE, 2.5),
    ],
)
def test_path_errors(call):
    with pytest.raises(ValueError):
        call()


def test_lerp():
    rng = np.random.default_rng(0)
    z0, z1 = rng.standard_normal(8), rng.standard_normal(8)
    P = lerp(z0, z1, 9)
    assert P.shape == (9, 8)
    assert np.array_equal(P[0], z0) and np.array_equal(P[-1], z1)
    assert np.allclose(P[4], (z0 + z1) / 2)


def test_slerp_equal_norms_stays_on_the_sphere():
    rng = np.random.default_rng(1)
    z0, z1 = rng.standard_normal(64), rng.standard_normal(64)
    z1 *= np.linalg.norm(z0) / np.linalg.norm(z1)
    P = slerp(z0, z1, 12)
    assert np.array_equal(P[0], z0) and np.array_equal(P[-1], z1)
    assert np.allclose(np.linalg.norm(P, axis=1), np.linalg.norm(z0), rtol=1e-12)
    # The classic formula (Shoemake / White 2016).
    w = np.arccos(z0 @ z1 / (np.linalg.norm(z0) * np.linalg.norm(z1)))
    t = np.linspace(0, 1, 12)[:, None]
    classic = (np.sin((1 - t) * w) * z0 + np.sin(t * w) * z1) / np.sin(w)
    assert np.allclose(P, classic, atol=1e-12)
    # Constant angular speed, in the plane of z0 and z1.
    U = P / np.linalg.norm(P, axis=1, keepdims=True)
    assert np.allclose(np.arccos(np.clip(np.sum(U[:-1] * U[1:], axis=1), -1, 1)), w / 11)
    Q, _ = np.linalg.qr(np.stack([z0, z1], axis=1))
    assert np.allclose(P - (P @ Q) @ Q.T, 0.0, atol=1e-12)


def test_slerp_unequal_norms_interpolate_the_norm():
    P = slerp([2.0, 0.0, 0.0], [0.0, 0.0, 4.0], 5)
    assert np.allclose(np.linalg.norm(P, axis=1), [2.0, 2.5, 3.0, 3.5, 4.0])
    assert np.allclose(P[2] / 3.0, [np.sqrt(0.5), 0.0, np.sqrt(0.5)])


def test_slerp_degenerate_cases():
    z = np.array([1.0, 2.0, -0.5, 0.3])
    assert np.allclose(slerp(z, 3 * z, 5), lerp(z, 3 * z, 5))  # parallel
    assert np.array_equal(slerp(np.zeros(4), z, 5), lerp(np.zeros(4), z, 5))  # zero endpoint
    assert np.array_equal(slerp([2.0], [-1.0], 4), lerp([2.0], [-1.0], 4))  # 1-D antiparallel
    # Antiparallel: half a great circle through a direction orthogonal to z, never through 0.
    P = slerp(z, -z, 7)
    assert np.isfinite(P).all()
    assert np.array_equal(P[0], z) and np.array_equal(P[-1], -z)
    assert np.allclose(np.linalg.norm(P, axis=1), np.linalg.norm(z))
    assert abs(P[3] @ z) < 1e-12
    assert np.array_equal(P, slerp(z, -z, 7))  # deterministic
    # Nearly parallel: no NaN, close to lerp.
    z1 = z + 1e-9 * np.array([0.0, 0.0, 1.0, 0.0])
    assert np.allclose(slerp(z, z1, 5), lerp(z, z1, 5), atol=1e-12)
