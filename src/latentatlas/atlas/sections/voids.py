"""Section 9: voids, where the artificial points land relative to the real ones."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from latentatlas.atlas.context import AtlasContext
from latentatlas.atlas.helpers import plain
from latentatlas.core.rng import stream
from latentatlas.data.store import TRAIN

if TYPE_CHECKING:
    from latentatlas.core.html import Page

REAL_SAMPLES_STREAM = 2  # stream purpose: the held-out-like and reference real samples
# The k-NN metrics cost about m^2 N per distance matrix (three of them): above N = 1,374 the
# sample shrinks so that m^2 N stays at KNN_WORK (m = 2,896 at N = 4,096; the default 5,000
# below). Above N = 4,096 metrics.manifold's float32 screening no longer separates neighbours and
# it computes every pair exactly in float64 (numpy, not BLAS): 16x less work there (m = 362 at
# N = 16,384, 181 at N = 65,536).
KNN_WORK = 2**35
KNN_WORK_HIGH_N = 2**31


def knn_sample(want: int, dim: int) -> int:
    """Points per side of the k-NN metrics: ``want``, fewer where m^2 N would pass the budget."""
    work = KNN_WORK if dim <= 4096 else KNN_WORK_HIGH_N
    return max(20, min(int(want), int(np.sqrt(work / dim))))


def section_voids(ctx: AtlasContext, page: Page) -> None:
    from latentatlas.analysis import void_shares
    from latentatlas.atlas import figures
    from latentatlas.metrics import prdc

    heldout, reference, how = _real_samples(ctx)
    m = len(heldout)
    cube = prdc(heldout, ctx.fake[:m], k=5)
    base = prdc(heldout, reference, k=5)
    vs = void_shares(ctx.z, ctx.fake, model=ctx.model)
    rows = {
        "uniform cube": {
            **plain(cube),
            "mahalanobis_tail": vs["mahalanobis_tail"],
            "out_of_range": vs["out_of_range"],
        },
        # The reference a good generator would reach: other real points in place of the cube's.
        "real reference points": {
            **plain(base),
            "mahalanobis_tail": vs["mahalanobis_tail_real"],
            "out_of_range": vs["out_of_range_real"],
        },
    }
    ctx.summary["voids"] = {
        "real_sample": how,
        "prdc_cube": plain(cube),
        "prdc_real_reference": plain(base),
        "void_shares": vs,
        "comparisons": rows,
    }
    sec = page.section(
        "voids",
        "9. Voids: where artificial points land",
        "k-NN manifold metrics of Naeem et al. 2020 against a held-out real sample: precision "
        "(share of artificial points inside some real point's k-NN ball), recall, density, "
        "coverage; and, against all real points, the share of artificial points beyond the real "
        "99th-percentile Mahalanobis distance and the share with a component outside the real "
        "[0.5 %, 99.5 %] range. The reference row uses real points in place of artificial ones: "
        "what a perfect generator would score.",
    )
    keys = ["precision", "recall", "density", "coverage", "mahalanobis_tail", "out_of_range"]
    page.table(
        sec,
        [
            "points compared",
            "precision",
            "recall",
            "density",
            "coverage",
            "Mahalanobis tail",
            "out of range",
        ],
        [[label] + [vals.get(k) for k in keys] for label, vals in rows.items()],
        f"Voids (k-NN metrics: k = {cube.get('k')}, {cube.get('n_real')} held-out real vs "
        f"{cube.get('n_fake')} points; real sample: {how})",
    )
    page.key_values(
        sec,
        [
            ("Mahalanobis tail threshold (real 99th percentile)", vs["tail_threshold"]),
            ("real points for the void shares", vs["n_real"]),
            ("artificial points for the void shares", vs["n_fake"]),
        ],
        "Void shares",
    )
    page.figure(
        sec,
        "voids",
        figures.voids_figure(rows),
        "Manifold metrics and void shares of the uniform cube (red) and of real reference "
        "points (blue), both against the same held-out real points.",
        f"Uniform-cube precision {float(cube['precision']):.3g} (real reference "
        f"{float(base['precision']):.3g}); {vs['mahalanobis_tail']:.1%} of cube points lie "
        "beyond the real 99th-percentile Mahalanobis distance.",
    )


def _real_samples(ctx: AtlasContext) -> tuple[np.ndarray, np.ndarray, str]:
    """Two disjoint real samples of equal size: held-out-like, and a reference for the baseline.

    A store's val+test points are the held-out sample when there are enough of them; otherwise
    (a bare .npy) a seeded random split of all points stands in for it.
    """
    gen = stream(ctx.seed, REAL_SAMPLES_STREAM)
    want = knn_sample(ctx.prdc_sample, ctx.dim)
    if ctx.store is not None:
        split = np.asarray(ctx.store.split)
        held_idx = np.flatnonzero(split != TRAIN)
        train_idx = np.flatnonzero(split == TRAIN)
        m = min(want, len(held_idx), len(train_idx))
        if m >= 20:
            held = np.sort(gen.choice(held_idx, m, replace=False))
            ref = np.sort(gen.choice(train_idx, m, replace=False))
            return ctx.z[held], ctx.z[ref], f"store held-out split (val+test), {m} points"
    m = min(want, ctx.n // 2)
    perm = gen.permutation(ctx.n)
    held, ref = np.sort(perm[:m]), np.sort(perm[m : 2 * m])
    return ctx.z[held], ctx.z[ref], f"random {m} of all points (no usable held-out split)"
