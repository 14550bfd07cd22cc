"""The geometry behind the explorer: axes, projections, points placed on a plane, circle paths,
Mahalanobis distances, neighbours, slices and generator overlays, for one z-point store (numpy and
scikit-learn only, no HTTP; the decoder lives in :mod:`latentatlas.explore.app`).

An *axis* is a unit vector ``u`` (N,) with an offset ``o``: a point's coordinate on it is
``u @ z - o``. Axis names (the API and the URL use them):

``z:J``
    component J (offset 0: the coordinate is z[J] itself).
``pc:K``
    the K-th principal axis of the train points (0 = largest variance), relative to the centroid;
    the same axes, signs included, as ``latentatlas path --frame principal``.
``attr:NAME``
    the unit normal of a logistic regression that tells NAME (+1) from not NAME (-1) on the
    train split (InterFaceGAN-style), relative to the centroid.
``line:A-B``
    the direction from A to B, each ``centroid``, ``origin`` or a real point's index; A is at 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from latentatlas.analysis.ppca import HIGH_N, TOP_AXES, LowRankGaussian, principal_frame
from latentatlas.core.errors import LatentAtlasError
from latentatlas.data.store import SPLIT_NAMES, TRAIN, ZStore
from latentatlas.explore.checks import parse_int
from latentatlas.explore.lru import LruCache
from latentatlas.generators.registry import GENERATOR_NAMES

# Generators the explorer overlays: the fast ones (the learned priors take minutes to fit).
OVERLAY_GENERATORS = GENERATOR_NAMES
COLOURS = ("split", "radius", "mahalanobis", "density")
DENSITY_K = 10  # neighbours behind the local density
DENSITY_REFERENCE = 5000  # train points the density counts neighbours among
DENSITY_DIMS = 16  # principal coordinates the density is measured in
_ROWS = 16384  # rows per block in (n, N) computations: no (n, N) float64 temporaries
# Cache bounds: axes are cheap to remake but unbounded in kind (every line:A-B); sample sets are
# up to 20,000 x N floats each.
MAX_AXES, MAX_AXES_BYTES = 256, 64 * 2**20
MAX_SAMPLE_SETS, MAX_SAMPLE_BYTES = 8, 256 * 2**20
MAX_KEPT = 1024  # points kept by key (uploaded images, pins): 2 MiB at N = 256
KEPT_PREFIX = "p"  # a kept point's key: "p" and 16 hex digits of its coordinates' hash
# The typicality bands of a Mahalanobis distance, by the share of train points closer in.
BAND_QUANTILES = (0.01, 0.99)


class BadRequest(LatentAtlasError):
    """An API input the explorer refuses (the server answers 400 with this message)."""


@dataclass(frozen=True)
class Axis:
    """One plot axis: coordinate = ``u @ z - offset``; ``sigma`` is the train points' standard
    deviation along it (the unit of the sliders)."""

    name: str
    label: str
    u: np.ndarray  # (N,), unit length
    offset: float
    sigma: float


class LatentSpace:
    """A z-point store seen by the explorer.

    Parameters
    ----------
    store : ZStore
        z (n, N); the train split (all points of a bare .npy) fixes the centroid, the principal
        axes, the covariance of the Mahalanobis distance and the attribute directions.
    """

    def __init__(self, store: ZStore) -> None:
        self.store = store
        self.z = np.ascontiguousarray(store.z, dtype=np.float32)  # (n, N)
        self.n, self.dim = self.z.shape
        self.ids = np.asarray(store.ids).astype(str)
        self.split = np.asarray(store.split, dtype=np.int64)
        self.train = self.split == TRAIN
        if self.train.sum() < 2:
            raise LatentAtlasError(
                f"only {int(self.train.sum())} train z-points in the store: nothing to fit on"
            )
        train = np.asarray(self.z[self.train], dtype=np.float64)
        self.centroid = train.mean(axis=0)
        # Above HIGH_N components no N x N covariance: the top TOP_AXES axes (n x n Gram matrix
        # or randomized SVD), and distances and sigmas under the low-rank-plus-diagonal
        # Gaussian (rank by held-out likelihood, analysis.ppca).
        self.gaussian: LowRankGaussian | None = None
        if self.dim <= HIGH_N:
            # As `latentatlas path --frame principal` computes them, so that strips agree.
            var, axes = np.linalg.eigh(np.cov(train, rowvar=False))
            self.pc_var = np.clip(var[::-1], var.max() * 1e-12, None)  # (N,), largest first
            self.pc_axes = axes[:, ::-1]  # (N, N), columns
        else:
            frame = principal_frame(train, TOP_AXES)
            self.pc_var, self.pc_axes = frame.variances, frame.axes  # (k,), (N, k)
            self.gaussian = LowRankGaussian(max_components=TOP_AXES).fit(train)
        self.mahalanobis = self.mahalanobis_of(self.z)  # (n,)
        self._train_mahal = np.sort(self.mahalanobis[self.train])
        self._sq = np.einsum("ij,ij->i", self.z, self.z, dtype=np.float64)  # (n,) |z|^2
        self.radius = np.sqrt(self._sq)
        self._make_caches()

    # --- points -----------------------------------------------------------------------------

    def mahalanobis_of(self, z: np.ndarray) -> np.ndarray:
        """Mahalanobis distances of z (m, N) from the train centroid under the train covariance,
        shape (m,)."""
        z = np.atleast_2d(z)
        out = np.empty(len(z))
        scale = 1.0 / np.sqrt(self.pc_var)
        for s in range(0, len(z), _ROWS):
            block = np.asarray(z[s : s + _ROWS], np.float64)
            if self.gaussian is not None:
                out[s : s + len(block)] = self.gaussian.distance(block)
                continue
            w = ((block - self.centroid) @ self.pc_axes) * scale
            out[s : s + len(w)] = np.sqrt(np.einsum("ij,ij->i", w, w))
        return out

    def further_share(self, distance: float) -> float:
        """Share of train points whose Mahalanobis distance exceeds ``distance``."""
        t = self._train_mahal
        return float(len(t) - np.searchsorted(t, distance, side="right")) / len(t)

    def stats(self, z: np.ndarray) -> dict[str, float]:
        """How far out the point z (N,) lies: its Mahalanobis distance, the share of train points
        further out, and its radius |z|."""
        d = float(self.mahalanobis_of(z)[0])
        return {
            "mahalanobis": d,
            "further": self.further_share(d),
            "radius": float(np.linalg.norm(z)),
        }

    def real(self, index: int) -> np.ndarray:
        """The real z-point ``index``, float64 (N,)."""
        if not 0 <= index < self.n:
            raise BadRequest(f"point index must be in 0..{self.n - 1}, got {index}")
        return self.z[index].astype(np.float64)

    def neighbours(self, index: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest real points to point ``index`` (itself excluded): indices (k,) and
        Euclidean distances (k,), nearest first."""
        return self.nearest(self.real(index), k, exclude=index)

    def nearest(
        self, q: np.ndarray, k: int, exclude: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest real points to any point q (N,) (but real point ``exclude``):
        indices (k,) and Euclidean distances (k,), nearest first."""
        q = np.asarray(q, dtype=np.float64)
        # |z - q|^2 = |z|^2 - 2 z.q + |q|^2: one matrix-vector product (BLAS), no (n, N)
        # temporary; the k nearest are then re-measured exactly.
        d2 = self._sq - 2.0 * (self.z @ q.astype(np.float32)) + q @ q
        if exclude is not None:
            d2[exclude] = np.inf
        pool = self.n - (exclude is not None)
        k = min(k, pool)
        m = min(k + 16, pool)  # a margin for float32 rounding in d2
        idx = np.argpartition(d2, m - 1)[:m] if m < pool else np.arange(self.n)
        idx = idx[idx != exclude]
        exact = np.linalg.norm(self.z[idx].astype(np.float64) - q, axis=1)
        order = np.argsort(exact, kind="stable")[:k]
        return idx[order], exact[order]

    def typicality(self, distance: float) -> dict[str, Any]:
        """Where a Mahalanobis ``distance`` lies among the train points', in words: the empty
        core (closer to the centroid than 99 % of them: in many dimensions real points sit on
        a shell, not at its centre), the typical shell (the middle 98 %), the tail (further
        than 99 %) or beyond every real point; with the quantiles that bound the bands."""
        t = self._train_mahal
        low, high = self._cached("bands", lambda: np.quantile(t, BAND_QUANTILES))
        closer = 1.0 - self.further_share(distance)
        if distance > t[-1]:
            band, words = "beyond every real point", "further out than every real point"
        elif distance > high:
            band, words = "tail", f"further out than {100 * closer:.1f} % of the real points"
        elif distance >= low:
            band = "typical shell"
            words = f"among the real points: {100 * closer:.1f} % of them lie closer in"
        else:
            share = "every real point" if closer == 0 else f"{100 * (1 - closer):.1f} % of them"
            band = "empty core"
            words = f"closer to the centroid than {share}: a region the real points leave empty"
        return {"band": band, "words": words, "quantiles": [float(low), float(high)]}

    def keep(self, z: np.ndarray) -> str:
        """Keep the point z (N,) (an uploaded image's, a pin's) under a key a point or a line
        axis can name as its base or end; the same point always gets the same key."""
        import hashlib

        z = np.asarray(z, dtype=np.float64).reshape(self.dim)
        if not np.isfinite(z).all():
            raise BadRequest("a kept point must be finite")
        key = KEPT_PREFIX + hashlib.sha256(z.tobytes()).hexdigest()[:16]
        self.kept.get(key, z.copy)
        return key

    def kept_point(self, key: str) -> np.ndarray:
        """The point kept under ``key``, float64 (N,); BadRequest if it is not (any more)."""

        def missing() -> np.ndarray:
            raise BadRequest(
                f"no kept point {key[:40]!r} (the server keeps the last {MAX_KEPT} uploads and"
                " pins, until it stops): upload or pin it again"
            )

        return self.kept.get(key, missing).copy()

    def find(self, query: str) -> tuple[np.ndarray, str]:
        """Real points whose id contains ``query``, or that have the attribute ``query``
        (``attr:NAME`` or NAME, any case), or point ``#K``: a bool mask (n,) and what matched."""
        text = query.strip()
        if not 0 < len(text) <= 200:
            raise BadRequest("find what? give an id, part of one, #INDEX or an attribute")
        names = {a.lower(): a for a in self.store.attribute_names}
        name = names.get(text.lower().removeprefix("attr:"))
        if name is not None and self.store.attributes is not None:
            j = list(self.store.attribute_names).index(name)
            return np.asarray(self.store.attributes[:, j]) > 0, f"attribute {name}"
        if text.startswith("#"):
            mask = np.zeros(self.n, dtype=bool)
            mask[_index(text[1:], self.n, "a point index")] = True
            return mask, f"point {text}"
        return np.char.find(self.ids, text) >= 0, f"ids containing {text!r}"

    # --- axes -------------------------------------------------------------------------------

    def axis(self, name: str) -> Axis:
        """The axis called ``name`` (see the module docstring); BadRequest if there is none."""
        if not isinstance(name, str) or not 0 < len(name) <= 200:
            raise BadRequest(f"an axis is a name like pc:0 or z:12, got {name!r}")
        return self.axes.get(name, lambda: self._make_axis(name))

    def _make_axis(self, name: str) -> Axis:
        kind, _, arg = name.partition(":")
        if kind in ("z", "pc"):
            size = self.dim if kind == "z" else self.pc_axes.shape[1]
            j = _index(arg, size, f"axis {name!r}")
            if kind == "z":
                u = np.zeros(self.dim)
                u[j] = 1.0
                return self._axis(name, f"z[{j}]", u, 0.0)
            return self._axis(name, f"pc{j + 1}", self.pc_axes[:, j].copy(), None)
        if kind == "attr":
            u = self.directions.get(arg, lambda: self._attribute_direction(arg))
            return self._axis(name, f"{arg} direction", u, None)
        if kind == "line":
            ends = arg.split("-")
            if len(ends) != 2:
                raise BadRequest(f"a line axis is line:A-B, got {name!r}")
            a, b = (self._anchor(e) for e in ends)
            length = float(np.linalg.norm(b - a))
            if not length > 1e-9:
                raise BadRequest(f"axis {name!r}: its two ends are the same point")
            u = (b - a) / length
            return self._axis(name, f"{ends[0]}→{ends[1]}", u, float(u @ a))
        raise BadRequest(f"unknown axis {name!r}: use z:J, pc:K, attr:NAME or line:A-B")

    def _axis(self, name: str, label: str, u: np.ndarray, offset: float | None) -> Axis:
        offset = float(u @ self.centroid) if offset is None else offset
        # sigma along u from the principal frame: u' Cov u = sum_k (u . v_k)^2 var_k.
        if self.gaussian is None:
            sigma = float(np.sqrt(((u @ self.pc_axes) ** 2) @ self.pc_var))
        else:
            sigma = float(np.sqrt(self._low_rank_cov(u[:, None])[0, 0]))
        return Axis(name, label, u, offset, sigma)

    def _anchor(self, text: str) -> np.ndarray:
        if text == "centroid":
            return self.centroid.copy()
        if text == "origin":
            return np.zeros(self.dim)
        if text.startswith(KEPT_PREFIX):
            return self.kept_point(text)
        return self.real(_index(text, self.n, "a line end"))

    def _attribute_direction(self, name: str) -> np.ndarray:
        """Unit normal (N,) of a logistic regression for attribute ``name`` on the train split,
        in z coordinates (fitted on standardised components)."""
        from sklearn.linear_model import LogisticRegression

        names = list(self.store.attribute_names)
        if self.store.attributes is None or name not in names:
            have = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
            raise BadRequest(
                f"no attribute {name!r} in the store" + (f" (it has {have})" if names else "")
            )
        y = np.asarray(self.store.attributes[:, names.index(name)])[self.train]
        keep = y != 0  # 0 = unknown
        x = np.asarray(self.z[self.train][keep], dtype=np.float64)
        pos = y[keep] > 0
        if min(pos.sum(), (~pos).sum()) < 5:
            raise BadRequest(f"attribute {name!r}: too few train points with and without it")
        sd = x.std(axis=0)
        sd[sd == 0] = 1.0
        fit = LogisticRegression(max_iter=500).fit((x - x.mean(axis=0)) / sd, pos)
        w = fit.coef_[0] / sd  # the normal in z coordinates
        return w / np.linalg.norm(w)

    def plane(self, names: Sequence[str]) -> tuple[Axis, Axis]:
        """Two axes that span a plane (not parallel)."""
        if not isinstance(names, (list, tuple)) or len(names) != 2:
            raise BadRequest("a plane needs two axes")
        a, b = (self.axis(n) for n in names)
        if abs(float(a.u @ b.u)) > 0.999:
            raise BadRequest(f"axes {a.name} and {b.name} are (nearly) parallel: no plane")
        return a, b

    # --- projections ------------------------------------------------------------------------

    def project(self, z: np.ndarray, axes: tuple[Axis, Axis]) -> np.ndarray:
        """Coordinates of z (m, N) on the two axes, float64 (m, 2)."""
        u = np.stack([a.u for a in axes], axis=1)  # (N, 2)
        off = np.array([a.offset for a in axes])
        return np.atleast_2d(z).astype(np.float64, copy=False) @ u - off

    def projection(self, axes: tuple[Axis, Axis]) -> np.ndarray:
        """Every real point's coordinates, float32 (n, 2)."""
        u = np.stack([a.u for a in axes], axis=1).astype(np.float32)
        off = np.array([a.offset for a in axes], dtype=np.float32)
        return self.z @ u - off

    def plane_info(self, axes: tuple[Axis, Axis]) -> dict[str, Any]:
        """Origin and centroid on the plane, the 1/2/3-sigma ellipses of the train points'
        projection (Mahalanobis radius 1, 2, 3 under the projected covariance), axis labels."""
        u = np.stack([a.u for a in axes], axis=1)
        if self.gaussian is None:
            cov2 = (u.T @ self.pc_axes) * self.pc_var @ (self.pc_axes.T @ u)  # (2, 2)
        else:
            cov2 = self._low_rank_cov(u)
        centre = self.project(self.centroid, axes)[0]
        chol = np.linalg.cholesky(cov2 + np.eye(2) * 1e-12 * np.trace(cov2))
        t = np.linspace(0, 2 * np.pi, 97)
        circle = np.stack([np.cos(t), np.sin(t)])
        ellipses = [(centre[:, None] + k * chol @ circle).round(6).tolist() for k in (1, 2, 3)]
        return {
            "axes": [a.name for a in axes],
            "labels": [a.label for a in axes],
            "sigma": [a.sigma for a in axes],
            "origin": self.project(np.zeros(self.dim), axes)[0].tolist(),
            "centroid": centre.tolist(),
            "ellipses": ellipses,
            "components": [_component(a.name) for a in axes],
        }

    def _low_rank_cov(self, U: np.ndarray) -> np.ndarray:
        """``U^T Cov U`` (m, m) for directions ``U`` (N, m) under the low-rank Gaussian."""
        g = self.gaussian
        P = U.T @ g.components_.T  # (m, q)
        return P * g.explained_variance_ @ P.T + g.noise_variance_ * (U.T @ U - P @ P.T)

    def place(
        self,
        base: np.ndarray,
        axes: tuple[Axis, Axis] | None = None,
        at: Sequence[float] | None = None,
        moves: Sequence[tuple[Axis, float]] = (),
    ) -> np.ndarray:
        """The point (N,) with coordinates ``at`` on ``axes`` and its other coordinates from
        ``base`` (the smallest change of ``base`` that puts it there), then moved by
        ``amount * sigma`` along each axis of ``moves``."""
        z = np.array(base, dtype=np.float64)
        if at is not None and axes is not None:
            u = np.stack([a.u for a in axes], axis=1)
            want = np.asarray(at, dtype=np.float64) + [a.offset for a in axes]
            z += u @ np.linalg.solve(u.T @ u, want - u.T @ z)
        for axis, amount in moves:
            z += amount * axis.sigma * axis.u
        return z

    def circle(
        self, a: np.ndarray, b: np.ndarray, axes: tuple[Axis, Axis], steps: int
    ) -> np.ndarray:
        """``steps`` points (steps, N) round the circle on the plane ``axes`` about a's projection
        through b's (see :func:`circle_path`), each with its other coordinates from ``a``."""
        ca, cb = self.project(np.stack([a, b]), axes)
        return np.stack([self.place(a, axes, p) for p in circle_path(ca, cb, steps)])

    # --- colours, slices, generators ---------------------------------------------------------

    def colour(self, by: str) -> tuple[np.ndarray, dict[str, Any]]:
        """Per-point values (n,) float32 to colour by, and how to read them."""
        if by == "split":
            present = [SPLIT_NAMES[s] for s in range(len(SPLIT_NAMES))]
            return self.split.astype(np.float32), {"kind": "categorical", "categories": present}
        if by == "radius":
            return self.radius.astype(np.float32), {"kind": "continuous", "label": "‖z‖"}
        if by == "mahalanobis":
            return self.mahalanobis.astype(np.float32), {"kind": "continuous", "label": "Mahal."}
        if by == "density":
            return self._cached("density", self._density), {
                "kind": "continuous",
                "label": f"log density ({DENSITY_K}-NN)",
            }
        if by.startswith("attr:"):
            names = list(self.store.attribute_names)
            name = by[5:]
            classes = [j for j, a in enumerate(names) if a.startswith(f"{name}=")]
            if self.store.attributes is not None and name not in names and classes:
                # A class label (one +1/-1 attribute per class, data.sources): one colour a
                # class, 0 for points without one.
                from latentatlas.analysis.fragmentation import label_columns

                own = [names[j] for j in classes]
                codes = label_columns(np.asarray(self.store.attributes[:, classes]), own)[name]
                labels = ["no class", *(a.partition("=")[2] for a in own)]
                return (codes + 1).astype(np.float32), {"kind": "categorical", "categories": labels}
            if self.store.attributes is None or name not in names:
                raise BadRequest(f"no attribute {name!r} in the store")
            values = np.asarray(self.store.attributes[:, names.index(name)], dtype=np.float32)
            labels = [f"not {name}", "unknown", name]
            return values + 1, {"kind": "categorical", "categories": labels}
        raise BadRequest(f"cannot colour by {by!r}: use {', '.join(COLOURS)} or attr:NAME")

    def _density(self) -> np.ndarray:
        """log(1 / distance to the K-th nearest of up to 5,000 train points), measured in the
        16 largest principal coordinates (float32 (n,)); a real point is not its own neighbour."""
        from sklearn.neighbors import NearestNeighbors

        d = min(DENSITY_DIMS, self.dim)
        frame = self.pc_axes[:, :d]
        coords = np.empty((self.n, d), dtype=np.float32)
        for s in range(0, self.n, _ROWS):
            coords[s : s + _ROWS] = (self.z[s : s + _ROWS] - self.centroid) @ frame
        train = np.flatnonzero(self.train)
        rng = np.random.default_rng(0)
        ref = np.sort(rng.choice(train, min(DENSITY_REFERENCE, len(train)), replace=False))
        k = min(DENSITY_K, len(ref) - 1)
        nn = NearestNeighbors(n_neighbors=k + 1).fit(coords[ref])
        dist, idx = nn.kneighbors(coords)
        # Points of the reference set find themselves first: skip that zero distance.
        own = ref[idx[:, 0]] == np.arange(self.n)
        kth = np.where(own, dist[:, k], dist[:, k - 1])
        return (-np.log(np.maximum(kth, 1e-12))).astype(np.float32)

    def default_b(self) -> float:
        """The cube half-width the study fits to the train radii (`cube`'s b)."""
        from latentatlas.analysis.radii import fit_cube_b

        return self._cached(
            "b", lambda: fit_cube_b(self.radius[self.train], self.dim, random_state=0)
        )

    def slice_mask(self, axes: tuple[Axis, Axis], b: float) -> np.ndarray:
        """The study's slice of a plane of two components: real points with |z_j| <= b for
        every j except the two plane axes, bool (n,)."""
        from latentatlas.analysis.slices import slice_mask

        pair = [_component(a.name) for a in axes]
        if None in pair:
            raise BadRequest("the slice needs a plane of two components (axes z:J and z:K)")
        return slice_mask(self.z, pair, b)

    def samples(self, generator: str, n: int, seed: int) -> np.ndarray:
        """``n`` samples (n, N) of ``generator`` fitted on the train split (cached)."""
        from latentatlas.generators.registry import make_generator

        if generator not in OVERLAY_GENERATORS:
            raise BadRequest(
                f"unknown generator {generator!r}: use {', '.join(OVERLAY_GENERATORS)}"
            )

        def fit() -> Any:
            return make_generator(generator).fit(np.asarray(self.z[self.train], dtype=np.float64))

        def draw() -> np.ndarray:
            return self.generators.get(generator, fit).sample(n, random_state=seed)

        return self.sample_sets.get((generator, n, seed), draw)

    # --- caches -----------------------------------------------------------------------------

    def _make_caches(self) -> None:
        """Bounded caches, each made outside its lock (a look-up never waits behind a fit): the
        fits (attribute directions, generators) stay, one per name of the store and the registry;
        axes and sample sets leave least recently used first."""
        names = len(self.store.attribute_names)
        self.directions: LruCache[np.ndarray] = LruCache(max(64, names))
        self.generators: LruCache[Any] = LruCache(len(OVERLAY_GENERATORS))
        self.axes: LruCache[Axis] = LruCache(MAX_AXES, MAX_AXES_BYTES)
        self.sample_sets: LruCache[np.ndarray] = LruCache(MAX_SAMPLE_SETS, MAX_SAMPLE_BYTES)
        self._once: LruCache[Any] = LruCache(8)  # the density, the cube's b
        self.kept: LruCache[np.ndarray] = LruCache(MAX_KEPT)  # uploads and pins, by key

    def _cached(self, key: str, make: Callable[[], Any]) -> Any:
        return self._once.get(key, make)


def circle_path(centre: np.ndarray, through: np.ndarray, steps: int) -> np.ndarray:
    """``steps`` points (steps, 2) evenly spaced, counter-clockwise, round the circle about
    ``centre`` (2,) that passes through ``through`` (2,), starting there; BadRequest if the two
    coincide."""
    offset = through - centre
    r = float(np.linalg.norm(offset))
    if not r > 0:
        raise BadRequest("a circle needs two points apart on the plane")
    start = math.atan2(offset[1], offset[0])
    angles = start + 2 * np.pi * np.arange(steps) / steps
    return centre + r * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def _index(text: str, size: int, what: str) -> int:
    j = parse_int(text, 12, signed=False)
    if j is None or not 0 <= j < size:
        raise BadRequest(f"{what}: expected an index in 0..{size - 1}, got {text!r}")
    return j


def _component(name: str) -> int | None:
    kind, _, arg = name.partition(":")
    return int(arg) if kind == "z" else None
