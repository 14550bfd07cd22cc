"""The explorer's overview map and what draws a large store: a 2-D embedding (UMAP by default) of
the real points, computed once in a background thread; attribute filters with counts; the points
and the density image of a plane's view box; thumbnails spread over a view box (numpy and
scikit-learn only, no HTTP).

The overview's work is bounded whatever the store's size: the embedding is fitted on at most
:data:`FIT_POINTS` points of a seeded subsample of at most :data:`OVERVIEW_POINTS`; the rest of
that subsample is placed at the inverse-distance-weighted mean of its :data:`PLACE_K` nearest
fitted points (UMAP's own ``transform`` costs about 6 ms a point, minutes at these sizes). Both
work in the :data:`EMBED_DIMS` largest principal coordinates of the train points.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from latentatlas.core.rng import stream, subsample_indices
from latentatlas.explore.space import _ROWS, BadRequest, LatentSpace

OVERVIEW_POINTS = 50_000  # points the overview shows (a seeded subsample of a larger store)
FIT_POINTS = 2_000  # points the embedding is fitted on (UMAP: ~10 s of one core after its JIT)
PLACE_K = 5
UMAP_NEIGHBOURS = 15  # umap-learn's default n_neighbors
EMBED_DIMS = 32
OVERVIEW_SEED_PURPOSE = 19  # core.rng stream purpose of the overview's subsamples
MAX_THUMBNAILS = 64

Embedding = Callable[[np.ndarray, int], np.ndarray]  # (m, d) points, seed -> (m, 2)


def umap_embedding(x: np.ndarray, seed: int) -> np.ndarray:
    """UMAP (``umap-learn``, one thread, ``random_state=seed``) of x (m, d) into 2-D, on exact
    nearest neighbours from scikit-learn: UMAP's own search compiles parallel numba code that its
    cache does not keep (25 s a process, against ~5 s for the rest of UMAP's compilation)."""
    import warnings

    import umap
    from sklearn.neighbors import NearestNeighbors

    k = min(UMAP_NEIGHBOURS, len(x) - 1)
    dist, idx = NearestNeighbors(n_neighbors=k).fit(x).kneighbors(x)
    model = umap.UMAP(
        n_neighbors=k,
        n_components=2,
        random_state=seed,
        n_jobs=1,
        n_epochs=200,
        precomputed_knn=(idx, dist, None),
    )
    with warnings.catch_warnings():
        # "transform will be unavailable" (never used) and "n_jobs overridden by random_state".
        warnings.simplefilter("ignore", UserWarning)
        return np.asarray(model.fit_transform(x), dtype=np.float64)


def pca_embedding(x: np.ndarray, seed: int) -> np.ndarray:
    """The two largest principal coordinates of x (m, d): a cheap stand-in for UMAP."""
    from sklearn.decomposition import PCA

    return PCA(2, random_state=seed).fit_transform(x)


class Overview:
    """The overview map of ``space``: started by :meth:`start` (a daemon thread, once), read by
    :meth:`result` (None until ready)."""

    def __init__(
        self,
        space: LatentSpace,
        embed: Embedding = umap_embedding,
        seed: int = 0,
        points: int = OVERVIEW_POINTS,
        fit: int = FIT_POINTS,
    ) -> None:
        self.space, self.embed, self.seed = space, embed, seed
        self.points, self.fit = points, fit
        self.method = getattr(embed, "__name__", "embedding").replace("_embedding", "")
        self.state = "idle"  # idle -> computing -> ready | failed
        self.error = ""
        self._result: tuple[np.ndarray, np.ndarray, int] | None = None
        self._lock = threading.Lock()

    def start(self) -> str:
        """Start the computation unless it has started; the state."""
        with self._lock:
            if self.state == "idle":
                self.state = "computing"
                threading.Thread(target=self._run, name="overview", daemon=True).start()
            return self.state

    def result(self) -> tuple[np.ndarray, np.ndarray, int] | None:
        """(indices (m,) int64 sorted, xy (m, 2) float32, points fitted), or None until ready."""
        return self._result

    def _run(self) -> None:
        try:
            result = self.compute()
        except Exception as e:  # reported to the page; the server goes on
            self.error, self.state = f"{type(e).__name__}: {e}", "failed"
            return
        self._result, self.state = result, "ready"

    def compute(self) -> tuple[np.ndarray, np.ndarray, int]:
        """The overview, in the calling thread."""
        from sklearn.neighbors import NearestNeighbors

        space = self.space
        rng = stream(self.seed, OVERVIEW_SEED_PURPOSE)
        shown = subsample_indices(space.n, self.points, rng)
        coords = principal_coordinates(space, shown, EMBED_DIMS)
        fitted = subsample_indices(len(shown), self.fit, rng)
        xy = np.empty((len(shown), 2))
        xy[fitted] = self.embed(coords[fitted], self.seed)
        rest = np.setdiff1d(np.arange(len(shown)), fitted)
        if len(rest):
            k = min(PLACE_K, len(fitted))
            dist, idx = NearestNeighbors(n_neighbors=k).fit(coords[fitted]).kneighbors(coords[rest])
            w = 1.0 / np.maximum(dist, 1e-9)
            xy[rest] = np.einsum("ik,ikj->ij", w, xy[fitted][idx]) / w.sum(axis=1, keepdims=True)
        return shown.astype(np.int64), xy.astype(np.float32), len(fitted)


def principal_coordinates(space: LatentSpace, rows: np.ndarray, dims: int) -> np.ndarray:
    """The ``dims`` largest principal coordinates (len(rows), dims) float32 of the points
    ``rows``, about the train centroid."""
    frame = space.pc_axes[:, : min(dims, space.dim)].astype(np.float32)
    centre = space.centroid.astype(np.float32)
    out = np.empty((len(rows), frame.shape[1]), dtype=np.float32)
    for s in range(0, len(rows), _ROWS):
        out[s : s + _ROWS] = (space.z[rows[s : s + _ROWS]] - centre) @ frame
    return out


# --- attribute filters -------------------------------------------------------------------------


def attribute_filter(space: LatentSpace, terms: Sequence[str]) -> np.ndarray:
    """Real points (bool (n,)) that have every attribute NAME and lack every ``!NAME`` of
    ``terms`` (an unknown value, 0, matches neither)."""
    names = list(space.store.attribute_names)
    mask = np.ones(space.n, dtype=bool)
    for term in terms:
        name = term[1:] if term.startswith("!") else term
        if space.store.attributes is None or name not in names:
            raise BadRequest(f"no attribute {name!r} in the store")
        column = np.asarray(space.store.attributes[:, names.index(name)])
        mask &= column < 0 if term.startswith("!") else column > 0
    return mask


def attribute_counts(space: LatentSpace, mask: np.ndarray) -> dict[str, int]:
    """For each attribute, how many of the points ``mask`` have it."""
    if space.store.attributes is None:
        return {}
    counts = (np.asarray(space.store.attributes)[mask] > 0).sum(axis=0)
    return dict(zip(space.store.attribute_names, counts.tolist(), strict=True))


# --- a plane's view box ------------------------------------------------------------------------


def in_box(xy: np.ndarray, box: Sequence[float]) -> np.ndarray:
    """Indices of the rows of xy (n, 2) inside box (x0, x1, y0, y1)."""
    x0, x1, y0, y1 = box
    x, y = xy[:, 0], xy[:, 1]
    return np.flatnonzero((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))


def density_grid(xy: np.ndarray, box: Sequence[float] | None, bins: int) -> dict[str, Any]:
    """The 2-D histogram (bins x bins, rows = y) of the points xy (n, 2) in box (x0, x1, y0, y1;
    None: every point), as counts float32 and the box."""
    if box is None:
        lo, hi = xy.min(axis=0), xy.max(axis=0)
        pad = (hi - lo) * 0.02 + 1e-9
        box = (lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1])
    x0, x1, y0, y1 = (float(v) for v in box)
    counts, _, _ = np.histogram2d(xy[:, 1], xy[:, 0], bins=bins, range=[[y0, y1], [x0, x1]])
    return {"box": [x0, x1, y0, y1], "bins": bins, "counts": counts.astype(np.float32)}


def spread_points(xy: np.ndarray, box: Sequence[float], k: int) -> np.ndarray:
    """Up to ``k`` indices of rows of xy (n, 2) inside box, spread over it: a ceil(sqrt(k))
    square grid over the box; first the point nearest the centre of each non-empty cell (the
    fullest cells first), then the next nearest of each, and so on."""
    inside = in_box(xy, box)
    if not len(inside) or k < 1:
        return np.zeros(0, dtype=np.int64)
    x0, x1, y0, y1 = box
    side = int(np.ceil(np.sqrt(k)))
    span = np.array([max(x1 - x0, 1e-12), max(y1 - y0, 1e-12)])
    cell = np.clip(((xy[inside] - [x0, y0]) / span * side).astype(np.int64), 0, side - 1)
    key = cell[:, 1] * side + cell[:, 0]
    centre = (cell + 0.5) / side * span + [x0, y0]
    off = np.linalg.norm((xy[inside] - centre) / span, axis=1)
    order = np.lexsort((off, key))  # by cell, nearest its centre first
    starts = np.flatnonzero(np.r_[True, key[order][1:] != key[order][:-1]])
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    fullness = np.bincount(key, minlength=side * side)[key[order]]
    keep = order[np.lexsort((-fullness, rank))[:k]]
    return np.sort(inside[keep])
