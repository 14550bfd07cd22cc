"""Generators of artificial z-points (scikit-learn style: ``fit(Z)``, then ``sample(n)``).

Modules:

    base        BaseGenerator: the estimator contract every generator follows
    uniform     UniformCube, the naive generator
    normal      IsotropicNormal, PerComponentNormal, MultivariateNormal, ShiftedNormal
    pca         PCAEllipsoid: sampling in the PCA frame within ellipse limits
    mixture     GaussianMixture
    kde         KernelDensity
    stationary  StationaryGaussian: a spatial (C x H x W) latent's Gaussian field, by FFT
    learned/    the learned priors (torch): a normalizing flow, latent diffusion, a two-stage VAE
    registry    the short names (cube, mvn, flow ...) the CLI, compare and the explorer use
    io          save/load as JSON + arrays (no pickle); class names -> classes
    paths       straight, spherical and planar paths through the latent space
    sampling    ``latentatlas sample`` / ``path``: fit, sample, decode, write (torch, lazily)
    path_page   the paths page of decoded strips

numpy and scikit-learn only: nothing here imports torch at import time (``learned/`` does).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from latentatlas.core.lazy import lazy_exports
from latentatlas.generators import registry  # imports no generator: light

# Public name -> the module that defines it. Imported on first use (PEP 562), so that the CLI can
# read the registry's names without importing scikit-learn: `--help` stays instant.
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(("BaseGenerator", "NotFittedError"), "base"),
    **dict.fromkeys(
        (
            "GENERATOR_CLASSES",
            "PRIOR_CLASSES",
            "generator_class",
            "load_generator",
            "save_generator",
        ),
        "io",
    ),
    "KernelDensity": "kde",
    "GaussianMixture": "mixture",
    **dict.fromkeys(
        ("IsotropicNormal", "MultivariateNormal", "PerComponentNormal", "ShiftedNormal"), "normal"
    ),
    **dict.fromkeys(("lerp", "plane_circle", "plane_segment", "slerp"), "paths"),
    "PCAEllipsoid": "pca",
    "StationaryGaussian": "stationary",
    **dict.fromkeys(registry.__all__, "registry"),
    "UniformCube": "uniform",
}

__all__ = [
    "COMPARE_DEFAULT",
    "GENERATORS",
    "GENERATOR_CLASSES",
    "GENERATOR_NAMES",
    "LITERATURE",
    "LITERATURE_NAMES",
    "BaseGenerator",
    "GaussianMixture",
    "IsotropicNormal",
    "KernelDensity",
    "MultivariateNormal",
    "NotFittedError",
    "PCAEllipsoid",
    "PRIORS",
    "PRIOR_CLASSES",
    "PRIOR_NAMES",
    "PerComponentNormal",
    "SPATIAL",
    "SPATIAL_NAMES",
    "ShiftedNormal",
    "StationaryGaussian",
    "UniformCube",
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


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from latentatlas.generators.base import BaseGenerator, NotFittedError
    from latentatlas.generators.io import (
        GENERATOR_CLASSES,
        PRIOR_CLASSES,
        generator_class,
        load_generator,
        save_generator,
    )
    from latentatlas.generators.kde import KernelDensity
    from latentatlas.generators.mixture import GaussianMixture
    from latentatlas.generators.normal import (
        IsotropicNormal,
        MultivariateNormal,
        PerComponentNormal,
        ShiftedNormal,
    )
    from latentatlas.generators.paths import lerp, plane_circle, plane_segment, slerp
    from latentatlas.generators.pca import PCAEllipsoid
    from latentatlas.generators.registry import (
        COMPARE_DEFAULT,
        GENERATOR_NAMES,
        GENERATORS,
        LITERATURE,
        LITERATURE_NAMES,
        PRIOR_NAMES,
        PRIORS,
        SPATIAL,
        SPATIAL_NAMES,
        make_generator,
        with_progress,
    )
    from latentatlas.generators.stationary import StationaryGaussian
    from latentatlas.generators.uniform import UniformCube
