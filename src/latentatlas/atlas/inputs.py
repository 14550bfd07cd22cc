"""The first stage: the cube size b, the pairs, the artificial points and the input summary."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from latentatlas import __version__
from latentatlas.atlas.context import AtlasContext
from latentatlas.atlas.helpers import check_pairs
from latentatlas.core.rng import stream

if TYPE_CHECKING:
    from latentatlas.core.html import Page

PLOT_SUBSAMPLE_STREAM = 1  # stream purpose: which real points the plots show
# At most this many artificial coordinates (256 MB as float64): 20,000 points up to N = 1,677,
# 8,192 at N = 4,096, 2,048 at N = 16,384, 1,000 at N = 65,536 (the settings record both).
ARTIFICIAL_VALUES = 2**25
# At most this many Monte Carlo coordinates per cube radius sample: the default 20,000 draws up
# to N = 13,421, 4,096 at N = 65,536 (a cube's radius varies by 1/sqrt(5N) there: plenty).
MC_VALUES = 2**28


def artificial_points(sample: int, dim: int) -> int:
    """How many of the ``sample`` artificial points asked for are drawn at dimension ``dim``."""
    return min(int(sample), max(1000, ARTIFICIAL_VALUES // dim))


def prepare(ctx: AtlasContext, page: Page) -> None:
    """What every later section uses; writes ``input`` and ``settings`` of the summary."""
    from latentatlas.analysis import MahalanobisModel, auto_pairs, radius_comparison
    from latentatlas.analysis.blockstats import store_statistics
    from latentatlas.analysis.distribution import stats_from_moments
    from latentatlas.generators import UniformCube

    # One pass for the moments and one for the covariance (N <= 4,096) and the radii, over row
    # blocks (or on a Dask cluster): every later section reuses them.
    ctx.store_stats = store_statistics(ctx.driver)
    ctx.stats = stats_from_moments(ctx.store_stats)
    mc_requested = ctx.mc
    ctx.mc = min(ctx.mc, max(1000, MC_VALUES // ctx.dim))
    # b is always fitted (the page reports it); a given b is compared with its multiples.
    given = None if ctx.b_arg == "auto" else float(ctx.b_arg)
    ctx.radii = radius_comparison(
        ctx.z,
        bs=None if given is None else [m * given for m in (0.5, 1.0, 1.5, 2.0)],
        b_fit="auto",
        random_state=ctx.seed,
        n_mc=ctx.mc,
        real_radii=ctx.store_stats.radii,
    )
    ctx.b_fitted = float(ctx.radii.b_fitted)
    ctx.b = ctx.b_fitted if given is None else given
    # One Gaussian fit shared by normality, correlations, shape and voids; its form (dense,
    # Gram, randomized; sample or Ledoit–Wolf) depends on n and N and is said on the page.
    ctx.model = MahalanobisModel().fit(
        ctx.z, statistics=ctx.store_stats, driver=ctx.driver, random_state=ctx.seed
    )
    max_pairs = ctx.dim * (ctx.dim - 1) // 2
    ctx.auto_pairs = check_pairs(auto_pairs(ctx.z, k=min(3, max_pairs), stats=ctx.stats), ctx.dim)
    ctx.pairs = check_pairs(ctx.user_pairs + ctx.auto_pairs, ctx.dim)
    # With a numeric b, fit only learns N: one row spares a validation pass over all n points.
    gen = UniformCube(b=ctx.b).fit(ctx.z[:1])
    requested = ctx.sample
    ctx.sample = artificial_points(ctx.sample, ctx.dim)
    ctx.fake = gen.sample(ctx.sample, random_state=ctx.seed)
    ctx.plot_idx = np.sort(
        stream(ctx.seed, PLOT_SUBSAMPLE_STREAM).choice(
            ctx.n, size=min(ctx.n, ctx.plot_points), replace=False
        )
    )
    ctx.summary["latentatlas_version"] = __version__
    ctx.summary["input"] = _input_summary(ctx)
    ctx.summary["settings"] = {
        "b": "auto" if ctx.b_arg == "auto" else float(ctx.b_arg),
        "b_used": ctx.b,
        "b_fitted": ctx.b_fitted,
        "seed": ctx.seed,
        "sample": ctx.sample,
        "sample_requested": requested,
        "prdc_sample": ctx.prdc_sample,
        "plot_points": min(ctx.n, ctx.plot_points),
        "plot_artificial_points": ctx.fake_plot_points,
        "mc": ctx.mc,
        "mc_requested": mc_requested,
        "normality_sample": ctx.normality_sample,
        "pairs_user": [list(p) for p in ctx.user_pairs],
        "pairs_auto": [list(p) for p in ctx.auto_pairs],
        "pairs": [list(p) for p in ctx.pairs],
        "covariance": ctx.model.describe(),
        "statistics_driver": ctx.driver.name,
    }


def _input_summary(ctx: AtlasContext) -> dict:
    split = None
    meta = ctx.store.meta if ctx.store is not None else {}
    # Only a store directory (store.json has "format") has a real split; a bare .npy is all
    # "train" by convention, which would read as a fact on the page.
    if "format" in meta:
        codes = np.bincount(np.asarray(ctx.store.split), minlength=3)
        split = {"train": int(codes[0]), "val": int(codes[1]), "test": int(codes[2])}
    out = {"source": ctx.source, "n": ctx.n, "N": ctx.dim, "split": split}
    # Provenance of an encoded store (absent for a bare .npy): which model, which images.
    keys = ("checkpoint", "model_sha256", "source", "image_size")
    encoded = {k: meta[k] for k in keys if "format" in meta and k in meta}
    if encoded:
        out["encoded"] = encoded
    return out
