"""How one set of generated z-points is judged, in z and on its decoded images.

In z, against the *held-out* real z-points (never the fitted ones): a classifier two-sample test,
MMD, k-NN precision/recall/density/coverage, the Mahalanobis tail, spread, re-encoding drift,
copy distance, the distance between persistence diagrams (H0, H1), and the Haar face rate of the
decoded images (a sanity check only: it fails the degradation ladder). The face judges
(:data:`~latentatlas.verdict.judges.FACE_JUDGES`) and the face rate run only where the decoded
held-out images are faces (:func:`face_domain`). On the decoded images, by
judges the autoencoder did not make (:mod:`latentatlas.verdict.judges`): per feature network a
Fréchet distance, precision/recall/density/coverage and a two-sample accuracy, the
attribute-marginal gap for the attribute classifier, and an image-space CNN two-sample test. The
image reference is the decoded held-out codes (so the decoder's own blur is not counted against a
generator); decoded *train* codes give the ceiling (a perfect generator's score) and noise images
the floor, both judged exactly like a generator.
Every number comes with a 95 % interval (``<key>_ci``): Wilson for shares and accuracies, the
bootstrap for the rest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from latentatlas.analysis.ppca import gaussian_model
from latentatlas.core.rng import stream
from latentatlas.metrics import prdc
from latentatlas.metrics.fidelity import copy_distance, mahalanobis_tail, reencoding_drift
from latentatlas.metrics.frechet import FrechetReference, frechet_route, frechet_test
from latentatlas.metrics.intervals import bootstrap_interval, wilson_interval
from latentatlas.metrics.kid import kernel_inception_distance
from latentatlas.metrics.likelihood import heldout_log_likelihood
from latentatlas.metrics.mmd import mmd_test
from latentatlas.metrics.topology import topology_distance
from latentatlas.metrics.two_sample import classifier_two_sample_test
from latentatlas.models import as_latent_model
from latentatlas.models.decode import decode, reencode
from latentatlas.verdict.judges import (
    DOMAINS,
    FACE_DOMAIN_THRESHOLD,
    FACE_JUDGES,
    FACE_N,
    IMAGE_JUDGES,
    JUDGE_N,
    available_judges,
    make_judge,
)
from latentatlas.verdict.judges.haar import FaceDetector, face_rate
from latentatlas.verdict.ranking import spread_ratio

N_BOOT = 50
# Stream purpose (core.rng.stream): the ceiling's train codes and the floor's noise images.
IMAGE_REFERENCE_STREAM = 13


def face_domain(
    images: np.ndarray,
    detector: FaceDetector,
    domain: str = "auto",
    skipped: Sequence[str] = (),
) -> dict[str, Any]:
    """Whether the face judges apply to a verdict whose reference is ``images`` (the decoded
    held-out codes): the Haar face rate of the images against :data:`FACE_DOMAIN_THRESHOLD`, or
    ``domain`` ("faces", "other") when given. ``skipped``: the face judges asked for that will
    not run. Returns the record verdict.json keeps (``faces``, ``reference_face_rate``, ``n``,
    ``threshold``, ``decided_by``, ``skipped_judges``, ``reason``: one line for the page)."""
    if domain not in DOMAINS:
        raise ValueError(f"domain must be one of {', '.join(DOMAINS)}, got {domain!r}")
    rate = face_rate(images, detector)
    measured = f"Haar face rate {rate:.1%} of {len(images)}"
    faces = rate >= FACE_DOMAIN_THRESHOLD if domain == "auto" else domain == "faces"
    judges = f"the face judges ({', '.join(FACE_JUDGES)}, face rate)"
    if domain != "auto":
        reason = f"domain given as {domain} ({measured} decoded held-out images): " + (
            f"{judges} run" if faces else f"{judges} do not apply"
        )
    elif faces:
        reason = (
            f"decoded held-out images are faces ({measured} >= "
            f"{FACE_DOMAIN_THRESHOLD:.0%}): {judges} apply"
        )
    else:
        reason = (
            f"decoded held-out images are not faces ({measured} < "
            f"{FACE_DOMAIN_THRESHOLD:.0%}): {judges} do not apply"
        )
    return {
        "faces": bool(faces),
        "reference_face_rate": rate,
        "n": len(images),
        "threshold": FACE_DOMAIN_THRESHOLD,
        "decided_by": "Haar face rate" if domain == "auto" else "given",
        "skipped_judges": [] if faces else list(skipped),
        "reason": reason,
    }


def judging_context(
    model: Any,
    train: np.ndarray,
    held: np.ndarray,
    *,
    judges: Sequence[str] | None = None,
    judge_n: int = JUDGE_N,
    face_n: int = FACE_N,
    seed: int = 0,
    feature_weights: Mapping[str, str] | None = None,
    verify: bool = True,
    domain: str = "auto",
) -> dict[str, Any]:
    """What :func:`judge` measures every generator against (shared so that benches judge alike).

    judges: image judges to run (default every one installed, :func:`available_judges`; ``()``
    for z-space numbers only). feature_weights: judge name -> weights path for the judges whose
    weights the user brings (``WEIGHTED_JUDGES``), checked against their published sha256 unless
    ``verify`` is False. The held-out codes are decoded once as the image reference;
    :func:`face_domain` decides on them whether the face judges and the face rate apply
    (``domain``: "auto", "faces" or "other"; ``ctx["domain"]``): where not, a face judge is not
    run even when named. The ceiling (decoded train codes) and floor (uniform noise images) are
    judged here.
    """
    model = as_latent_model(model)
    weights = dict(feature_weights or {})
    judges = available_judges(weights) if judges is None else tuple(judges)
    unknown = [j for j in (*judges, *weights) if j not in IMAGE_JUDGES]
    if unknown:
        raise ValueError(f"unknown image judge {unknown[0]!r}; choose from {IMAGE_JUDGES}")
    ctx: dict[str, Any] = {
        "train": train,
        "held": held,
        "held_reencoded": reencode(model, held),
        # Fitted once for every generator's Mahalanobis tail (minutes at N = 4,096 otherwise).
        "train_gaussian": gaussian_model(train),
        "detector": FaceDetector(),
        "judges": {},
        "seed": seed,
        # The Haar face rate, a sanity check only, sees as many images as the image judges.
        "judge_n": int(judge_n),
    }
    n_img = min(int(judge_n), len(held))
    ref_images = decode(model, held[:n_img])
    ctx["ref_images"] = ref_images
    skipped = [j for j in judges if j in FACE_JUDGES]
    ctx["domain"] = face_domain(ref_images, ctx["detector"], domain, skipped)
    if not ctx["domain"]["faces"]:
        judges = tuple(j for j in judges if j not in FACE_JUDGES)
    if not judges:
        return ctx
    rng = stream(seed, IMAGE_REFERENCE_STREAM)
    for name in judges:
        n = min(n_img, int(face_n)) if name == "faces" else n_img
        entry: dict[str, Any] = {"n": n}
        if name != "cnn":
            net = make_judge(name, weights.get(name), verify=verify, device=str(model.device))
            entry["net"] = net
            entry["title"] = net.title
            entry["protocol"] = getattr(net, "protocol", {})
            entry.update(_describe(net, ref_images[:n], "ref"))
            # The reference's moments and square root, once for every generator.
            entry["ref_frechet"] = FrechetReference(entry["ref_features"])
        else:
            entry["title"] = "a small CNN trained to tell the images from the reference"
        ctx["judges"][name] = entry
    ceiling_z = train[rng.choice(len(train), size=n_img, replace=False)]
    noise = rng.integers(0, 256, size=ref_images.shape, dtype=np.uint8)
    ctx["image_reference"] = {
        "reference": "decoded held-out codes",
        "n": n_img,
        "ceiling": judge_images(decode(model, ceiling_z), ctx),
        "floor": judge_images(noise, ctx),
        "judges": {name: _reference_entry(e) for name, e in ctx["judges"].items()},
    }
    return ctx


def _reference_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """A judge's line in verdict.json: its image count, title and, for a feature network, how
    the Fréchet distance is computed (:func:`~latentatlas.metrics.frechet.frechet_route`) and
    the protocol behind its numbers (feature space, sample counts, reference set, resize)."""
    out = {"n": entry["n"], "title": entry["title"]}
    if "ref_features" in entry:
        n, d = entry["ref_features"].shape
        out["fd_route"] = frechet_route(d, n, n)
        out["protocol"] = {
            "features": entry["title"],
            "resize": "not stated by the judge",
            **entry["protocol"],
            "dim": d,
            "n_reference": n,
            "n_generated": n,  # the most a generator is judged on (compare sets its own)
            "reference": "decoded held-out codes",
        }
    return out


def _describe(net: Any, images: np.ndarray, prefix: str) -> dict[str, np.ndarray]:
    if hasattr(net, "features_and_proba"):
        feats, proba = net.features_and_proba(images)
        return {f"{prefix}_features": feats, f"{prefix}_proba": proba}
    return {f"{prefix}_features": net.features(images)}


def judge_images(images: np.ndarray, ctx: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Image-space numbers of decoded images (m, S, S, 3) uint8 against the reference, per judge
    of ``ctx`` (the first ``n`` images each judge takes)."""
    from latentatlas.verdict.judges.image_two_sample import image_two_sample_test

    seed = ctx["seed"]
    out: dict[str, dict[str, Any]] = {}
    for name, entry in ctx["judges"].items():
        mine = images[: entry["n"]]
        if name == "cnn":
            two = image_two_sample_test(ctx["ref_images"], mine, random_state=seed)
            out[name] = {
                "two_sample_accuracy": two["accuracy"],
                "two_sample_accuracy_ci": list(two["ci95"]),
                "two_sample_p": two["p_value"],
            }
            continue
        got = _describe(entry["net"], mine, "gen")
        out[name] = feature_metrics(
            entry["ref_features"], got["gen_features"], seed, entry.get("ref_frechet")
        )
        if "ref_proba" in entry:
            out[name].update(
                attribute_gap(entry["ref_proba"], got["gen_proba"], entry["net"], seed)
            )
    return out


def feature_metrics(
    ref: np.ndarray, gen: np.ndarray, seed: int, frechet_ref: FrechetReference | None = None
) -> dict[str, Any]:
    """Fréchet distance, precision/recall/density/coverage and an MLP two-sample test between
    reference features (n, d) and generated features (m, d); ``frechet_ref``: ``ref``'s
    :class:`FrechetReference`, when it was computed once for every generator."""
    # The reference is shared by every generator: only the generated side's noise separates them.
    fixed = frechet_ref if frechet_ref is not None else ref
    fd = frechet_test(fixed, gen, n_boot=N_BOOT, random_state=seed, resample_a=False)
    manifold = prdc(ref, gen, k=5)
    two = classifier_two_sample_test(ref, gen, cv=2, random_state=seed)
    # torch-fidelity's KID (subsets of up to 1,000 points, 100 of them), with the verdict's seed.
    kid = kernel_inception_distance(ref, gen, seed=seed)
    n_ref, n_gen = len(ref), len(gen)
    return {
        "fd": fd["fd"],
        "fd_ci": list(fd["ci95"]),
        "kid": kid["kid"],
        "kid_ci": list(kid["ci95"]),
        "kid_std": kid["kid_std"],
        "kid_se": kid["se"],
        "kid_subsets": [kid["subsets"], kid["subset_size"]],
        "precision": manifold["precision"],
        "precision_ci": list(wilson_interval(manifold["precision"], n_gen)),
        "recall": manifold["recall"],
        "recall_ci": list(wilson_interval(manifold["recall"], n_ref)),
        "density": manifold["density"],
        "coverage": manifold["coverage"],
        "coverage_ci": list(wilson_interval(manifold["coverage"], n_ref)),
        "two_sample_accuracy": two["accuracy"],
        "two_sample_accuracy_ci": list(two["ci95"]),
        "two_sample_p": two["p_value"],
    }


def attribute_gap(
    ref_proba: np.ndarray, gen_proba: np.ndarray, net: Any, seed: int
) -> dict[str, Any]:
    """Mean |p_generated - p_reference| over the attributes (the share of images the classifier
    calls positive, from probabilities (n, A) and (m, A)), and the three worst by name."""

    def shares(proba: np.ndarray) -> np.ndarray:
        return (proba > 0.5).mean(axis=0)

    def gap(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.abs(shares(a) - shares(b)).mean())

    p_ref, p_gen = shares(ref_proba), shares(gen_proba)
    worst = np.argsort(-np.abs(p_gen - p_ref))[:3]
    names = list(getattr(net, "attribute_names_", [f"attribute {i}" for i in range(len(p_ref))]))
    return {
        "attribute_gap": gap(ref_proba, gen_proba),
        "attribute_gap_ci": list(
            bootstrap_interval(gap, (ref_proba, gen_proba), n_boot=N_BOOT, random_state=seed)
        ),
        "worst_attributes": [
            {"name": names[i], "generated": float(p_gen[i]), "reference": float(p_ref[i])}
            for i in worst
        ],
    }


def judge(
    z: np.ndarray,
    images: np.ndarray,
    z_reencoded: np.ndarray,
    ctx: dict[str, Any],
    seed: int,
) -> dict[str, Any]:
    """All verdict numbers for one set of generated z-points (m, N) and their decoded images."""
    held, train = ctx["held"], ctx["train"]
    # With the per-class Gaussian scores as extra inputs: the plain MLP could not tell mvn at
    # temperature 1.5 from held-out points (300 samples: 0.512 against 0.517 at temperature 1);
    # with them it can (0.557 against 0.487), and held-out-like samples stay at 0.5.
    two = classifier_two_sample_test(held, z, random_state=seed, gaussian_features=True)
    manifold = prdc(held, z, k=5)
    drift = reencoding_drift(z, z_reencoded, held, ctx["held_reencoded"])
    copy = copy_distance(z, train, held)
    mmd = mmd_test(held, z, random_state=seed)
    # None where the reference images are not faces: a face rate would say nothing there.
    faces, faces_ci = None, None
    if ctx.get("domain", {}).get("faces", True):
        shown = images[: ctx.get("judge_n")]
        faces = face_rate(shown, ctx["detector"])
        faces_ci = list(wilson_interval(faces, len(shown)))
    tail = mahalanobis_tail(held, z, fit_on=ctx.get("train_gaussian", train))
    topo = topology_distance(held, z, random_state=seed)
    m = len(z)
    row: dict[str, Any] = {
        "face_rate": faces,
        "face_rate_ci": faces_ci,
        "two_sample_accuracy": two["accuracy"],
        "two_sample_accuracy_ci": list(two["ci95"]),
        "two_sample_p": two["p_value"],
        "two_sample_n": 2 * two["n_per_class"],
        "mahalanobis_tail": tail,
        "mahalanobis_tail_ci": list(wilson_interval(tail, m)),
        "precision": manifold["precision"],
        "precision_ci": list(wilson_interval(manifold["precision"], m)),
        "recall": manifold["recall"],
        "recall_ci": list(wilson_interval(manifold["recall"], len(held))),
        "density": manifold["density"],
        "coverage": manifold["coverage"],
        "coverage_ci": list(wilson_interval(manifold["coverage"], len(held))),
        "reencoding_drift": drift["drift_ratio"],
        "copy_distance": copy["copy_distance"],
        "spread": spread_ratio(z, held),
        "spread_ci": list(
            bootstrap_interval(spread_ratio, (z, held), n_boot=N_BOOT, random_state=seed)
        ),
        "mmd2": mmd["mmd2"],
        "mmd2_ci": list(mmd["ci95"]),
        "mmd_p": mmd["p_value"],
        "topology_h0": topo["h0"],
        "topology_h1": topo["h1"],
    }
    if ctx.get("judges"):
        row["image"] = judge_images(images, ctx)
    return row


def likelihood_row(gen: Any, held: np.ndarray, seed: int = 0) -> dict[str, Any]:
    """The held-out log-likelihood entries of a verdict row (JSON-ready: None, not -inf)."""
    scores = gen.score_samples(held)
    ll = heldout_log_likelihood(scores, held.shape[1])
    per_dim = ll["nats_per_dim"]
    finite = bool(np.isfinite(per_dim))
    dim = held.shape[1]
    return {
        "loglik_per_dim": per_dim if finite else None,
        "loglik_per_dim_ci": list(
            bootstrap_interval(lambda s: float(s.mean() / dim), (scores,), random_state=seed)
        )
        if finite
        else None,
        "loglik_in_support": ll["share_in_support"],
    }
