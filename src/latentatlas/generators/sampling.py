"""Decode what a generator or a path produces: ``latentatlas sample`` and ``latentatlas path``.

Torch (the model, decoding) is imported when :func:`sample` or :func:`path` runs, not with this
module.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm import tqdm

from latentatlas.analysis.spatial import spatial_shape
from latentatlas.core import atomic
from latentatlas.core.errors import LatentAtlasError
from latentatlas.core.imaging import image_grid, labelled_strip, save_png, square_grid
from latentatlas.data.conditions import Condition, describe, parse_where, select
from latentatlas.data.store import ZStore
from latentatlas.generators import make_generator, save_generator, with_progress
from latentatlas.generators.paths import lerp, plane_circle, plane_segment, slerp

if TYPE_CHECKING:
    from latentatlas.models import TorchLatentModel

PATH_KINDS = ("segment", "circle", "lerp", "slerp")


def _load(
    checkpoint: Any, store: Any, device: str, **checks: bool
) -> tuple[TorchLatentModel, ZStore]:
    from latentatlas.models.pairing import load_model_and_store

    model, _, st = load_model_and_store(checkpoint, store, device, **checks)
    return model, st


def train_points(store: ZStore) -> np.ndarray:
    """The points generators are fitted on: the train split (all points of a bare .npy)."""
    z = store.subset("train")
    if len(z) < 2:
        raise LatentAtlasError(f"only {len(z)} train z-points in the store: nothing to fit on")
    return np.asarray(z, dtype=np.float64)


def sample(
    checkpoint: str | os.PathLike,
    store: str | os.PathLike | ZStore,
    out: str | os.PathLike,
    generator: str = "mvn",
    n: int = 64,
    seed: int = 0,
    params: dict[str, Any] | None = None,
    device: str = "auto",
    overwrite: bool = False,
    progress: bool = True,
    verify: bool = True,
    allow_mismatch: bool = False,
    where: Condition | str | None = None,
) -> dict[str, Any]:
    """Fit ``generator`` on the train split, draw ``n`` z-points and decode them.

    ``where`` (``"Smiling=1,Eyeglasses=0"`` or ``{"Smiling": 1, "Eyeglasses": -1}``) fits on
    the train z-points whose attributes match, i.e. samples from the conditional distribution.

    Writes ``out/grid.png``, ``out/z.npy``, ``out/images.npy`` (uint8 decoded samples),
    ``out/generator/`` (the fitted generator) and ``out/sample.json``.
    """
    from latentatlas.models import input_paths
    from latentatlas.models.decode import decode

    if n < 1:
        raise LatentAtlasError(f"--n must be positive, got {n}")
    condition = parse_where(where) if isinstance(where, str) else where
    atomic.check_new(out, overwrite, inputs=(*input_paths(checkpoint), _path_of(store)))
    # A status line while fitting: a mixture's EM on thousands of points takes seconds.
    steps = tqdm(total=3, desc="sample", unit="step", disable=not progress, file=sys.stderr)
    steps.set_postfix_str("load")
    model, st = _load(checkpoint, store, device, verify=verify, allow_mismatch=allow_mismatch)
    st = select(st, condition)
    steps.update()
    steps.set_postfix_str(f"fit {generator}")
    try:
        z_fit = train_points(st)
        shape = spatial_shape(st.meta, st.latent_dim)
        gen = make_generator(generator, latent_shape=shape, **(params or {}))
        gen = with_progress(gen, progress)
        gen = gen.fit(z_fit)
    except (ValueError, LatentAtlasError) as e:
        steps.close()
        # With a condition, say which one left too few points.
        given = f"--where {describe(condition)}: " if condition is not None else ""
        raise LatentAtlasError(f"{given}{e}") from None
    steps.update()
    steps.set_postfix_str("sample and decode")
    z = gen.sample(n, random_state=seed)
    images = decode(model, z)
    steps.update()
    steps.close()
    info = {
        "generator": generator,
        "class": type(gen).__name__,
        "n": n,
        "seed": seed,
        "params": gen.get_params(),
        "fitted": gen.fitted_params(),
    }
    if condition is not None:
        info["where"] = {"condition": describe(condition), "n_train_matching": len(z_fit)}
    with atomic.atomic_dir(out, overwrite=overwrite) as tmp:
        save_png(square_grid(images), tmp / "grid.png")
        np.save(tmp / "z.npy", z.astype(np.float32))
        np.save(tmp / "images.npy", images)
        save_generator(gen, tmp / "generator")
        atomic.write_json(tmp / "sample.json", info)
    return info


def path(
    checkpoint: str | os.PathLike,
    store: str | os.PathLike | ZStore,
    out: str | os.PathLike,
    kind: str = "segment",
    pair: Sequence[int] | None = None,
    between: Sequence[str] | None = None,
    base: str = "centroid",
    start: Sequence[float] | None = None,
    end: Sequence[float] | None = None,
    radius: float | Sequence[float] | None = None,
    steps: int = 12,
    device: str = "auto",
    overwrite: bool = False,
    verify: bool = True,
    allow_mismatch: bool = False,
    frame: str = "components",
) -> dict[str, Any]:
    """Decode a path of z-points into an image strip ``out/strip.png`` (plus ``labelled.png``,
    the strip with each frame's coordinates under it, ``z.npy`` and ``path.json``; a plane
    path's frames are labelled in standard deviations from the base, ``coords_sigma``).

    Plane paths (``segment``, ``circle``) move components ``pair`` and hold the others at
    ``base`` (``"centroid"`` or a real image id). By default the segment crosses the data region
    diagonally, from ``base - 3 sigma`` to ``base + 3 sigma`` in both components (sigma: the train
    points' standard deviation of each), and the circle goes round the base at 2 sigma. ``lerp`` and
    ``slerp`` interpolate between the real z-points of the two image ids in ``between``.

    ``frame="principal"`` reads ``pair`` as principal axes of the train points (0 = the largest)
    instead of components: the plane where the data varies most, so the decoded faces change
    visibly (two of 256 components hardly move them). Coordinates are then principal
    coordinates relative to the centroid.
    """
    from latentatlas.models import input_paths
    from latentatlas.models.decode import decode

    if frame not in ("components", "principal"):
        raise LatentAtlasError(f"frame must be components or principal, got {frame!r}")
    if kind not in PATH_KINDS:
        raise LatentAtlasError(f"path kind must be one of {', '.join(PATH_KINDS)}, got {kind!r}")
    atomic.check_new(out, overwrite, inputs=(*input_paths(checkpoint), _path_of(store)))
    model, st = _load(checkpoint, store, device, verify=verify, allow_mismatch=allow_mismatch)
    info: dict[str, Any] = {"kind": kind, "steps": steps}
    try:
        if kind in ("lerp", "slerp"):
            if not between or len(between) != 2:
                raise LatentAtlasError(f"{kind} needs two image ids (--between ID1 ID2)")
            z0, z1 = (_point(st, i) for i in between)
            z = (lerp if kind == "lerp" else slerp)(z0, z1, steps)
            info["between"] = list(between)
        else:
            if pair is None:
                raise LatentAtlasError(f"a {kind} path needs a plane (--plane J1,J2)")
            if (
                len(pair) != 2
                or not all(0 <= j < st.latent_dim for j in pair)
                or pair[0] == pair[1]
            ):
                raise LatentAtlasError(
                    f"--plane needs two different components in 0..{st.latent_dim - 1}, "
                    f"got {tuple(pair)}"
                )
            train = train_points(st)
            b = train.mean(axis=0) if base == "centroid" else _point(st, base)
            j = list(pair)
            to_z = None
            if frame == "principal":
                centre = train.mean(axis=0)
                rest = np.zeros_like(centre)  # the part of b outside the kept axes
                from latentatlas.analysis.ppca import HIGH_N, TOP_AXES, principal_frame

                if train.shape[1] <= HIGH_N:
                    _, axes = np.linalg.eigh(np.cov(train, rowvar=False))
                    axes = axes[:, ::-1]  # largest variance first
                else:
                    # No N x N covariance: the top axes, as the explorer keeps them.
                    axes = principal_frame(train, TOP_AXES).axes
                    if max(j) >= axes.shape[1]:
                        raise LatentAtlasError(
                            f"--plane: the principal frame has {axes.shape[1]} axes at "
                            f"N = {train.shape[1]}, got {tuple(pair)}"
                        )
                    rest = (b - centre) - ((b - centre) @ axes) @ axes.T
                train = (train - centre) @ axes
                b = (b - centre) @ axes
                to_z = lambda u: centre + rest + u @ axes.T  # noqa: E731
            sigma = train[:, j].std(axis=0)
            if kind == "segment":
                p0 = b[j] - 3 * sigma if start is None else np.asarray(start, float)
                p1 = b[j] + 3 * sigma if end is None else np.asarray(end, float)
                z = plane_segment(b, pair, p0, p1, steps)
                info.update(start=p0.tolist(), end=p1.tolist())
            else:
                r = 2 * sigma if radius is None else radius
                z = plane_circle(b, pair, b[j], r, steps)
                info["radius"] = np.broadcast_to(np.asarray(r, float), (2,)).tolist()
            info.update(plane=j, base=base, frame=frame)
            coords = z[:, j]
            # Frames are labelled as the text describes the path: standard deviations of the
            # train points from the base along each axis.
            info["sigma"] = sigma.tolist()
            info["coords_sigma"] = (np.round((coords - b[j]) / sigma, 3) + 0.0).tolist()
            info["axes"] = [f"pc{i + 1}" if to_z else f"z[{i}]" for i in j]
            if to_z is not None:
                z = to_z(z)
    except ValueError as e:
        raise LatentAtlasError(str(e)) from None
    if kind in ("lerp", "slerp"):
        coords, info["axes"] = np.linspace(0, 1, len(z))[:, None], ["t"]
    coords = np.round(coords, 4) + 0.0  # + 0.0: no "-0" labels
    info["coords"] = coords.tolist()
    images = decode(model, z)
    with atomic.atomic_dir(out, overwrite=overwrite) as tmp:
        save_png(image_grid([images]), tmp / "strip.png")
        labels, unit = (info["coords_sigma"], "σ") if "sigma" in info else (coords, "")
        save_png(labelled_strip(images, labels, info["axes"], unit=unit), tmp / "labelled.png")
        np.save(tmp / "z.npy", z.astype(np.float32))
        atomic.write_json(tmp / "path.json", info)
    return info


def _path_of(store: str | os.PathLike | ZStore) -> str | os.PathLike | None:
    return None if isinstance(store, ZStore) else store


def _point(store: ZStore, image_id: str) -> np.ndarray:
    hits = np.flatnonzero(store.ids == image_id)
    if not len(hits):
        raise LatentAtlasError(f"no image id {image_id!r} in the store")
    return np.asarray(store.z[hits[0]], dtype=np.float64)
