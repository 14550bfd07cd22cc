"""``run_atlas``: check the input, run the sections in order with progress, write the report."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from latentatlas.analysis.blockstats import LocalDriver
from latentatlas.atlas.cluster import start_cluster
from latentatlas.atlas.conclusions import section_conclusions
from latentatlas.atlas.context import AtlasContext
from latentatlas.atlas.helpers import (
    ORIGIN_PLACE,
    blas_limit,
    check_pairs,
    closer_than_origin,
)
from latentatlas.atlas.inputs import artificial_points, prepare
from latentatlas.atlas.sections import SECTIONS, VERDICT_SECTION, Section
from latentatlas.atlas.sections.fragmentation import load_decoder
from latentatlas.atlas.sections.verdict import load_verdict, verdict_link
from latentatlas.core import atomic
from latentatlas.core.validation import check_memory
from latentatlas.data.store import ZStore

if TYPE_CHECKING:
    from latentatlas.core.html import Page

# The first stage prepares what the sections share; then the sections, in the order of the study.
STAGES: tuple[tuple[str, Section], ...] = (("fit b, pairs, artificial points", prepare), *SECTIONS)


def run_atlas(
    Z: np.ndarray | ZStore,
    out_dir: str | os.PathLike,
    *,
    pairs: Sequence[Sequence[int]] | None = None,
    b: str | float = "auto",
    sample: int = 20000,
    seed: int = 0,
    progress: bool = True,
    overwrite: bool = False,
    prdc_sample: int = 5000,
    plot_points: int = 10000,
    mc: int = 20000,
    normality_sample: int = 2000,
    source: str | None = None,
    threads: int | None = None,
    verdict: str | os.PathLike | Callable[[], str | os.PathLike] | None = None,
    model: str | os.PathLike | None = None,
    fragment_sample: int = 5000,
    fragment_pairs: int = 500,
    decode_pairs: int = 200,
    links: Sequence[tuple[str, str]] = (),
    dask: str | None = None,
) -> dict[str, Any]:
    """Analyse z-points and write the atlas report to ``out_dir``.

    ``Z`` and ``out_dir`` are positional; every setting is a keyword.

    Parameters
    ----------
    Z : (n, N) array-like or ZStore
        The z-points. A store's held-out split (val + test) is the real sample of the voids section.
    out_dir : directory to write (``index.html``, ``*.png``, ``summary.json``); written atomically,
        an existing one is replaced only with ``overwrite`` (else ``FileExistsError``).
    pairs : component pairs to project and slice, in addition to automatically chosen ones.
    b : ``"auto"`` (fit the cube size to the real radii) or the cube half-width.
    sample : number of artificial (uniform-cube) points.
    seed : seed of every random step: same seed, same numbers.
    progress : show a progress bar (stderr), one step a section.
    overwrite : replace an existing ``out_dir``.
    prdc_sample : real and artificial points for the k-NN manifold metrics (O(n·m) each).
    plot_points : at most this many real points per scatter plot (artificial: a quarter).
    mc : Monte Carlo draws per N for the theory table.
    normality_sample : subsample for Shapiro–Wilk and Henze–Zirkler.
    source : how the page names the z-points (e.g. the store path); default from the store.
    threads : BLAS threads during the run; default 1 (never more than the BLAS library's own
        setting). See :func:`latentatlas.atlas.helpers.blas_limit`.
    verdict : directory written by ``latentatlas compare`` (its ``verdict.json``): adds section
        11 with the generators' verdict, linked by a relative path, and ``summary["verdict"]``;
        or a function returning that directory, called when section 11 comes (after 1-10).
    model : checkpoint file, run directory or bundled name (``celeba64``) of the autoencoder:
        section 10 then decodes ``decode_pairs`` of its segments and reports the face-detector
        rate along them (loads torch; without it the atlas never imports torch).
    fragment_sample : points for the mixtures, HDBSCAN and the k-NN graph of section 10, and
        the most reference points of its betweenness test.
    fragment_pairs : pairs of held-out real points whose segments section 10 probes.
    links : (text, href) pairs shown under the conclusions, e.g. the demo's paths page; hrefs
        relative to ``out_dir``.
    dask : ``"local"`` (start a ``distributed.LocalCluster``) or a scheduler address
        (``tcp://host:8786``): the store's statistics (moments, covariance, radii, Mahalanobis
        distances, slice counts) then run on that cluster over row chunks; the rest of the
        analysis stays here (see :mod:`latentatlas.atlas.cluster`).

    Returns
    -------
    dict : the summary also written to ``summary.json``.

    Raises ValueError (one line) for unusable input: bad array, pairs, b, sample sizes or verdict.
    """
    from threadpoolctl import threadpool_limits
    from tqdm.auto import tqdm

    from latentatlas.core.html import Page
    from latentatlas.core.jsonable import jsonable

    out_dir = Path(out_dir)
    # Checked before the minutes of analysis, not after (atomic_dir would refuse at the end).
    if out_dir.exists() and not overwrite:
        raise FileExistsError(f"{out_dir} exists (use overwrite to replace it)")
    ctx = _context(
        Z,
        pairs,
        b,
        source,
        sample=sample,
        seed=seed,
        prdc_sample=prdc_sample,
        plot_points=plot_points,
        mc=mc,
        normality_sample=normality_sample,
        fragment_sample=fragment_sample,
        fragment_pairs=fragment_pairs,
        decode_pairs=decode_pairs,
    )
    if model is not None:
        # Loaded before the analyses, so a bad checkpoint fails at once.
        ctx.autoencoder = load_decoder(model, ctx.dim)
        ctx.autoencoder_source = str(getattr(model, "source", model))
    ctx.links = list(links)
    stages = list(STAGES)

    def read_verdict(where: str | os.PathLike) -> None:
        ctx.verdict, verdict_dir = load_verdict(where)
        ctx.verdict_link = verdict_link(verdict_dir, out_dir)

    if callable(verdict):  # still being written (the demo runs compare beside the atlas)
        name, section = VERDICT_SECTION

        def read_then_show(context: AtlasContext, into: Page) -> None:
            read_verdict(verdict())
            section(context, into)

        stages.append((name, read_then_show))
    elif verdict is not None:
        read_verdict(verdict)  # before the analyses: a bad verdict fails at once
        stages.append(VERDICT_SECTION)
    # Started once every input is known good: the try below always closes it.
    cluster = start_cluster(dask) if dask is not None else None
    ctx.driver = cluster.driver(ctx.z) if cluster is not None else LocalDriver(ctx.z)

    page = Page(f"latentatlas: where {ctx.n:,} z-points of dimension N = {ctx.dim} live")
    bar = tqdm(stages, desc="atlas", file=sys.stderr, disable=not progress, unit="section")
    try:
        with threadpool_limits(limits=blas_limit(threads), user_api="blas"):
            for name, stage in bar:
                bar.set_postfix_str(name)
                stage(ctx, page)
            section_conclusions(ctx, page)
    finally:
        if cluster is not None:
            ctx.summary.setdefault("settings", {})["dask"] = cluster.description
            cluster.close()
    bar.close()

    _header(ctx, page)
    ctx.summary["figures"] = sorted(page.pngs)
    summary = jsonable(ctx.summary)
    with atomic.atomic_dir(out_dir, overwrite=overwrite) as tmp:
        page.write(tmp)
        atomic.write_json(tmp / "summary.json", summary)
    return summary


def _context(
    Z: np.ndarray | ZStore,
    pairs: Sequence[Sequence[int]] | None,
    b: str | float,
    source: str | None,
    **sizes: int,
) -> AtlasContext:
    """Validate the input and settings (one-line ValueErrors) before any analysis runs."""
    from latentatlas.analysis.blockstats import as_rows

    store = Z if isinstance(Z, ZStore) else None
    if source is None:
        # A bare .npy records its own path as "source"; a store directory's "source" is the
        # image folder it was encoded from, so it does not name the z-points themselves.
        meta = store.meta if store is not None else {}
        source = str(meta["source"]) if "format" not in meta and "source" in meta else "array"
    z = as_rows(store.z if store is not None else Z, min_rows=20)
    dim = z.shape[1]
    if dim < 2:
        raise ValueError(f"need at least 2 latent components, got N = {dim}")
    if b != "auto":
        try:
            b = float(b)
        except (TypeError, ValueError):
            raise ValueError(f"b must be 'auto' or a positive number, got {b!r}") from None
        if not np.isfinite(b) or b <= 0:
            raise ValueError(f"b must be 'auto' or a positive number, got {b}")
    lows = dict(sample=20, prdc_sample=20, plot_points=1, mc=100, normality_sample=20)
    lows.update(fragment_sample=30, fragment_pairs=20, decode_pairs=1)
    for name, low in lows.items():
        if int(sizes[name]) < low:
            raise ValueError(f"{name} must be at least {low}, got {sizes[name]}")
    # The artificial sets (uniform, Gaussian, ...) are float64 (sample, N) arrays, a few at
    # once; the store itself stays memory-mapped, read in bounded blocks.
    check_memory(
        4 * 8 * artificial_points(int(sizes["sample"]), dim) * dim,
        f"--sample {sizes['sample']} at N = {dim}",
        "lower --sample",
    )
    return AtlasContext(
        z=z,
        store=store,
        source=source,
        b_arg=b,
        user_pairs=check_pairs(pairs or [], dim),
        **{name: int(value) for name, value in sizes.items()},
    )


def _header(ctx: AtlasContext, page: Page) -> None:
    """Input, settings and the key numbers of the whole study, at the top of the page."""
    s = ctx.summary
    split = s["input"]["split"]
    page.add_header_table(
        [
            ("z-points", s["input"]["source"]),
            ("points n", ctx.n),
            ("latent dimension N", ctx.dim),
        ]
        + [(f"encoded: {k}", v) for k, v in s["input"].get("encoded", {}).items()]
        + (
            [("split train / val / test", (split["train"], split["val"], split["test"]))]
            if split
            else []
        )
        + [
            ("seed", ctx.seed),
            ("artificial points (uniform cube)", ctx.sample),
            (
                "k-NN metric sample (held-out real = artificial)",
                s["voids"]["prdc_cube"].get("n_real"),
            ),
            ("Monte Carlo draws per N", ctx.mc),
            ("normality subsample", ctx.normality_sample),
        ],
        "Input and settings",
    )
    cube = s["voids"]["prdc_cube"]
    rows: list[tuple[str, Any]] = [
        ("fitted cube size b", ctx.b_fitted),
    ]
    if ctx.b_arg != "auto":
        rows.append(("b used (given)", ctx.b))
    rows += [
        ("Mahalanobis distance of the origin", s["shape"]["origin_mahalanobis"]),
        (ORIGIN_PLACE, closer_than_origin(s["shape"]["share_further_than_origin"])),
        ("share of real points inside [-b, b]^N", s["shape"]["share_in_cube"]),
    ]
    rows += [
        (f"real points in the slice {tuple(p['pair'])}", p["count"])
        for p in s["slices"]["pairs"][:2]
    ]
    rows += [
        ("uniform-cube precision", cube.get("precision")),
        ("uniform-cube coverage", cube.get("coverage")),
    ]
    frag = s["fragmentation"].get("verdict")
    if frag is not None:
        rows.append(("fragmentation (section 10)", frag["label"]))
    page.add_header_table(rows, "Key numbers")
