"""The generators by short name (``cube``, ``mvn``, ``flow`` ...): the one registry that the CLI,
``compare``, the demo and the explorer read.

Each name is a default configuration of a class of :mod:`latentatlas.generators.io`. Importing
this module imports no generator (no scikit-learn, no torch), so the CLI's ``--help`` stays
instant: a class is imported when its factory is first called.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from latentatlas.generators.base import BaseGenerator

__all__ = [
    "COMPARE_DEFAULT",
    "GENERATORS",
    "GENERATOR_NAMES",
    "LITERATURE",
    "LITERATURE_NAMES",
    "PRIORS",
    "PRIOR_NAMES",
    "SPATIAL",
    "SPATIAL_NAMES",
    "make_generator",
    "with_progress",
]

Factory = Callable[[], "BaseGenerator"]


def _factory(class_name: str, **params: Any) -> Factory:
    def factory() -> BaseGenerator:
        from latentatlas.generators.io import generator_class

        cls = generator_class(class_name)
        assert cls is not None, class_name
        return cls(**params)

    factory.__qualname__ = f"{class_name}({', '.join(f'{k}={v!r}' for k, v in params.items())})"
    return factory


# Short name -> default configuration, from the naive generators to the fitted ones.
GENERATORS: dict[str, Factory] = {
    "cube": _factory("UniformCube", b="auto"),
    "normal": _factory("IsotropicNormal"),
    "normal-fit": _factory("IsotropicNormal", scale="fit"),
    "percomponent": _factory("PerComponentNormal"),
    "mvn": _factory("MultivariateNormal"),
    "pca": _factory("PCAEllipsoid"),
    "gmm": _factory("GaussianMixture"),
    "kde": _factory("KernelDensity"),
}

# Generators of spatial latents (C x H x W): they need the store's latent_shape, so they are kept
# apart from GENERATORS; `compare` adds them by default for a store that records one.
SPATIAL: dict[str, Factory] = {
    "spatial": _factory("StationaryGaussian"),
}

# The learned priors (latentatlas.generators.learned, torch; minutes to fit): kept apart from
# GENERATORS, whose every entry `compare` fits by default.
PRIORS: dict[str, Factory] = {
    "flow": _factory("Flow"),
    "diffusion": _factory("LatentDiffusion"),
    "vae2": _factory("TwoStageVAE"),
}

# The literature's samplers with their published settings, so that our numbers can be set beside
# the published ones (README, "Beside the published numbers"); asked for by name, never fitted by
# default: each is one of the classes above with other hyper-parameters.
LITERATURE: dict[str, Factory] = {
    # RAE's ex-post density estimate (Ghosh et al. 2020), as in their code (github.com/
    # ParthaEth/Regularized_autoencoders-RAE-, my_utility/estimate_density_and_sample.py,
    # "GMM_10": mixture.GaussianMixture(n_components=10, covariance_type='full', max_iter=2000,
    # verbose=2, tol=1e-3)); it differs from gmm only in max_iter, and on the bundled celeba64
    # store EM converges in 18 iterations, so there it draws exactly gmm's samples. Seeded (their
    # code is not) so that the same seed gives the same numbers.
    "rae-gmm": _factory(
        "GaussianMixture", n_components=10, covariance_type="full", max_iter=2000, tol=1e-3
    ),
}

GENERATOR_NAMES: tuple[str, ...] = tuple(GENERATORS)
SPATIAL_NAMES: tuple[str, ...] = tuple(SPATIAL)
PRIOR_NAMES: tuple[str, ...] = tuple(PRIORS)
LITERATURE_NAMES: tuple[str, ...] = tuple(LITERATURE)

# What `compare` fits when no --generators are given: every generator and the flow (seconds to
# fit); the diffusion model and the two-stage VAE take 1.5-3 minutes each on 2 CPU cores.
COMPARE_DEFAULT: tuple[str, ...] = (*GENERATOR_NAMES, "flow")


def make_generator(
    name: str, *, latent_shape: Sequence[int] | None = None, **params: Any
) -> BaseGenerator:
    """A fresh generator by its short name (:data:`GENERATORS`, :data:`SPATIAL`, :data:`PRIORS`
    or :data:`LITERATURE`), with ``params`` overriding the default configuration.

    ``latent_shape`` is the store's (C, H, W) (``analysis.spatial.spatial_shape`` of its
    sidecar), or None: a :data:`SPATIAL` generator gets it, the others ignore it.

    Raises
    ------
    ValueError
        Unknown name (the message lists the valid ones), unknown parameter, or a spatial
        generator asked for without a latent shape.
    """
    factory = (
        GENERATORS.get(name) or SPATIAL.get(name) or PRIORS.get(name) or LITERATURE.get(name)
    )
    if factory is None:
        names = ", ".join([*GENERATORS, *SPATIAL, *PRIORS, *LITERATURE])
        raise ValueError(f"unknown generator {name!r}; choose from {names}")
    gen = factory()
    if name in SPATIAL:
        if latent_shape is None:
            raise ValueError(
                f"generator {name!r} needs a spatial latent (its store.json records no "
                "latent_shape C x H x W)"
            )
        gen.set_params(latent_shape=[int(s) for s in latent_shape])
    return gen.set_params(**params)


def with_progress(gen: BaseGenerator, progress: bool) -> BaseGenerator:
    """``gen`` with its own progress bar (a learned prior's training loop) on or off; generators
    without one are returned as they are."""
    if "progress" in gen.get_params():
        gen.set_params(progress=progress)
    return gen
