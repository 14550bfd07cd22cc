"""The store's statistics as per-block partial results and their combination, with two drivers.

Every statistic here is a *reduction* (a partial result per row block, added up) or a *row map*
(one value per point, computed block by block):

- ``first_moments`` / ``central_moments``: count, sums, minima and maxima, then the central
  moment sums (orders 2-4), the centred cross-products (the covariance, when ``N`` is small enough
  for an ``(N, N)`` matrix) and the sum of ``|x - mean|^4`` (Ledoit–Wolf needs it);
- ``channel_moments``: the same per channel of a ``C x H x W`` latent (a hook for spatial
  latents: every position of a channel counts as one value of that channel);
- ``slice_partial``: the out-of-cube counts from which every slice count follows;
- row maps: radii and Mahalanobis distances (any function of a block).

Two passes (the mean first, then moments about it) keep the sums as accurate as the in-memory
two-pass formulas. A partial result is a ``dict`` of arrays; :func:`combine` adds two of them, so
any grouping of the blocks gives the same numbers up to rounding.

The drivers run those per-block functions: :class:`LocalDriver` over row chunks of an array
(a memory-mapped store is read one chunk at a time, each chunk converted to float64 alone), and
:class:`DaskDriver` over the blocks of a ``dask.array`` (a ``distributed`` cluster, local or
remote). Both expose ``reduce(fn, *args)`` and ``map_rows(fn, *args)``; :func:`store_statistics`
is written once against that interface.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from latentatlas.core.validation import check_points

# Bytes of one float64 row block: 64 MiB keeps temporaries (a centred block, its squares) small
# at N = 65,536 while a block is still large enough for BLAS to run at full speed at N = 256.
BLOCK_BYTES = 64 * 2**20
# Largest N whose (N, N) covariance is formed densely (134 MB at 4,096; eigh ~12 s on one core).
DENSE_MAX_N = 4096

Partial = dict[str, Any]
_MIN_KEYS = ("min",)
_MAX_KEYS = ("max",)
_CONCAT_KEYS = ("codes",)


def block_rows(N: int, itemsize: int = 8) -> int:
    """Rows per block for ``N`` components: ``BLOCK_BYTES`` of ``itemsize``-byte values."""
    return max(1, BLOCK_BYTES // (itemsize * max(int(N), 1)))


def as_rows(Z: Any, min_rows: int = 2, name: str = "Z") -> np.ndarray:
    """Validate z-points without copying a float32 or float64 ``(n, N)`` array (memory-mapped
    stores stay on disk); anything else goes through :func:`check_points` (float64 copy).

    The finiteness check runs over row blocks, so it never holds a float64 copy of the whole.
    """
    if not (isinstance(Z, np.ndarray) and Z.ndim == 2 and Z.dtype in (np.float32, np.float64)):
        return check_points(Z, min_rows=min_rows, name=name)
    if Z.shape[1] == 0:
        raise ValueError(f"{name} has no components (shape {Z.shape})")
    if Z.shape[0] < min_rows:
        raise ValueError(f"{name} needs at least {min_rows} points, got {Z.shape[0]}")
    step = block_rows(Z.shape[1], Z.itemsize)
    for start in range(0, Z.shape[0], step):
        B = Z[start : start + step]
        if not np.isfinite(B.sum(axis=1, dtype=np.float64)).all():
            bad = ~np.isfinite(B).all(axis=1)
            if bad.any():
                raise ValueError(f"{name} contains NaN or inf (row {start + int(np.argmax(bad))})")
    return Z


# ---- per-block partial results ------------------------------------------------------------


def first_moments(B: np.ndarray) -> Partial:
    """Count, column sums, minima and maxima of one block."""
    B = np.asarray(B, dtype=np.float64)
    return {"n": len(B), "sum": B.sum(axis=0), "min": B.min(axis=0), "max": B.max(axis=0)}


def central_moments(B: np.ndarray, mean: np.ndarray, covariance: bool = True) -> Partial:
    """Central moment sums about ``mean`` of one block: orders 2-4 per column, ``|x - mean|^4``
    summed over rows, and (``covariance``) the centred cross-product matrix."""
    D = np.asarray(B, dtype=np.float64) - mean
    D2 = D * D
    r2 = D2.sum(axis=1)
    out = {
        "m2": D2.sum(axis=0),
        "m3": (D2 * D).sum(axis=0),
        "m4": (D2 * D2).sum(axis=0),
        "r4": float(r2 @ r2),
    }
    if covariance:
        out["cross"] = D.T @ D  # numpy dispatches A.T @ A to a symmetric rank-k update
    return out


def channel_view(B: np.ndarray, channels: int) -> np.ndarray:
    """A block of flattened ``C x H x W`` latents as ``(rows * H * W, C)`` channel values."""
    B = np.asarray(B, dtype=np.float64)
    return B.reshape(len(B), channels, -1).transpose(0, 2, 1).reshape(-1, channels)


def channel_first(B: np.ndarray, channels: int) -> Partial:
    """:func:`first_moments` per channel (the hook for per-channel statistics)."""
    return first_moments(channel_view(B, channels))


def channel_central(B: np.ndarray, mean: np.ndarray, channels: int) -> Partial:
    """:func:`central_moments` per channel, with the ``C x C`` cross-channel products."""
    return central_moments(channel_view(B, channels), mean, covariance=True)


def slice_partial(B: np.ndarray, b: float) -> Partial:
    """Out-of-cube counts of one block: rows wholly inside ``[-b, b]^N``, rows with exactly one
    component outside (per component), and the pair code ``j1 * N + j2`` of rows with two."""
    out = np.abs(np.asarray(B)) > b
    N = out.shape[1]
    n_out = out.sum(axis=1)
    single = np.bincount(np.nonzero(out[n_out == 1])[1], minlength=N)
    cols = np.nonzero(out[n_out == 2])[1].reshape(-1, 2)  # row-major: each row's two, sorted
    return {
        "inside": int((n_out == 0).sum()),
        "single": single.astype(np.int64),
        "codes": cols[:, 0].astype(np.int64) * N + cols[:, 1],
    }


def take_columns(Z: np.ndarray, columns: Any) -> np.ndarray:
    """The given components of every point, ``(n, len(columns))`` float64, read in row blocks
    (one pass over a memory-mapped store, whatever the number of columns)."""
    cols = np.asarray(columns, dtype=np.int64)
    step = block_rows(Z.shape[1], Z.itemsize)
    out = np.empty((Z.shape[0], len(cols)))
    for start in range(0, Z.shape[0], step):
        out[start : start + step] = Z[start : start + step][:, cols]
    return out


def radii_block(B: np.ndarray) -> np.ndarray:
    """Euclidean norms of the rows of one block."""
    B = np.asarray(B, dtype=np.float64)
    return np.sqrt(np.einsum("ij,ij->i", B, B))


def combine(a: Partial, b: Partial) -> Partial:
    """Two partial results as one: sums add, minima/maxima take the extreme, codes concatenate."""
    out = {}
    for key, va in a.items():
        vb = b[key]
        if key in _MIN_KEYS:
            out[key] = np.minimum(va, vb)
        elif key in _MAX_KEYS:
            out[key] = np.maximum(va, vb)
        elif key in _CONCAT_KEYS:
            out[key] = np.concatenate([va, vb])
        else:
            out[key] = va + vb
    return out


# ---- drivers ------------------------------------------------------------------------------


class Driver(Protocol):
    """Runs per-block functions over the rows of ``(n, N)`` z-points."""

    shape: tuple[int, int]
    name: str

    def reduce(self, fn: Callable[..., Partial], *args: Any) -> Partial: ...

    def map_rows(self, fn: Callable[..., np.ndarray], *args: Any) -> np.ndarray: ...


class LocalDriver:
    """Row chunks of an in-memory or memory-mapped array, one after the other in this process."""

    name = "local"

    def __init__(self, Z: np.ndarray, rows: int | None = None) -> None:
        self.Z = Z
        self.shape = (int(Z.shape[0]), int(Z.shape[1]))
        self.rows = int(rows) if rows is not None else block_rows(self.shape[1])

    def _blocks(self):
        for start in range(0, self.shape[0], self.rows):
            yield self.Z[start : start + self.rows]

    def reduce(self, fn: Callable[..., Partial], *args: Any) -> Partial:
        total = None
        for B in self._blocks():
            part = fn(B, *args)
            total = part if total is None else combine(total, part)
        return total

    def map_rows(self, fn: Callable[..., np.ndarray], *args: Any) -> np.ndarray:
        return np.concatenate([np.asarray(fn(B, *args)) for B in self._blocks()])


class DaskDriver:
    """The blocks of a ``dask.array`` (row chunks, all N columns in each), computed by the
    current ``distributed`` client or dask's default scheduler; partial results are combined in
    a tree on the workers, so only the combined result travels back."""

    name = "dask"

    def __init__(self, darr: Any) -> None:
        if darr.ndim != 2 or len(darr.chunks[1]) != 1:
            darr = darr.rechunk({1: -1})
        self.darr = darr
        self.shape = (int(darr.shape[0]), int(darr.shape[1]))

    def _parts(self, fn: Callable, args: tuple) -> list:
        import dask

        # Each argument (a mean, a fitted model) becomes one key of the graph, sent to a worker
        # once, rather than a copy inside every block's task.
        shared = [dask.delayed(a) for a in args]
        return [dask.delayed(fn)(blk, *shared) for blk in self.darr.to_delayed().ravel()]

    def reduce(self, fn: Callable[..., Partial], *args: Any) -> Partial:
        import dask

        parts = self._parts(fn, args)
        while len(parts) > 1:  # a binary tree: log2(blocks) rounds, each on the workers
            pairs = [
                dask.delayed(combine)(a, b)
                for a, b in zip(parts[0::2], parts[1::2], strict=False)
            ]
            parts = pairs + ([parts[-1]] if len(parts) % 2 else [])
        return dask.compute(parts[0])[0]

    def map_rows(self, fn: Callable[..., np.ndarray], *args: Any) -> np.ndarray:
        import dask

        return np.concatenate([np.asarray(p) for p in dask.compute(*self._parts(fn, args))])


def dask_array(Z: np.ndarray, rows: int | None = None) -> Any:
    """``Z`` as a ``dask.array`` of row chunks.

    A memory-mapped ``.npy`` (``np.load(..., mmap_mode="r")``) becomes chunks that each worker
    reads from the file itself (so the file must be visible at the same path on every worker:
    a shared file system); an in-memory array is sent to the workers.
    """
    import dask
    import dask.array as da

    n, N = Z.shape
    rows = int(rows) if rows is not None else block_rows(N)
    path = getattr(Z, "filename", None)
    if path is None:
        return da.from_array(np.asarray(Z), chunks=(rows, N))
    chunks = [
        da.from_delayed(
            dask.delayed(_read_rows)(str(path), s, min(s + rows, n)),
            shape=(min(s + rows, n) - s, N),
            dtype=Z.dtype,
        )
        for s in range(0, n, rows)
    ]
    return da.concatenate(chunks, axis=0)


def _read_rows(path: str, start: int, stop: int) -> np.ndarray:
    return np.array(np.load(path, mmap_mode="r")[start:stop])


# ---- the statistics -----------------------------------------------------------------------


@dataclass(frozen=True, eq=False)  # arrays inside
class StoreStatistics:
    """Moments (per component, ``(N,)`` each), the covariance (``(N, N)``, unbiased; None when
    ``N > DENSE_MAX_N``), ``sum_r4`` (sum over points of ``|x - mean|^4``) and the radii ``(n,)``.
    ``m2``, ``m3``, ``m4`` are the central moments (divisor n)."""

    n: int
    mean: np.ndarray
    minimum: np.ndarray
    maximum: np.ndarray
    m2: np.ndarray
    m3: np.ndarray
    m4: np.ndarray
    covariance: np.ndarray | None
    sum_r4: float
    radii: np.ndarray
    driver: str


def store_statistics(
    driver: Driver, covariance: bool | None = None, radii: bool = True
) -> StoreStatistics:
    """Moments, covariance and radii of all points, through ``driver`` (two passes, a third for
    the radii).

    ``covariance`` defaults to ``N <= DENSE_MAX_N``; without ``radii``, ``radii`` is empty.
    """
    n, N = driver.shape
    cov = N <= DENSE_MAX_N if covariance is None else bool(covariance)
    first = driver.reduce(first_moments)
    mean = first["sum"] / n
    second = driver.reduce(central_moments, mean, cov)
    C = None
    if cov:
        C = second["cross"] / max(n - 1, 1)
        C = 0.5 * (C + C.T)
    return StoreStatistics(
        n=n,
        mean=mean,
        minimum=first["min"],
        maximum=first["max"],
        m2=second["m2"] / n,
        m3=second["m3"] / n,
        m4=second["m4"] / n,
        covariance=C,
        sum_r4=float(second["r4"]),
        radii=driver.map_rows(radii_block) if radii else np.zeros(0),
        driver=driver.name,
    )


def channel_statistics(driver: Driver, channels: int) -> dict[str, np.ndarray]:
    """Per-channel mean, standard deviation (divisor n), skewness, excess kurtosis and the
    ``C x C`` cross-channel covariance of flattened ``C x H x W`` latents, through ``driver``."""
    first = driver.reduce(channel_first, channels)
    count = first["n"]
    mean = first["sum"] / count
    second = driver.reduce(channel_central, mean, channels)
    m2, m3, m4 = second["m2"] / count, second["m3"] / count, second["m4"] / count
    with np.errstate(divide="ignore", invalid="ignore"):
        skew = np.where(m2 > 0, m3 / m2**1.5, np.nan)
        kurt = np.where(m2 > 0, m4 / m2**2 - 3.0, np.nan)
    return {
        "mean": mean,
        "std": np.sqrt(m2),
        "skewness": skew,
        "kurtosis": kurt,
        "minimum": first["min"],
        "maximum": first["max"],
        "covariance": second["cross"] / count,
    }


def slice_counts_all(driver: Driver, b: float) -> Partial:
    """The out-of-cube counts of every point (:func:`slice_partial` over all blocks)."""
    return driver.reduce(slice_partial, float(b))


def distance_block(B: np.ndarray, model: Any) -> np.ndarray:
    """Mahalanobis distances of one block's rows under a fitted ``MahalanobisModel``."""
    return model.distance(B)


def mahalanobis_distances(driver: Driver, model: Any) -> np.ndarray:
    """Mahalanobis distances of every point under a fitted ``MahalanobisModel``."""
    return driver.map_rows(distance_block, model)
