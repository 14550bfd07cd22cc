"""Generators of artificial z-points (scikit-learn style: fit, then sample), paths through the
latent space, save/load, and a registry of named default configurations for the CLI."""

from __future__ import annotations

from collections.abc import Callable

from latentatlas.generators.base import BaseGenerator, NotFittedError
from latentatlas.generators.io import (
    GENERATOR_CLASSES,
    PRIOR_CLASSES,
    generator_class,
    load_generator,
    save_generator,
)
from latentatlas.generators.kde import KernelDensity
from latentatlas.generators.ladder import LADDER_TEMPERATURES, degradation_ladder
from latentatlas.generators.mixture import GaussianMixture
from latentatlas.generators.normal import (
    IsotropicNormal,
    MultivariateNormal,
    PerComponentNormal,
    ShiftedNormal,
)
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


def _prior(class_name: str) -> Callable[[], BaseGenerator]:
    def factory() -> BaseGenerator:
        cls = generator_class(class_name)
        assert cls is not None
        return cls()

    return factory


# The learned priors (latentatlas.priors, torch; minutes to fit): kept apart from GENERATORS,
# whose every entry `compare` fits by default. Factories import torch only when called.
PRIORS: dict[str, Callable[[], BaseGenerator]] = {
    "flow": _prior("Flow"),
    "diffusion": _prior("LatentDiffusion"),
    "vae2": _prior("TwoStageVAE"),
}


# What `compare` fits when no --generators are given: every generator and the flow (seconds to
# fit); the diffusion model and the two-stage VAE take 1.5-3 minutes each on 2 CPU cores.
COMPARE_DEFAULT: tuple[str, ...] = (*GENERATORS, "flow")


def make_generator(name: str, **params) -> BaseGenerator:
    """A fresh generator by its CLI name (:data:`GENERATORS` or :data:`PRIORS`), with ``params``
    overriding the default configuration.

    Raises
    ------
    ValueError
        Unknown name (the message lists the valid ones) or unknown parameter.
    """
    factory = GENERATORS.get(name) or PRIORS.get(name)
    if factory is None:
        names = ", ".join([*GENERATORS, *PRIORS])
        raise ValueError(f"unknown generator {name!r}; choose from {names}")
    return factory().set_params(**params)


def with_progress(gen: BaseGenerator, progress: bool) -> BaseGenerator:
    """``gen`` with its own progress bar (a learned prior's training loop) on or off; generators
    without one are returned as they are."""
    if "progress" in gen.get_params():
        gen.set_params(progress=progress)
    return gen


__all__ = [
    "COMPARE_DEFAULT",
    "GENERATORS",
    "GENERATOR_CLASSES",
    "BaseGenerator",
    "GaussianMixture",
    "IsotropicNormal",
    "KernelDensity",
    "LADDER_TEMPERATURES",
    "MultivariateNormal",
    "NotFittedError",
    "PCAEllipsoid",
    "PRIORS",
    "PRIOR_CLASSES",
    "PerComponentNormal",
    "ShiftedNormal",
    "UniformCube",
    "degradation_ladder",
    "generator_class",
    "lerp",
    "load_generator",
    "make_generator",
    "plane_circle",
    "plane_segment",
    "save_generator",
    "slerp",
    "with_progress",
]
