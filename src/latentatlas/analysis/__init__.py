"""Analyses of a z-point distribution (numpy/scipy/scikit-learn only, no torch).

Every function takes an ``(n, N)`` array-like and returns plain numbers or a frozen dataclass
with a JSON-ready ``to_dict()``; random steps take ``random_state``. The input checks, random
streams and JSON conversion they share live in :mod:`latentatlas.core` (``validation``,
``rng``, ``jsonable``). Float32 and memory-mapped inputs are read in row blocks, never copied
whole; the store-wide statistics (``blockstats``) run locally or on a Dask cluster.
"""

from latentatlas.analysis.blockstats import (
    DaskDriver,
    LocalDriver,
    StoreStatistics,
    channel_statistics,
    store_statistics,
)
from latentatlas.analysis.correlation import CorrelationResult, correlations
from latentatlas.analysis.distribution import (
    ComponentStats,
    NormalityResult,
    component_stats,
    extreme_components,
    henze_zirkler,
    normality,
    trim_outliers,
)
from latentatlas.analysis.fragmentation import (
    FragmentationResult,
    agreement,
    attribute_separation,
    betweenness,
    cluster_midpoints,
    density_clusters,
    fragmentation,
    fragmentation_verdict,
    knn_components,
    label_columns,
    mixture_search,
)
from latentatlas.analysis.gaussian import MahalanobisModel
from latentatlas.analysis.projections import auto_pairs, confidence_ellipse
from latentatlas.analysis.radii import (
    RadiiResult,
    fit_cube_b,
    radii,
    radius_comparison,
    union_coverage,
)
from latentatlas.analysis.shape import ShapeResult, shape
from latentatlas.analysis.slices import SliceScan, slice_counts, slice_mask, slice_scan
from latentatlas.analysis.spatial import (
    SpatialStats,
    radial_autocorrelation,
    spatial_shape,
    spatial_stats,
)
from latentatlas.analysis.theory import (
    TheoryTable,
    cube_radii,
    cube_radius_monte_carlo,
    cube_radius_theory,
    theory_table,
)
from latentatlas.analysis.voids import void_shares

__all__ = [
    "ComponentStats",
    "CorrelationResult",
    "DaskDriver",
    "LocalDriver",
    "FragmentationResult",
    "MahalanobisModel",
    "NormalityResult",
    "RadiiResult",
    "ShapeResult",
    "SliceScan",
    "SpatialStats",
    "StoreStatistics",
    "TheoryTable",
    "agreement",
    "attribute_separation",
    "auto_pairs",
    "betweenness",
    "channel_statistics",
    "cluster_midpoints",
    "component_stats",
    "confidence_ellipse",
    "correlations",
    "cube_radii",
    "cube_radius_monte_carlo",
    "cube_radius_theory",
    "density_clusters",
    "extreme_components",
    "fit_cube_b",
    "fragmentation",
    "fragmentation_verdict",
    "henze_zirkler",
    "knn_components",
    "label_columns",
    "mixture_search",
    "normality",
    "radial_autocorrelation",
    "radii",
    "radius_comparison",
    "shape",
    "slice_counts",
    "slice_mask",
    "slice_scan",
    "spatial_shape",
    "spatial_stats",
    "store_statistics",
    "theory_table",
    "trim_outliers",
    "union_coverage",
    "void_shares",
]
