"""Paths of z-points: segments and circles in a coordinate plane (j1, j2), and linear or
spherical interpolation between two z-points. Pure functions, float64 output."""

from __future__ import annotations

import operator
from collections.abc import Sequence

import numpy as np

__all__ = ["lerp", "plane_circle", "plane_segment", "slerp"]


def _vector(v, name: str, size: int | None = None) -> np.ndarray:
    try:
        a = np.array(v, dtype=np.float64)  # a copy: callers' arrays are never modified
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numeric, got {v!r}") from None
    if a.ndim != 1 or a.size == 0 or (size is not None and a.size != size):
        want = f"({size},)" if size is not None else "(N,)"
        raise ValueError(f"{name} must have shape {want}, got {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or inf")
    return a


def _steps(steps: int, minimum: int) -> int:
    try:
        s = operator.index(steps)
    except TypeError:
        raise ValueError(f"steps must be an integer, got {steps!r}") from None
    if s < minimum:
        raise ValueError(f"steps must be at least {minimum}, got {s}")
    return s


def _pair(pair: Sequence[int], N: int) -> tuple[int, int]:
    try:
        j1, j2 = (operator.index(j) for j in pair)
    except (TypeError, ValueError):
        raise ValueError(f"pair must be two component indices (j1, j2), got {pair!r}") from None
    if not (0 <= j1 < N and 0 <= j2 < N) or j1 == j2:
        raise ValueError(f"pair must be two different indices in [0, {N}), got ({j1}, {j2})")
    return j1, j2


def plane_segment(base, pair: Sequence[int], start, end, steps: int) -> np.ndarray:
    """Points on a segment in the coordinate plane ``pair``, other components at ``base``.

    Parameters
    ----------
    base : array-like, shape (N,)
        The point the path goes through off the plane (the centroid or a real z-point).
    pair : (j1, j2)
        Two different component indices in [0, N).
    start, end : array-like, shape (2,)
        Coordinates (z[j1], z[j2]) of the first and the last point.
    steps : int, >= 2
        Number of points, evenly spaced, both ends included.

    Returns
    -------
    ndarray, shape (steps, N)
        Row i equals ``base`` except in components j1, j2, which are
        ``(1 - t) start + t end`` with ``t = i / (steps - 1)`` (the ends exactly).
    """
    b = _vector(base, "base")
    j1, j2 = _pair(pair, b.size)
    p0, p1 = _vector(start, "start", 2), _vector(end, "end", 2)
    t = np.linspace(0.0, 1.0, _steps(steps, 2))[:, None]
    out = np.tile(b, (len(t), 1))
    out[:, [j1, j2]] = (1.0 - t) * p0 + t * p1  # exact at t = 0 and t = 1
    return out


def plane_circle(
    base, pair: Sequence[int], centre, radius: float | Sequence[float], steps: int
) -> np.ndarray:
    """Points on a circle (or axis-aligned ellipse) in the coordinate plane ``pair``.

    Parameters
    ----------
    base : array-like, shape (N,)
        The other components' values (the centroid or a real z-point).
    pair : (j1, j2)
        Two different component indices in [0, N).
    centre : array-like, shape (2,)
        Centre (z[j1], z[j2]).
    radius : float or array-like, shape (2,)
        Radius, or the two semi-axes (along j1, along j2) of an ellipse; >= 0.
    steps : int, >= 1
        Number of points, at angles ``2 pi i / steps`` (i = 0 .. steps-1) counter-clockwise
        from the j1 axis; the closing point is not repeated.

    Returns
    -------
    ndarray, shape (steps, N)
        Row i equals ``base`` except ``z[j1] = c1 + r1 cos(a_i)``, ``z[j2] = c2 + r2 sin(a_i)``.
    """
    b = _vector(base, "base")
    j1, j2 = _pair(pair, b.size)
    c = _vector(centre, "centre", 2)
    r = _vector(np.broadcast_to(radius, (2,)) if np.ndim(radius) == 0 else radius, "radius", 2)
    if not (r >= 0).all():
        raise ValueError(f"radius must be finite and >= 0, got {radius!r}")
    n = _steps(steps, 1)
    angle = 2.0 * np.pi * np.arange(n) / n
    out = np.tile(b, (n, 1))
    out[:, j1] = c[0] + r[0] * np.cos(angle)
    out[:, j2] = c[1] + r[1] * np.sin(angle)
    return out


def _endpoints(z0, z1) -> tuple[np.ndarray, np.ndarray]:
    a = _vector(z0, "z0")
    b = _vector(z1, "z1", a.size)
    return a, b


def lerp(z0, z1, steps: int) -> np.ndarray:
    """Linear interpolation ``(1 - t) z0 + t z1``, t evenly spaced in [0, 1].

    Parameters
    ----------
    z0, z1 : array-like, shape (N,)
    steps : int, >= 2

    Returns
    -------
    ndarray, shape (steps, N)
        First row ``z0``, last row ``z1`` (exactly).
    """
    a, b = _endpoints(z0, z1)
    t = np.linspace(0.0, 1.0, _steps(steps, 2))[:, None]
    return (1.0 - t) * a + t * b


def slerp(z0, z1, steps: int) -> np.ndarray:
    """Spherical interpolation: the direction moves along the great circle from ``z0`` to ``z1``
    at constant angular speed, the norm changes linearly from ``|z0|`` to ``|z1|``.

    For ``|z0| == |z1|`` this is the classic slerp ``(sin((1-t)w) z0 + sin(t w) z1) / sin w``
    (Shoemake 1985; White 2016 for latent spaces) and every point keeps that norm, i.e. stays on
    the shell where high-dimensional real points live instead of cutting through the
    low-density interior like :func:`lerp`.

    Degenerate cases are handled without NaN: parallel directions (angle 0) or a zero endpoint
    give exactly :func:`lerp`; antiparallel ones (angle pi, no unique great circle) turn through
    a deterministic direction orthogonal to ``z0`` (the coordinate axis least aligned with it,
    orthogonalised).

    Parameters
    ----------
    z0, z1 : array-like, shape (N,)
    steps : int, >= 2

    Returns
    -------
    ndarray, shape (steps, N)
        First row ``z0``, last row ``z1`` (exactly); row i has norm
        ``(1 - t) |z0| + t |z1|``, ``t = i / (steps - 1)``.
    """
    a, b = _endpoints(z0, z1)
    s = _steps(steps, 2)
    r0, r1 = np.linalg.norm(a), np.linalg.norm(b)
    if r0 == 0.0 or r1 == 0.0:
        return lerp(a, b, s)
    u0, u1 = a / r0, b / r1
    cos_w = float(np.clip(u0 @ u1, -1.0, 1.0))
    # Orthonormal partner of u0 in the plane of the path: the part of u1 orthogonal to u0.
    v = u1 - cos_w * u0
    sin_w = float(np.linalg.norm(v))
    if sin_w <= 1e-12:
        if cos_w > 0 or a.size == 1:
            # Parallel (the great circle shrinks to a point), or antiparallel on a line (no room
            # to turn): the straight path is the only sensible one.
            return lerp(a, b, s)
        e = np.zeros_like(u0)
        e[int(np.argmin(np.abs(u0)))] = 1.0
        v = e - (e @ u0) * u0
        w = np.pi
    else:
        w = float(np.arctan2(sin_w, cos_w))  # accurate for small angles, unlike arccos
    v /= np.linalg.norm(v)
    t = np.linspace(0.0, 1.0, s)
    direction = np.cos(t * w)[:, None] * u0 + np.sin(t * w)[:, None] * v
    out = ((1.0 - t) * r0 + t * r1)[:, None] * direction
    out[0], out[-1] = a, b
    return out
