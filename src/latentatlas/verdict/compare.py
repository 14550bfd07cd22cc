"""The verdict: every generator side by side, judged with numbers (``latentatlas compare``).

For each generator, fitted on the store's train split and sampled with the same n and seed, the
z-points are decoded and judged against the *held-out* real z-points (never the fitted ones):

- face rate       share of decoded images in which the offline face detector finds a face,
                  validated by its rate on decoded held-out reconstructions (the ceiling) and
                  on noise images (the floor); only where those reconstructions are faces, like
                  the face judges (:func:`latentatlas.verdict.scoring.face_domain`);
- two-sample acc. cross-validated accuracy of an MLP telling generated from held-out z-points
                  (0.5 = indistinguishable, 1.0 = fully separated);
- Mahalanobis tail share beyond the 99th percentile of the held-out points' distances;
- P / R / D / C   k-NN precision, recall, density, coverage (Naeem et al. 2020);
- drift           median ‖E(D(z)) − z‖ relative to the same for held-out real points;
- copy distance   median nearest-training-point distance relative to held-out points';
- spread          RMS distance of the samples to their mean relative to held-out points' (a
                  collapsed generator scores far below 1 and ranks last, see metrics.ranking);
- MMD p           permutation p-value of an RBF-kernel MMD test, samples vs held-out points
                  (small = told apart);
- log-lik         the generator's log-density of the held-out points, nats per dimension
                  (the density-estimation score; None where held-out points fall outside a
                  bounded support, whose share inside is reported instead);
- image judges    the decoded samples in the feature spaces of networks the autoencoder did not
                  make, against a ceiling and a floor (see :mod:`latentatlas.verdict.scoring`).

Every number carries a 95 % interval; :mod:`latentatlas.verdict.ranking` names the winner, and
``ladder=True`` checks each metric against known degradations first
(:mod:`latentatlas.verdict.ladder`). Where the decoded held-out images are not faces the ladder
always runs: no metric has been shown to respond on such data until it passes there.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from sklearn.base import clone
from tqdm import tqdm

from latentatlas.analysis.spatial import spatial_shape
from latentatlas.core import atomic
from latentatlas.core.bundled import NAMES
from latentatlas.core.errors import LatentAtlasError
from latentatlas.core.rng import stream
from latentatlas.data.conditions import Condition, select
from latentatlas.data.store import ZStore
from latentatlas.generators import (
    COMPARE_DEFAULT,
    GENERATORS,
    LITERATURE,
    PRIORS,
    SPATIAL,
    make_generator,
    save_generator,
    with_progress,
)
from latentatlas.models import (
    ModelSpec,
    TorchLatentModel,
    as_spec,
    input_paths,
    spec_kind,
)
from latentatlas.models.decode import decode_and_reencode
from latentatlas.models.pairing import load_model_and_store
from latentatlas.verdict.judges import available_judges, check_feature_weights
from latentatlas.verdict.judges.haar import face_rate
from latentatlas.verdict.ladder import check_all, degradation_ladder
from latentatlas.verdict.page import write_verdict_page
from latentatlas.verdict.ranking import rank_verdict
from latentatlas.verdict.scoring import FACE_N, JUDGE_N, judge, judging_context, likelihood_row

GRID_SIDE = 8
T = TypeVar("T")
R = TypeVar("R")

# Stream purposes (core.rng.stream): the held-out split of a store without one, and the noise
# images behind the face detector's floor.
HELDOUT_SPLIT_STREAM = 7
NOISE_IMAGES_STREAM = 11


def split_for_verdict(
    store: ZStore, seed: int, heldout_share: float = 0.1
) -> tuple[np.ndarray, np.ndarray]:
    """(train, held-out) z-points; a store without held-out points (a bare .npy) is split here."""
    train, held = store.subset("train"), store.subset("heldout")
    if len(held) == 0:
        order = stream(seed, HELDOUT_SPLIT_STREAM).permutation(store.n)
        cut = max(1, int(round(heldout_share * store.n)))
        z = np.asarray(store.z)
        train, held = z[order[cut:]], z[order[:cut]]
    if len(train) < 2 or len(held) < 10:
        raise LatentAtlasError(
            f"need held-out real z-points to judge against: {len(train)} train, "
            f"{len(held)} held out"
        )
    return np.asarray(train, dtype=np.float64), np.asarray(held, dtype=np.float64)


def store_generators(
    generators: Sequence[str] | Mapping[str, Any] | None, store: ZStore
) -> dict[str, Any]:
    """Fresh generators by name for ``store``: ``generators`` (names, or unfitted generators by
    name, cloned), or by default ``COMPARE_DEFAULT`` and, for a store whose ``store.json``
    records a latent shape C x H x W, the spatial generators (given that shape); a spatial
    generator asked for on a store without one is a one-line LatentAtlasError."""
    if isinstance(generators, Mapping):
        return {name: clone(gen) for name, gen in generators.items()}
    shape = spatial_shape(store.meta, store.latent_dim)
    names = list(generators or COMPARE_DEFAULT)
    if generators is None and shape is not None:
        names += list(SPATIAL)
    try:
        return {name: make_generator(name, latent_shape=shape) for name in names}
    except ValueError as e:
        raise LatentAtlasError(str(e)) from None


def run_compare(
    checkpoint: str | os.PathLike | ModelSpec | TorchLatentModel,
    store: str | os.PathLike | ZStore,
    out: str | os.PathLike,
    *,
    generators: Sequence[str] | Mapping[str, Any] | None = None,
    n: int = 1000,
    seed: int = 0,
    device: str = "auto",
    overwrite: bool = False,
    progress: bool = True,
    verify: bool = True,
    allow_mismatch: bool = False,
    where: Condition | str | None = None,
    judges: Sequence[str] | None = None,
    feature_weights: Mapping[str, str | os.PathLike] | None = None,
    judge_n: int = JUDGE_N,
    face_n: int = FACE_N,
    ladder: bool = False,
    domain: str = "auto",
    save_generators: bool = False,
    links: Sequence[tuple[str, str]] = (),
    draw_ahead: bool = False,
) -> dict[str, Any]:
    """Fit, sample, decode and judge every generator; writes ``out/index.html``,
    ``out/verdict.json`` and one grid PNG per generator; with ``save_generators`` also each
    fitted generator and its samples under ``out/generators/NAME/`` (a KDE keeps its train
    points: tens of MB). ``links`` ((text, relative href)) go on the page.

    The model (``checkpoint``: a spec, a path, a bundled name or a loaded model), the store
    and ``out`` are positional; every setting is a keyword. ``generators`` defaults to
    ``COMPARE_DEFAULT`` (all but the slowest learned priors), and for a store whose
    ``store.json`` records a latent shape C x H x W also the spatial generators (``SPATIAL``):
    names, or a mapping of names to unfitted generators (configurations the registry does not
    name); ``n`` samples each, drawn with ``seed``.

    ``where`` (``"Smiling=1"``) restricts the store first: the generators are fitted on the
    matching train z-points and judged against the matching held-out ones. ``judges`` names the
    image judges (default every one installed; ``()`` for none), which see the first
    ``judge_n`` (the face descriptor ``face_n``) images of each generator. ``feature_weights``
    (``{"inception": FILE, "dinov2": FOLDER, "clip": FOLDER}``) gives the weights of the
    literature's feature judges, checked against their published sha256 when ``verify``; without
    it they run where their library's cache holds them. ``domain`` ("auto": by the Haar face rate
    of the decoded held-out images; "faces"; "other") says whether the face judges and the face
    rate apply (:func:`~latentatlas.verdict.scoring.face_domain`; recorded as
    ``verdict["domain"]``).
    ``ladder`` also judges the degradation ladder (:mod:`latentatlas.verdict.ladder`); metrics
    that fail it are then left out of this verdict's ranking. Where the face judges do not apply
    the ladder runs whatever ``ladder`` says (``verdict["ladder"]["automatic"]``), and only
    metrics that pass it rank. ``draw_ahead`` fits the generators, in
    order, in two background threads from the start and judges two generators at a time in two
    more (the demo, beside the atlas on two cores: the mixture's EM overlaps the judging); the
    numbers are the same, each fit, draw and judgement being seeded on its own (it is ignored
    where a learned prior or the image CNN test would share torch's global RNG across threads)."""
    out = Path(out)
    store_path = None if isinstance(store, ZStore) else store
    weights = {name: str(path) for name, path in (feature_weights or {}).items()}
    atomic.check_new(
        out, overwrite, inputs=(*input_paths(checkpoint), store_path, *weights.values())
    )
    names = list(generators or COMPARE_DEFAULT)
    given = generators if isinstance(generators, Mapping) else {}
    known = [*GENERATORS, *SPATIAL, *PRIORS, *LITERATURE]
    unknown = [g for g in names if g not in known and g not in given]
    if unknown:
        raise LatentAtlasError(f"unknown generator {unknown[0]!r}; choose from {', '.join(known)}")
    left_out = [g for g in PRIORS if g not in names]
    if n < 20:
        raise LatentAtlasError(f"--n must be at least 20 for the two-sample test, got {n}")
    if min(judge_n, face_n) < 20:
        raise LatentAtlasError(
            f"--judge-n and --face-n must be at least 20, got {judge_n}/{face_n}"
        )
    check_feature_weights(judges, weights)  # a missing file: refused before any work
    model, _, st = load_model_and_store(
        checkpoint, store, device, verify=verify, allow_mismatch=allow_mismatch
    )
    st = select(st, where)
    gens = store_generators(generators, st)
    train, held = split_for_verdict(st, seed)
    # Learned priors and the image CNN test seed torch's global RNG while they train: two
    # threads would interleave its draws, so those runs stay sequential.
    shared_rng = "cnn" in (available_judges(weights) if judges is None else judges) or any(
        type(g).__module__.startswith("latentatlas.generators.learned") for g in gens.values()
    )
    draw_ahead = draw_ahead and not shared_rng
    rows: list[dict[str, Any]] = []
    seen: dict[bytes, str] = {}  # sample bytes -> the first generator that drew them

    with atomic.atomic_dir(out, overwrite=overwrite) as tmp, ExitStack() as threads:
        fitter = None
        if draw_ahead:
            # The fits start now, before the judging context, in two background threads: the
            # mixture's EM (the longest) and the fits after it need not wait for each other.
            fitter = ThreadPoolExecutor(2, thread_name_prefix="fit")
            # On an error, fits not yet started are dropped instead of waited for.
            threads.callback(fitter.shutdown, wait=True, cancel_futures=True)
        fits = {
            name: fit_later(with_progress(gen, progress), train, fitter)
            for name, gen in gens.items()
        }
        try:
            ctx = judging_context(
                model,
                train,
                held,
                judges=judges,
                judge_n=judge_n,
                face_n=face_n,
                seed=seed,
                feature_weights=weights,
                verify=verify,
                domain=domain,
            )
        except ValueError as e:
            raise LatentAtlasError(str(e)) from None
        for info in (ctx.get("image_reference") or {}).get("judges", {}).values():
            if "protocol" in info:  # a judge sees each generator's first n of its n samples
                info["protocol"]["n_generated"] = min(n, info["n"])
        rng = stream(seed, NOISE_IMAGES_STREAM)
        size = model.image_size
        # The judging context already holds the decoded held-out codes: not decoded twice.
        m = min(n, judge_n)  # the Haar face rate sees as many images as the judges
        held_images = ctx["ref_images"][:m]
        noise = rng.integers(0, 256, size=(len(held_images), size, size, 3), dtype=np.uint8)
        dom = ctx["domain"]
        detector_check = {
            "reconstructions": dom["reference_face_rate"]
            if dom["n"] == len(held_images)
            else face_rate(held_images, ctx["detector"]),
            "noise": face_rate(noise, ctx["detector"]),
            "n": len(held_images),
        }
        # Off faces no metric has been shown to respond to the ladder on this data: it runs here.
        automatic_ladder = not dom["faces"] and not ladder
        grids = {"reconstructions": held_images[: GRID_SIDE**2]}  # real held-out points, decoded

        def one(name: str) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
            return judge_fitted(name, gens[name], model, ctx, n, seed, fits[name]())

        steps = tqdm(
            zip(gens, in_order(one, list(gens), workers=2 if draw_ahead else 0), strict=True),
            total=len(gens),
            desc="compare",
            unit="generator",
            disable=not progress,
        )
        for name, (row, z, images) in steps:
            gen = gens[name]
            # Two generators that draw the same points are one result twice: marked, tied in
            # the ranking, and shown once on the page.
            row["duplicate_of"] = seen.setdefault(z.astype(np.float32).tobytes(), name)
            if row["duplicate_of"] == name:
                row["duplicate_of"] = None
            rows.append(row)
            grids[name] = images[: GRID_SIDE**2]
            if save_generators:
                save_generator(gen, tmp / "generators" / name)
                np.save(tmp / "generators" / name / "samples.npy", z.astype(np.float32))
        verdict = {
            "checkpoint": display_name(checkpoint, out),
            "n": n,
            "seed": seed,
            "n_train": len(train),
            "n_heldout": len(held),
            "where": st.meta.get("where"),
            "left_out": left_out,
            "detector": {
                "name": type(ctx["detector"]).__name__,
                "params": ctx["detector"].get_params(),
                **detector_check,
            },
            "domain": dom,
            "image_reference": ctx.get("image_reference"),
            "rows": rows,
            "disagreements": disagreements(rows),
        }
        if ladder or automatic_ladder:
            verdict["ladder"] = judge_ladder(model, ctx, n, seed, progress)
            verdict["ladder"]["automatic"] = automatic_ladder
        verdict["ranking"] = rank_verdict(verdict)
        atomic.write_json(tmp / "verdict.json", verdict)
        write_verdict_page(verdict, grids, tmp, links)
    return verdict


def in_order(fn: Callable[[T], R], items: Sequence[T], workers: int = 0) -> Iterator[R]:
    """``fn`` of each item, yielded in order; with ``workers`` > 0 computed by that many
    background threads, taking the items in order, so the caller holds one result while the
    next ones are made (an error is raised where its item comes)."""
    if workers < 1:
        yield from map(fn, items)
        return
    with ThreadPoolExecutor(workers) as pool:
        futures = [pool.submit(fn, item) for item in items]
        try:
            for future in futures:
                yield future.result()
        finally:  # the caller failed or stopped early: items not yet started never run
            for future in futures:
                future.cancel()


def fit_later(
    gen: Any, train: np.ndarray, fitter: ThreadPoolExecutor | None = None
) -> Callable[[], float]:
    """A call that returns the seconds ``gen.fit(train)`` took, once ``gen`` is fitted: the
    fit runs on ``fitter``'s thread (submitted now) or, without one, when called."""

    def fit() -> float:
        t0 = time.perf_counter()
        gen.fit(train)
        return time.perf_counter() - t0

    return fit if fitter is None else fitter.submit(fit).result


def judge_generator(
    name: str, gen: Any, model: Any, ctx: dict[str, Any], n: int, seed: int
) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """Fit ``gen`` on the context's train points, draw ``n`` samples, decode and judge them.

    Returns (the verdict row, the samples (n, N), the decoded images (n, S, S, 3))."""
    fit_seconds = fit_later(gen, ctx["train"])()
    return judge_fitted(name, gen, model, ctx, n, seed, fit_seconds)


def judge_fitted(
    name: str,
    gen: Any,
    model: Any,
    ctx: dict[str, Any],
    n: int,
    seed: int,
    fit_seconds: float = 0.0,
) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """:func:`judge_generator` of a generator already fitted on the context's train points, in
    ``fit_seconds`` (added to the row's ``seconds``)."""
    t0 = time.perf_counter()
    z = gen.sample(n, random_state=seed)
    images, again = decode_and_reencode(model, z)  # one pass of the decoder for both
    row = {"generator": name, "class": type(gen).__name__, "n": n}
    row.update(judge(z, images, again, ctx, seed))
    row.update(likelihood_row(gen, ctx["held"], seed))
    row["fitted"] = gen.fitted_params()
    row["seconds"] = round(fit_seconds + time.perf_counter() - t0, 2)
    return row, z, images


def judge_ladder(
    model: Any, ctx: dict[str, Any], n: int, seed: int, progress: bool = False
) -> dict[str, Any]:
    """Judge the degradation ladder like any generator; ``{"rows": [...], "checks": {metric
    key: check_ladder result}}``."""
    rungs = degradation_ladder().items()
    rows = [
        judge_generator(name, gen, model, ctx, n, seed)[0]
        for name, gen in tqdm(rungs, desc="ladder", unit="rung", disable=not progress)
    ]
    return {"rows": rows, "checks": check_all({r["generator"]: r for r in rows})}


def display_name(checkpoint: str | os.PathLike | ModelSpec | TorchLatentModel, out: Path) -> str:
    """The model as reports name it: the bundled name, a factory's ``package.module:factory``,
    or its path relative to ``out`` (no absolute machine paths in files that are shared or
    published)."""
    from latentatlas.models.checkpoint import checkpoint_path

    if isinstance(checkpoint, TorchLatentModel):
        if checkpoint.spec is None:
            return checkpoint.name
        checkpoint = checkpoint.spec
    spec = as_spec(checkpoint)
    source = spec.source
    if (source in NAMES and not Path(source).exists()) or spec.is_factory:
        return source
    path = checkpoint_path(source) if spec_kind(spec) == "checkpoint" else Path(source)
    target = os.path.abspath(path)
    try:
        return Path(os.path.relpath(target, os.path.abspath(out))).as_posix()
    except ValueError:  # another drive (Windows): no relative path exists
        return Path(target).name


def disagreements(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Where the latent k-NN metrics and the decoded face rate tell different stories (none
    where the face rate does not apply)."""
    notes = []
    for r in rows:
        if r.get("face_rate") is None:
            continue
        if r["precision"] >= 0.5 and r["face_rate"] < 0.5:
            notes.append(
                f"{r['generator']}: latent precision {r['precision']:.2f} says the points "
                f"sit in the data region, yet only {r['face_rate']:.0%} decode to faces."
            )
        elif r["precision"] < 0.2 and r["face_rate"] >= 0.5:
            notes.append(
                f"{r['generator']}: latent precision is only {r['precision']:.2f}, yet "
                f"{r['face_rate']:.0%} decode to faces: in 256 dimensions k-NN balls "
                "miss points that the decoder still maps to faces."
            )
    return notes
