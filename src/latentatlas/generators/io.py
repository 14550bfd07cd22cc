"""Save and load generators as plain data: ``generator.json`` (class, hyper-parameters, scalar
fitted attributes) and ``arrays.npz`` (array fitted attributes). No pickle anywhere."""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path

import numpy as np

from latentatlas.core.atomic import atomic_dir, write_json, write_with
from latentatlas.core.jsonable import jsonable
from latentatlas.generators.base import BaseGenerator
from latentatlas.generators.kde import KernelDensity
from latentatlas.generators.mixture import GaussianMixture
from latentatlas.generators.normal import (
    IsotropicNormal,
    MultivariateNormal,
    PerComponentNormal,
    ShiftedNormal,
)
from latentatlas.generators.pca import PCAEllipsoid
from latentatlas.generators.stationary import StationaryGaussian
from latentatlas.generators.uniform import UniformCube

__all__ = [
    "GENERATOR_CLASSES",
    "PRIOR_CLASSES",
    "generator_class",
    "load_generator",
    "save_generator",
]

FORMAT = "latentatlas.generator"
VERSION = 1
JSON_NAME = "generator.json"
ARRAYS_NAME = "arrays.npz"

# Class name (as written in generator.json) -> class.
GENERATOR_CLASSES: dict[str, type[BaseGenerator]] = {
    cls.__name__: cls
    for cls in (
        UniformCube,
        IsotropicNormal,
        PerComponentNormal,
        MultivariateNormal,
        ShiftedNormal,
        PCAEllipsoid,
        GaussianMixture,
        KernelDensity,
        StationaryGaussian,
    )
}

# The learned priors (torch), by class name -> "module:Class", imported only when one is loaded
# or saved, so that this numpy layer never imports torch by itself.
PRIOR_CLASSES: dict[str, str] = {
    "Flow": "latentatlas.generators.learned.flow:Flow",
    "LatentDiffusion": "latentatlas.generators.learned.diffusion:LatentDiffusion",
    "TwoStageVAE": "latentatlas.generators.learned.two_stage_vae:TwoStageVAE",
}


def generator_class(name: str) -> type[BaseGenerator] | None:
    """The generator class written as ``name`` in ``generator.json`` (None if unknown); a learned
    prior's module is imported on first use."""
    if name in GENERATOR_CLASSES:
        return GENERATOR_CLASSES[name]
    if name in PRIOR_CLASSES:
        module, attr = PRIOR_CLASSES[name].split(":")
        return getattr(importlib.import_module(module), attr)
    return None


def _strict_json(obj, what: str):
    """``obj`` as strict JSON data (numpy scalars -> python, tuples -> lists), else ValueError."""
    data = jsonable(obj)
    try:
        json.dumps(data, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cannot save {what} as JSON: {exc}") from None
    return data


def save_generator(
    gen: BaseGenerator, directory: str | os.PathLike, overwrite: bool = False
) -> Path:
    """Write a generator (fitted or not) to ``directory``, atomically.

    Parameters
    ----------
    gen : BaseGenerator
        One of :data:`GENERATOR_CLASSES` or :data:`PRIOR_CLASSES`; its hyper-parameters must be
        JSON-ready (an int or None ``random_state``, not a numpy Generator).
    directory : path
        Created with ``generator.json`` and (when fitted) ``arrays.npz``; appears only complete.
    overwrite : bool
        Replace an existing directory (else ``FileExistsError``).

    Returns
    -------
    Path
        ``directory``.
    """
    name = type(gen).__name__
    if not isinstance(name, str) or generator_class(name) is not type(gen):
        known = sorted([*GENERATOR_CLASSES, *PRIOR_CLASSES])
        raise ValueError(f"cannot save {name}: not one of {known}")
    params = _strict_json(gen.get_params(), f"the parameters of {name}")
    doc = {"format": FORMAT, "version": VERSION, "class": name, "params": params, "fitted": False}
    arrays: dict[str, np.ndarray] = {}
    if gen.is_fitted:
        scalars, arrays = gen._export_state()
        doc.update(
            fitted=True,
            attributes=_strict_json(scalars, f"the fitted attributes of {name}"),
            arrays=sorted(arrays),
        )
    with atomic_dir(directory, overwrite=overwrite) as tmp:
        write_json(tmp / JSON_NAME, doc)
        if arrays:
            write_with(tmp / ARRAYS_NAME, lambda f: np.savez(f, **arrays))
    return Path(directory)


def load_generator(directory: str | os.PathLike) -> BaseGenerator:
    """Read a generator written by :func:`save_generator`.

    A loaded fitted generator samples exactly the same numbers as the saved one for the same
    ``random_state``.

    Raises
    ------
    FileNotFoundError
        No ``generator.json`` in ``directory``.
    ValueError
        Not a generator file, an unknown class, bad parameters, or missing arrays/attributes.
    """
    directory = Path(directory)
    path = directory / JSON_NAME
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(
            f"no saved generator in {directory} ({JSON_NAME} missing)"
        ) from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"{path} is not a saved latentatlas generator")
    if doc.get("version") != VERSION:
        raise ValueError(f"{path}: unsupported version {doc.get('version')!r} (expected {VERSION})")
    name = doc.get("class")
    cls = generator_class(name) if isinstance(name, str) else None
    if cls is None:
        known = ", ".join([*GENERATOR_CLASSES, *PRIOR_CLASSES])
        raise ValueError(f"{path}: unknown generator class {name!r}; known: {known}")
    try:
        gen = cls(**doc.get("params", {}))
    except TypeError as exc:
        raise ValueError(f"{path}: bad parameters for {name}: {exc}") from None
    if not doc.get("fitted"):
        return gen
    names = doc.get("arrays", [])
    arrays: dict[str, np.ndarray] = {}
    if names:
        npz = directory / ARRAYS_NAME
        if not npz.is_file():
            raise ValueError(f"{directory}: {ARRAYS_NAME} is missing (needed for {names})")
        with np.load(npz, allow_pickle=False) as f:
            missing = [k for k in names if k not in f.files]
            if missing:
                raise ValueError(f"{npz} lacks the arrays {missing}")
            arrays = {k: f[k] for k in names}
    gen._import_state(doc.get("attributes", {}), arrays)
    return gen
