"""Generators of artificial z-points (scikit-learn style: fit, then sample), paths through the
latent space, save/load, and a registry of named default configurations for the CLI."""

from __future__ import annotations

from collections.abc import Callable

from latentatlas.generators.base import BaseGenerator, NotFittedError
from latentatlas.generators.io import GENERATOR_CLASSES, load_generator, save_generator
from latentatlas.generators.kde import KernelDensity
from latentatlas.generators.mixture import GaussianMixture
from latentatlas.generators.normal import IsotropicNormal, MultivariateNormal, PerComponentNormal
from latentatlas.generators.paths import lerp, plane_circle, plane_segment, slerp
from latentatlas.generators.pca import PCAEllipsoid
from latentatlas.generators.uniform import UniformCube

# Short CLI name -> default configuration, from the naive generators to the fitted ones.
GENERATORS: dict[str, Callable[[], BaseGenerator]] = {
    "cube": lambda: UniformCube(b="auto"),
    "normal": lambda: IsotropicNormal(),
    "normal-fit": lambda: IsotropicNormal(scale="fit"),
    "percomponent": lambda: PerComponentNormal(),
    "mvn": lambda: MultivariateNormal(),
    "pca": lambda: PCAEllipsoid(),
    "gmm": lambda: GaussianMixture(),
    "kde": lambda: KernelDensity(),
}


def make_generator(name: str, **params) -> BaseGenerator:
    """A fresh generator by its CLI name, with ``params`` overriding the default configuration.

    Raises
    ------
    ValueError
        Unknown name (the message lists the valid ones) or unknown parameter.
    """
    factory = GENERATORS.get(name)
    if factory is None:
        raise ValueError(f"unknown generator {name!r}; choose from {', '.join(GENERATORS)}")
    return factory().set_params(**params)


__all__ = [
    "GENERATORS",
    "GENERATOR_CLASSES",
    "BaseGenerator",
    "GaussianMixture",
    "IsotropicNormal",
    "KernelDensity",
    "MultivariateNormal",
    "NotFittedError",
    "PCAEllipsoid",
    "PerComponentNormal",
    "UniformCube",
    "lerp",
    "load_generator",
    "make_generator",
    "plane_circle",
    "plane_segment",
    "save_generator",
    "slerp",
]
