"""Generator configurations shared by the contract and density tests."""

from __future__ import annotations

from latentatlas.generators import (
    GENERATORS,
    LITERATURE,
    GaussianMixture,
    IsotropicNormal,
    KernelDensity,
    MultivariateNormal,
    PCAEllipsoid,
    ShiftedNormal,
    StationaryGaussian,
    UniformCube,
)

CONFIGS = {
    **{name: factory for name, factory in GENERATORS.items()},
    **LITERATURE,
    "cube-union": lambda: UniformCube(b=[0.5, 2.0]),
    "normal-2": lambda: IsotropicNormal(scale=2.0),
    "mvn-shrunk": lambda: MultivariateNormal(shrinkage=0.3),
    "mvn-lw": lambda: MultivariateNormal(shrinkage="ledoit-wolf"),
    "mvn-shifted": lambda: ShiftedNormal(shift=1.5, axis=1),
    "kde-fixed": lambda: KernelDensity(bandwidth=0.3),
    "pca-uniform": lambda: PCAEllipsoid(distribution="uniform"),
    "pca-plane": lambda: PCAEllipsoid(bound="plane", r=1.5),
    "pca-plane-uniform": lambda: PCAEllipsoid(bound="plane", distribution="uniform"),
    "pca-ball": lambda: PCAEllipsoid(bound="ball"),
    "pca-ball-uniform": lambda: PCAEllipsoid(bound="ball", distribution="uniform"),
    "pca-k2-radius": lambda: PCAEllipsoid(bound="ball", limit=1.5, n_components=2),
    "pca-nolimit": lambda: PCAEllipsoid(bound="ball", limit=None),
    # One channel over 1 x 5 positions: a stationary covariance over rfft2's mirrored columns
    # (the cross-channel one is checked in test_generators_stationary).
    "spatial-row": lambda: StationaryGaussian(latent_shape=[1, 1, 5]),
    **{
        f"gmm-{ct}": (lambda ct=ct: GaussianMixture(n_components=3, covariance_type=ct))
        for ct in ("full", "tied", "diag", "spherical")
    },
}
